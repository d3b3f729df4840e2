"""Tests of the speech pipeline (switchboard_training.asr): synthesis,
features, the receptive field, training + export parity, tokens, metrics."""

from __future__ import annotations

import random
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from switchboard_training.asr import features, metrics, texts
from switchboard_training.asr.model import CTCModel, ModelConfig, Tokens, receptive_field

TINY = ModelConfig(channels=32, kernels=(3, 5, 7), head=48, dropout=0.0)


def test_normalize_spells_numbers_and_drops_punctuation():
    rng = random.Random(0)
    assert texts.normalize("Order #12345678, the 3rd of May!", "en", rng).split()[:3] == ["order", "one", "two"]
    assert "third of may" in texts.normalize("the 3rd of May", "en", rng)
    assert texts.normalize("退款15元，iPhone好用", "zh", rng) == "退款十五元 iphone 好用"
    assert texts.zh_number(305) == "三百零五" and texts.zh_number(12) == "十二"
    assert texts.en_number(305) == "three hundred five"
    assert texts.spell_digits("1310", "zh", random.Random(1), phone=True) in ("幺三幺零", "一三一零")
    assert texts.date_text(11, 3, "zh", random.Random(0)) in ("十一月三号", "十一月三日")


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox")
def test_synthesis_makes_8khz_telephone_audio(tmp_path: Path):
    from switchboard_training.asr import synth

    sets = texts.TextSets(train=[texts.Utterance("我想查一下订单", "zh", "intent"),
                                 texts.Utterance("yes please", "en", "yesno"),
                                 texts.Utterance("幺三八零", "zh", "phone", digits="1380")],
                          dev=[], test=[], intent_test=[], digits_test=[])
    jobs = synth.plan("train", sets.train, tmp_path, 1, sets.train)
    for j in jobs:
        j.noise, j.snr_db = "babble", 15.0
        j.babble = [("cmn+m3", "你好"), ("en-us+f2", "hello there")]
        row = synth.render(j)
        with wave.open(row["audio"]) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            n = w.getnframes()
        # Speech plus 0.1-0.8 s of padding at 0.9-1.1x speed: between 0.4 and 6 s.
        assert 0.4 < n / 8000 < 6.0, (row["text"], n / 8000)
        assert row["voice"].split("+")[1] in synth.TRAIN_VARIANTS
    assert not set(synth.TRAIN_VARIANTS) & set(synth.TEST_VARIANTS)


def test_features_follow_the_contract():
    x = np.random.default_rng(0).uniform(-0.5, 0.5, 12345).astype(np.float32)
    f = features.fbank(x)
    assert f.shape == (features.num_frames(12345), 80) == (154, 80)
    assert features.num_frames(8000) == 100 and features.num_frames(8039) == 100 and features.num_frames(8040) == 101
    import torchaudio

    want = torchaudio.compliance.kaldi.fbank(
        torch.from_numpy(x * 32768).unsqueeze(0), sample_frequency=8000, num_mel_bins=80, frame_length=25,
        frame_shift=10, dither=0.0, snip_edges=False, low_freq=20, high_freq=-400, window_type="povey",
        preemphasis_coefficient=0.97, remove_dc_offset=True).numpy()
    np.testing.assert_array_equal(f, want)
    assert features.FBANK_OPTIONS["sample_rate"] == 8000 and features.FBANK_OPTIONS["high_freq"] == -400


def test_receptive_field_is_exact():
    torch.manual_seed(0)
    m = CTCModel(10, TINY)
    for mod in m.modules():  # random BatchNorm statistics, so nothing is trivially zero
        if isinstance(mod, torch.nn.BatchNorm1d):
            mod.running_mean.uniform_(-1, 1)
            mod.running_var.uniform_(0.5, 2)
    m.eval()
    left, right = receptive_field(TINY)
    assert (left, right) == (4 * (1 + 2 + 3) + 6, 4 * (1 + 2 + 3) + 6)
    t = 200
    x = torch.randn(1, t, 80)
    xl = torch.tensor([t])
    with torch.no_grad():
        base = m(x, xl)[0][0]
        for j in (20, 25, 30):
            lo, hi = 4 * j - left, 4 * j + right
            y = x.clone()
            y[:, :lo] += torch.randn(1, lo, 80) * 5
            y[:, hi + 1 :] += torch.randn(1, t - hi - 1, 80) * 5
            assert torch.allclose(m(y, xl)[0][0, j], base[j], atol=1e-5), j
            # The window is tight: its edge frames do change output j.
            for edge in (lo, hi):
                z = x.clone()
                z[:, edge] += 50
                assert not torch.allclose(m(z, xl)[0][0, j], base[j], atol=1e-5), (j, edge)


