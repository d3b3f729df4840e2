"""Architectures: training, padding invariance, ONNX export and the parity check."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from switchboard_training import archs, calibrate, data, onnx_export, train
from switchboard_training.tok import Encoder, train_tokenizer

from conftest import make_rows

LOG = logging.getLogger("test")


def examples(seed: int) -> list[data.Example]:
    return [data.Example(r["text"], r["label"]) for r in make_rows(seed=seed, per_label=30)]


@pytest.mark.parametrize(
    "arch, cfg, ensemble, lr",
    [
        ("textcnn", archs.ArchConfig(embed_dim=24, filters=16, kernel_sizes=(2, 3)), 1, 0.005),
        ("transformer", archs.ArchConfig(d_model=32, heads=4, layers=2, dropout=0.1), 1, 0.005),
        ("textcnn", archs.ArchConfig(embed_dim=16, filters=8, kernel_sizes=(2, 4)), 2, 0.005),
        # A bag of embeddings learns slowly at small lr; 8 epochs of 120 rows need more.
        ("ngrams", archs.ArchConfig(embed_dim=16, buckets=1009, dropout=0.2), 1, 0.02),
    ],
)
def test_arch_learns_exports_and_matches(arch: str, cfg: archs.ArchConfig, ensemble: int, lr: float,
                                         tmp_path: Path) -> None:
    fc = train.FitConfig(arch=arch, arch_config=cfg, vocab_size=300, epochs=8, patience=8, batch_size=16,
                         lr=lr, threads=1, max_length=24, ensemble=ensemble)
    fitted = train.fit(examples(1), examples(2)[:40], fc, LOG, progress=False)
    assert fitted.history and fitted.best_epoch >= 1
    assert {h.get("member") for h in fitted.history} == set(range(1, ensemble + 1))
    assert isinstance(fitted.model, archs.Ensemble) == (ensemble > 1)
    assert fitted.encoder.min_length == {"textcnn": max(cfg.kernel_sizes), "ngrams": 3}.get(arch, 1)
    test = examples(3)
    logits = train.torch_logits(fitted.model, fitted.encoder, [r.text for r in test], len(fitted.labels))
    assert logits.dtype == np.float32 and logits.shape == (len(test), 4)
    acc = float(np.mean([fitted.labels[i] == r.label for i, r in zip(logits.argmax(axis=1), test)]))
    assert acc > 0.8, f"{arch} learned too little: test accuracy {acc}"

    # The same row alone and padded inside a longer batch gives the same logits.
    enc = fitted.encoder
    ids = enc.ids(["退款", "where is my order 12345 please tell me now"])
    alone = fitted.model(*map(torch.from_numpy, (enc.pad(ids[:1]).input_ids, enc.pad(ids[:1]).attention_mask)))
    b = enc.pad(ids)
    together = fitted.model(torch.from_numpy(b.input_ids), torch.from_numpy(b.attention_mask))
    torch.testing.assert_close(alone[0], together[0], atol=1e-5, rtol=0)

    path = tmp_path / "model.onnx"
    onnx_export.export(fitted.model, path, enc.encode(["hello", "你好 世界"]))
    onnx.checker.check_model(str(path))
    batches = onnx_export.parity_batches(enc, [r.text for r in test], 40, seed=0)
    assert len({x.input_ids.shape[1] for x in batches}) > 1, "parity batches must vary in length"
    diff = onnx_export.check_parity(fitted.model, path, batches)
    assert 0 <= diff <= onnx_export.PARITY_TOLERANCE

    # A graph that no longer matches the network fails loudly.
    with torch.no_grad():
        next(p for n, p in fitted.model.named_parameters() if n.endswith("out.bias")).add_(0.01)
    with pytest.raises(onnx_export.ParityError):
        onnx_export.check_parity(fitted.model, path, batches)

    q = tmp_path / "model.int8.onnx"
    onnx_export.quantize(path, q)
    assert q.stat().st_size < path.stat().st_size
    got = onnx_export.run(onnx_export.session(q), batches[0])
    assert got.shape == (batches[0].input_ids.shape[0], 4) and np.isfinite(got).all()


def test_encoder_follows_the_contract() -> None:
    tok = train_tokenizer(["hello world", "hello there", "你好 世界"] * 3, vocab_size=60, max_length=6)
    enc = Encoder(tok, max_length=6, min_length=5)
    ids = enc.ids(["hello", "hello world hello world hello world", ""])
    assert ids[0][0] == 2 and ids[0][-1] == 3 and len(ids[0]) == 3
    assert len(ids[1]) == 6 and ids[1][-1] == 3, "truncation keeps the final [SEP]"
    assert ids[2] == [2, 3]
    b = enc.pad(ids[:1])
    assert b.input_ids.shape == (1, 5) and b.input_ids.dtype == np.int64
    assert b.attention_mask.tolist() == [[1, 1, 1, 0, 0]] and b.input_ids[0, 3:].tolist() == [0, 0]
    assert enc.pad(ids).input_ids.shape == (3, 6)
    assert [tok.token_to_id(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")] == [0, 1, 2, 3, 4]
    assert tok.encode("HELLO").ids == tok.encode("hello").ids, "lower-cased"
    assert tok.encode("你好").tokens == ["[CLS]", "你", "好", "[SEP]"], "CJK characters are words"


def test_calibrated_validation_is_better() -> None:
    """Temperature fitted on validation logits never raises their NLL."""
    fc = train.FitConfig(arch="textcnn", arch_config=archs.ArchConfig(embed_dim=16, filters=8, kernel_sizes=(2,)),
                         vocab_size=200, epochs=3, batch_size=16, threads=1)
    val = examples(5)
    fitted = train.fit(examples(4), val, fc, LOG, progress=False)
    y = np.array([fitted.labels.index(r.label) for r in val])
    lg = train.torch_logits(fitted.model, fitted.encoder, [r.text for r in val], 4)
    t = calibrate.fit_temperature(lg, y)
    assert calibrate.nll(lg, y, t) <= calibrate.nll(lg, y, 1.0) + 1e-9


def test_ngrams_ignore_padding_and_hash_in_range() -> None:
    """NgramBag's answer for a row must not depend on the batch's padding
    (Go pads to the longest row), and its hashed ids must stay in range for
    the largest token ids (int64 arithmetic inside the graph)."""
    torch.manual_seed(1)
    m = archs.build("ngrams", 50_000, 4, 0, 128, archs.ArchConfig(embed_dim=8, buckets=101)).eval()
    ids = torch.tensor([[2, 49_999, 49_998, 7, 3]])
    mask = torch.ones_like(ids)
    alone = m(ids, mask)
    padded = m(torch.cat([ids, torch.zeros(1, 6, dtype=torch.long)], 1),
               torch.cat([mask, torch.zeros(1, 6, dtype=torch.long)], 1))
    assert torch.allclose(alone, padded, atol=1e-6)
    short = m(torch.tensor([[2, 3, 0]]), torch.tensor([[1, 1, 0]]))  # fewer tokens than a trigram
    assert torch.isfinite(short).all()
