"""ONNX export with a PyTorch-vs-ONNX Runtime parity check, int8 quantization,
and latency measurement of the file Go will serve."""

from __future__ import annotations

import logging
import random
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from switchboard_training.tok import Batch, Encoder

OPSET = 17
PARITY_TOLERANCE = 1e-4
INPUT_NAMES: tuple[str, str] = ("input_ids", "attention_mask")
OUTPUT_NAME = "logits"


class ParityError(RuntimeError):
    """ParityError is an exported graph whose outputs differ from PyTorch's."""


def export(model: nn.Module, path: Path, example: Batch) -> None:
    """export writes model as ONNX (opset 17) with dynamic batch and sequence axes."""
    model.eval()
    ids = torch.from_numpy(example.input_ids)
    mask = torch.from_numpy(example.attention_mask)
    axes = {0: "batch", 1: "sequence"}
    # The TorchScript exporter (dynamo=False is deliberate: it handles the
    # dynamic axes of these small graphs reliably) warns that it is legacy and
    # about every Slice it cannot constant-fold; parity is checked afterwards.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (ids, mask),
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAMES[0]: axes, INPUT_NAMES[1]: axes, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """session opens path on the CPU with a fixed thread count (reproducible timings)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def run(sess: ort.InferenceSession, batch: Batch) -> np.ndarray:
    """run returns the session's first output for one encoded batch."""
    return sess.run(None, {INPUT_NAMES[0]: batch.input_ids, INPUT_NAMES[1]: batch.attention_mask})[0]


def parity_batches(encoder: Encoder, texts: Sequence[str], n: int, seed: int, max_batch: int = 16) -> list[Batch]:
    """parity_batches builds n batches of real texts, of varied sizes and so varied padding."""
    if not texts:
        raise ValueError("no texts for the parity check")
    rng = random.Random(seed)
    rows = encoder.ids(texts)
    out = []
    for i in range(n):
        size = 1 if i % 4 == 0 else rng.randint(1, max_batch)  # batch 1 is what single requests see
        out.append(encoder.pad([rows[rng.randrange(len(rows))] for _ in range(size)]))
    return out


def check_parity(model: nn.Module, path: Path, batches: Sequence[Batch], tolerance: float = PARITY_TOLERANCE) -> float:
    """check_parity runs batches through PyTorch and ONNX Runtime and returns the
    largest absolute logit difference; above tolerance it raises ParityError."""
    model.eval()
    sess = session(path)
    worst = 0.0
    with torch.no_grad():
        for b in batches:
            want = model(torch.from_numpy(b.input_ids), torch.from_numpy(b.attention_mask)).numpy()
            got = run(sess, b)
            if got.shape != want.shape:
                raise ParityError(f"{path}: ONNX output shape {got.shape}, PyTorch {want.shape}")
            worst = max(worst, float(np.abs(got - want).max()))
    if not np.isfinite(worst) or worst > tolerance:
        raise ParityError(f"{path}: ONNX Runtime differs from PyTorch by {worst:.3g} (> {tolerance:g})")
    return worst


def quantize(src: Path, dst: Path) -> None:
    """quantize writes dst, src with int8 (QInt8) weights and dynamic activation quantization."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer logs warnings on the root logger for every tensor it
    # leaves in float (shape arithmetic, norms); they are expected noise.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


def measure(
    path: Path, vocab_size: int, pad_id: int, seq_len: int = 64, threads: int = 2,
    single_runs: int = 200, batch: int = 64, batch_runs: int = 10, seed: int = 0,
) -> dict[str, object]:
    """measure times single requests (batch 1, seq_len tokens, p50/p99 ms) and
    batched throughput (rows per second at batch size batch) on threads threads.

    Token values do not change the cost, so ids are random non-special ids.
    """
    sess = session(path, threads)
    rng = np.random.default_rng(seed)
    low = min(5, vocab_size - 1)

    def mk(b: int) -> Batch:
        ids = rng.integers(low, vocab_size, size=(b, seq_len), dtype=np.int64)
        ids[ids == pad_id] = low
        return Batch(ids, np.ones((b, seq_len), dtype=np.int64))

    one = mk(1)
    for _ in range(10):
        run(sess, one)
    lat = []
    for _ in range(single_runs):
        t0 = time.perf_counter()
        run(sess, one)
        lat.append((time.perf_counter() - t0) * 1000)
    big = mk(batch)
    run(sess, big)
    t0 = time.perf_counter()
    for _ in range(batch_runs):
        run(sess, big)
    elapsed = time.perf_counter() - t0
    return {
        "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 3), "p99": round(float(np.percentile(lat, 99)), 3)},
        "throughput_per_s": round(batch * batch_runs / elapsed, 1),
        "latency_setup": {"batch": 1, "tokens": seq_len, "intra_op_threads": threads, "throughput_batch": batch},
    }