def test_padding_does_not_change_a_row():
    torch.manual_seed(1)
    m = CTCModel(10, TINY).eval()
    x = torch.randn(2, 90, 80)
    xl = torch.tensor([90, 57])
    with torch.no_grad():
        lp, ll = m(x, xl)
        alone, alone_len = m(x[1:, :57], xl[1:])
    assert ll.tolist() == [23, 15] and alone_len.tolist() == [15]
    assert torch.allclose(lp[1, :15], alone[0], atol=1e-5)


def test_tokens_round_trip(tmp_path: Path):
    tok = Tokens.build(["我想退款", "hello 世界"])
    assert tok.symbols[:3] == ("<blk>", "\u2581", "a") and "幺" in tok.symbols
    tok.save(tmp_path / "tokens.txt")
    back = Tokens.load(tmp_path / "tokens.txt")
    assert back == tok
    ids, dropped = tok.encode("我想 refund 退款 ok")
    assert dropped == 0 and tok.decode(ids) == "我想 refund 退款 ok"
    assert ids.count(tok.index["\u2581"]) == 3
    assert tok.encode("我想买")[1] == 1  # 买 is not in the vocabulary


def test_error_rates():
    assert metrics.edit_distance(list("abc"), list("axcd")) == (2, 1, 0, 1)
    zh = metrics.error_rate([(metrics.score_units("我 想退款", "zh"), metrics.score_units("我要退款了", "zh"))])
    assert (zh["sub"], zh["ins"], zh["ref_units"]) == (1, 1, 4) and zh["rate"] == 0.5
    en = metrics.error_rate([(metrics.score_units("i want a refund", "en"), metrics.score_units("i want refund", "en"))])
    assert en["rate"] == 0.25 and en["del"] == 1
    mixed = metrics.score_units("我的 package 没到", "mixed")
    assert mixed == ["我", "的", "package", "没", "到"]


def test_tiny_model_trains_exports_and_matches_onnx(tmp_path: Path):
    import logging

    from switchboard_training.asr.export import check_parity, export_onnx
    from switchboard_training.asr.train import Encoded, TrainConfig, fit

    rng = np.random.default_rng(0)
    tok = Tokens.build(["你好"])
    lens = rng.integers(40, 120, 12)
    frames = rng.standard_normal((int(lens.sum()), 80)).astype(np.float16) + 8
    offsets = np.concatenate([[0], np.cumsum(lens)])
    rows = [{"text": random.Random(i).choice(["你好", "hello", "你 ok"]), "id": f"u{i}"} for i in range(12)]
    store = features.FeatureStore(frames, offsets, rows)
    enc = Encoded(store, [tok.encode(r["text"])[0] for r in rows])
    res = fit(enc, enc, tok, TINY, TrainConfig(max_minutes=0.2, epochs=3, batch_frames=400, threads=1),
              logging.getLogger("test"), progress=False)
    assert res.steps > 0
    meta = export_onnx(res.model, tok, tmp_path / "model.onnx", "test.1")
    assert meta["left_context"] == str(receptive_field(TINY)[0]) and meta["sample_rate"] == "8000"
    x = np.asarray(frames[:300], np.float32).reshape(3, 100, 80)
    diff = check_parity(res.model, tmp_path / "model.onnx", [(x, np.array([100, 80, 33], np.int64)),
                                                            (x[:1, :7], np.array([7], np.int64))])
    assert diff < 1e-4
