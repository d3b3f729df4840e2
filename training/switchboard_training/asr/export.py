"""Export of the CTC model to the contract in docs/asr.md: model.onnx (opset
17, metadata), tokens.txt and card.json, with an ONNX Runtime parity check."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from switchboard_training.asr.features import FBANK_OPTIONS, FEAT_DIM
from switchboard_training.onnx_export import session
from switchboard_training.asr.model import CTCModel, Tokens, receptive_field

OPSET = 17
MODEL_TYPE = "switchboard_ctc"
PARITY_TOLERANCE = 1e-3  # log-probabilities; float32 conv stacks of this depth agree to ~1e-5


class ParityError(RuntimeError):
    """ParityError is an ONNX graph whose output differs from PyTorch's."""


def export_onnx(model: CTCModel, tokens: Tokens, path: Path, version: str) -> dict[str, str]:
    """export_onnx writes model as ONNX with dynamic N and T and the metadata
    the Go recognizer reads; returns the metadata."""
    model.eval()
    x = torch.randn(2, 237, FEAT_DIM) * 3 + model.mean
    x_lens = torch.tensor([237, 150], dtype=torch.int64)
    # The TorchScript exporter (dynamo=False) handles these dynamic axes
    # reliably; parity is checked afterwards anyway.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (x, x_lens), str(path), input_names=["x", "x_lens"], output_names=["log_probs", "log_probs_len"],
            dynamic_axes={"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}, "log_probs": {0: "N", 1: "T_out"},
                          "log_probs_len": {0: "N"}},
            opset_version=OPSET, do_constant_folding=True, dynamo=False,
        )
    left, right = receptive_field(model.cfg)
    meta = {
        **{k: str(v) for k, v in FBANK_OPTIONS.items()},
        "subsampling_factor": "4", "blank_id": "0", "vocab_size": str(len(tokens)),
        "left_context": str(left), "right_context": str(right),
        "model_type": MODEL_TYPE, "language": "zh,en", "version": version,
    }
    m = onnx.load(str(path))
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return meta


def check_parity(model: CTCModel, path: Path, batches: list[tuple[np.ndarray, np.ndarray]],
                 tolerance: float = PARITY_TOLERANCE) -> float:
    """check_parity runs batches (x, x_lens) through PyTorch and ONNX Runtime
    and returns the largest absolute difference of valid log-probabilities;
    above tolerance (or differing lengths) it raises ParityError."""
    sess = session(path)
    worst = 0.0
    model.eval()
    with torch.no_grad():
        for x, xl in batches:
            want, want_len = model(torch.from_numpy(x), torch.from_numpy(xl))
            got, got_len = sess.run(None, {"x": x, "x_lens": xl})
            if got.shape != tuple(want.shape) or not np.array_equal(got_len, want_len.numpy()):
                raise ParityError(f"{path}: ONNX shapes/lengths {got.shape} {got_len} differ from PyTorch "
                                  f"{tuple(want.shape)} {want_len.tolist()}")
            for j, n in enumerate(got_len):
                worst = max(worst, float(np.abs(got[j, :n] - want.numpy()[j, :n]).max()))
    if not np.isfinite(worst) or worst > tolerance:
        raise ParityError(f"{path}: ONNX Runtime differs from PyTorch by {worst:.3g} (> {tolerance:g})")
    return worst


def write_card(path: Path, card: dict) -> None:
    """write_card writes card.json (sorted keys under each section as given)."""
    path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


LIMITATIONS = [
    "Trained only on synthetic speech: espeak-ng voices (formant synthesis) read generated IVR texts, passed "
    "through a simulated phone line (300-3400 Hz, G.711 mu-law) with added noise and reverberation. No human "
    "voice was ever heard in training.",
    "The test metrics are on held-out espeak-ng voices, sentences and noise conditions: they measure "
    "generalisation within synthetic speech, not accuracy on real callers. Expect much higher error rates on "
    "real telephone speech (accents, disfluencies, spontaneous prosody, real codecs and handsets).",
    "The vocabulary is the Chinese characters of the training texts (IVR/customer-service domain) plus "
    "a-z and the apostrophe: characters outside it can never be recognised. English is spelled letter by letter, "
    "so unusual words are often misspelled; constrained decoding (slot grammars, contextual biasing in Go) "
    "is what makes digits, dates and yes/no reliable.",
    "Some generator texts carry deliberate typos (the NLU generator's written-style noise, e.g. 'srevice', "
    "'witthout'); espeak-ng reads them phonetically while the transcript keeps the misspelling, which "
    "teaches wrong spellings and inflates the English WER. Filtering typo'd rows out of texts.py is the "
    "first fix for the next version.",
    "Closing the gap to real callers: (1) drop in a pretrained sherpa-onnx zipformer CTC model (same contract, "
    "docs/asr.md), e.g. sherpa-onnx-zipformer-ctc-zh-int8-2025-07-03; or (2) fine-tune this model on recorded "
    "calls: a manifest of WAV + transcript pairs, `switchboard-train asr train --init models/asr/<version> "
    "--manifest calls.jsonl` (training/README.md).",
]
