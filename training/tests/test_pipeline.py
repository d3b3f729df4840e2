"""End to end: train through the CLI, check the directory against docs/models.md,
score it, promote and roll back."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from switchboard_training import cli, data, evaluate, onnx_export, promote
from switchboard_training.tok import load_tokenizer

from conftest import make_rows, write_jsonl

LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (INFO|WARNING) ")
CARD_FIELDS = ("task", "version", "kind", "architecture", "created_at", "inputs", "outputs", "max_length",
               "min_length", "pad_id", "calibration", "thresholds", "data", "training", "metrics", "onnx")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict | None, str]:
    rc = cli.main(list(args))
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if out.strip() else None), err


def test_model_dir_follows_contract(models: Path) -> None:
    d = models / "intent" / "v2"
    assert sorted(p.name for p in d.iterdir()) == ["card.json", "confusion.png", "labels.json", "model.onnx",
                                                    "tokenizer.json"]
    card = json.loads((d / "card.json").read_text())
    labels = json.loads((d / "labels.json").read_text())
    for f in CARD_FIELDS:
        assert f in card, f"card.json lacks {f}"
    assert (card["task"], card["version"], card["kind"], card["architecture"]) == ("intent", "v2", "classifier",
                                                                                   "textcnn")
    assert sorted(labels) == ["account_problem", "order_status", "out_of_scope", "return_refund"]
    assert card["out_of_scope_label"] == "out_of_scope"
    assert set(card["thresholds"]) == {"confidence", "out_of_scope"}
    assert card["min_length"] == 5 and card["pad_id"] == 0 and card["max_length"] == 128

    g = onnx.load(str(d / "model.onnx")).graph
    assert [i.name for i in g.input] == [x["name"] for x in card["inputs"]] == ["input_ids", "attention_mask"]
    assert [o.name for o in g.output] == [x["name"] for x in card["outputs"]] == ["logits"]
    assert [x["dtype"] for x in card["inputs"]] == ["int64", "int64"]
    assert card["outputs"][0]["dtype"] == "float32"
    assert card["outputs"][0]["shape"] == [-1, len(labels)]
    assert card["inputs"][0]["shape"] == [-1, -1]
    assert onnx.load(str(d / "model.onnx")).opset_import[0].version == 17

    tok = json.loads((d / "tokenizer.json").read_text())
    assert tok["padding"] is None, "padding must not be in the saved tokenizer"
    assert tok["truncation"]["max_length"] == card["max_length"]
    assert [tok["model"]["vocab"][t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")] == [0, 1, 2, 3, 4]

    m = card["metrics"]
    assert 0.9 <= m["accuracy"] <= 1 and 0 <= m["macro_f1"] <= 1 and 0 <= m["ece"] <= 1
    assert set(m["per_class"]) == set(labels)
    assert sum(v["support"] for v in m["per_class"].values()) == card["data"]["test_rows"]
    assert np.array(m["confusion"]).sum() == card["data"]["test_rows"]
    assert m["latency_ms"]["p50"] > 0 and m["latency_ms"]["p99"] >= m["latency_ms"]["p50"]
    assert m["throughput_per_s"] > 0
    assert "oos_recall" in m and "false_oos_rate" in m
    o = card["onnx"]
    assert o["opset"] == 17 and o["quantized"] is False and 0 <= o["parity_max_abs_diff"] <= 1e-4
    assert math.isclose(o["delta"], o["accuracy_int8"] - o["accuracy_fp32"])
    assert card["calibration"]["temperature"] > 0
    assert card["training"]["seed"] == 13 and card["training"]["epochs_run"] >= 1
    assert card["data"]["cleaning"]["read"] == 160
    assert card["data"]["train_rows"] + card["data"]["val_rows"] + card["data"]["test_rows"] == \
        card["data"]["cleaning"]["kept"] < 160, "duplicates are dropped"


def test_onnx_scores_like_serving(models: Path) -> None:
    """A row's logits must not depend on its batch's padding (Go batches as it likes),
    and every row must be finite."""
    clf = evaluate.OnnxClassifier(models / "intent" / "v2")
    texts = ["退", "where is my order 123 and when will it finally arrive at my house " * 3, "退款"]
    rows = clf.encoder.ids(texts)
    assert len(rows[0]) == 3 and rows[0][0] == 2 and rows[0][-1] == 3
    alone = [onnx_export.run(clf.session, clf.encoder.pad([r]))[0] for r in rows]
    together = onnx_export.run(clf.session, clf.encoder.pad(rows))
    assert clf.encoder.pad([rows[0]]).input_ids.shape == (1, 5), "short batches are padded to min_length"
    np.testing.assert_allclose(np.stack(alone), together, atol=1e-5)
    assert np.isfinite(together).all()


def test_evaluate_and_compare(models: Path, dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, res, _ = run_cli(capsys, "evaluate", "--model", str(models / "intent" / "v2"), "--data", str(dataset))
    assert rc == 0
    assert res["n"] == len(data.clean(data.load(dataset))[0])
    for k in ("accuracy", "macro_f1", "oos_recall", "in_scope_accuracy", "needs_review_rate", "per_class"):
        assert k in res, k
    assert res["accuracy"] > 0.9 and res["unknown_labels"] == 0

    # Labels the model does not know: out of scope with --oos-label, errors without.
    rows = make_rows(seed=99, per_label=5)
    for r in rows:
        if r["label"] == "out_of_scope":
            r["label"] = "chitchat"
    f = write_jsonl(tmp_path / "unknown.jsonl", rows)
    rc, with_oos, _ = run_cli(capsys, "evaluate", "--model", str(models / "intent" / "v2"), "--data", str(f),
                              "--oos-label", "out_of_scope")
    assert rc == 0 and with_oos["unknown_labels"] == 0 and "chitchat" not in with_oos["per_class"]
    assert with_oos["oos_recall"] > 0.5
    card = json.loads((models / "intent" / "v2" / "card.json").read_text())
    d2 = tmp_path / "nooos"
    shutil.copytree(models / "intent" / "v2", d2)
    del card["out_of_scope_label"]
    (d2 / "card.json").write_text(json.dumps(card))
    rc, without, _ = run_cli(capsys, "evaluate", "--model", str(d2), "--data", str(f))
    assert rc == 0 and without["unknown_labels"] == 5 and without["per_class"]["chitchat"]["recall"] == 0
    assert without["accuracy"] <= 15 / 20

    rc, cmp, _ = run_cli(capsys, "compare", "--candidate", str(models / "intent" / "v2"), "--production",
                         str(models / "intent" / "v1"), "--data", str(dataset))
    assert rc == 0
    assert math.isclose(cmp["delta"]["accuracy"], cmp["candidate"]["accuracy"] - cmp["production"]["accuracy"])
    assert cmp["candidate"]["accuracy"] > cmp["production"]["accuracy"]


def test_promote_and_rollback(models: Path, dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = tmp_path / "models"
    shutil.copytree(models, m)
    man = lambda: json.loads((m / "manifest.json").read_text())["tasks"]["intent"]  # noqa: E731

    rc, out, _ = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v1")
    assert rc == 0 and out["promoted"] and man() == {"production": "v1", "previous": []}

    rc, out, _ = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v2",
                         "--candidate")
    assert rc == 0 and man() == {"production": "v1", "candidate": "v2", "previous": []}

    # v2 beats v1 on the cards (same test split), but not by an impossible margin.
    rc, out, _ = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v2",
                         "--margin", "2")
    assert rc == 1 and not out["promoted"] and man()["production"] == "v1"
    rc, out, _ = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v2")
    assert rc == 0 and out["candidate"] > out["production"]
    assert man() == {"production": "v2", "previous": ["v1"]}, "promoted candidate leaves the shadow slot"

    # With --data both are evaluated on it.
    shutil.copytree(m / "intent" / "v1", m / "intent" / "v3")
    c = json.loads((m / "intent" / "v3" / "card.json").read_text())
    c["version"] = "v3"
    c["data"]["test_sha256"] = "different"
    (m / "intent" / "v3" / "card.json").write_text(json.dumps(c))
    rc, _, err = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v3")
    assert rc == 2 and "--data" in err and len(err.strip().splitlines()) == 1
    rc, out, _ = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v3",
                         "--data", str(dataset))
    assert rc == 1 and out["candidate"] < out["production"]
    rc, out, _ = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v3", "--force")
    assert rc == 0 and man() == {"production": "v3", "previous": ["v2", "v1"]}

    rc, out, _ = run_cli(capsys, "rollback", "--models", str(m), "--task", "intent")
    assert rc == 0 and man() == {"production": "v2", "previous": ["v1"]}
    rc, out, _ = run_cli(capsys, "rollback", "--models", str(m), "--task", "intent")
    assert rc == 0 and man() == {"production": "v1", "previous": []}
    rc, _, err = run_cli(capsys, "rollback", "--models", str(m), "--task", "intent")
    assert rc == 2 and "no previous version" in err
    assert not list(m.glob(".manifest-*")), "temporary manifest files are cleaned up"

    # A directory whose card does not match its name is refused.
    shutil.copytree(m / "intent" / "v1", m / "intent" / "v9")
    rc, _, err = run_cli(capsys, "promote", "--models", str(m), "--task", "intent", "--version", "v9", "--force")
    assert rc == 2 and "do not match" in err
    assert promote.read_manifest(m)["tasks"]["intent"]["production"] == "v1"


@pytest.mark.parametrize(
    "args, want",
    [
        (["train", "--data", "{missing}", "--task", "intent"], "no such file"),
        (["train", "--data", "{nolabel}", "--task", "intent"], "columns found: text, kind"),
        (["train", "--data", "{empty}", "--task", "intent"], "empty file"),
        (["train", "--data", "{badjson}", "--task", "intent"], ":2: bad JSON line"),
        (["train", "--data", "{dataset}", "--task", "intent", "--label-col", "nope"], "no label column 'nope'"),
        (["train", "--data", "{dataset}", "--task", "intent", "--epochs", "0"], "must be positive"),
        (["train", "--data", "{dataset}", "--task", "intent", "--oos-label", "oos"], "--oos-label 'oos' is not a label"),
        (["train", "--data", "{dataset}", "--task", "intent", "--split", "time", "--test-weeks", "99"], "0 train and"),
        (["evaluate", "--model", "{tmp}", "--data", "{dataset}"], "missing model.onnx"),
        (["promote", "--models", "{tmp}", "--task", "intent", "--version", "nope"], "no such model directory"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], want: str, dataset: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "nolabel.csv").write_text("text,kind\nhello,x\n")
    (tmp_path / "empty.tsv").write_text("")
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "label": "b"}\n{"text": \n')
    subst = {"{missing}": str(tmp_path / "missing.csv"), "{nolabel}": str(tmp_path / "nolabel.csv"),
             "{empty}": str(tmp_path / "empty.tsv"), "{badjson}": str(tmp_path / "bad.jsonl"),
             "{dataset}": str(dataset), "{tmp}": str(tmp_path)}
    rc = cli.main([subst.get(a, a) for a in args] + ["--out", str(tmp_path / "m")] if args[0] == "train"
                  else [subst.get(a, a) for a in args])
    out, err = capsys.readouterr()
    assert rc == 2, err
    lines = [x for x in err.strip().splitlines() if not LOG_LINE.match(x)]  # progress logs may precede it
    assert len(lines) == 1 and want in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").rglob("model.onnx"))


def test_tokenizer_round_trip(models: Path) -> None:
    """The saved tokenizer encodes like the one used in training: truncation keeps [SEP]."""
    tok = load_tokenizer(models / "intent" / "v2", 8)
    ids = tok.encode("where is my order 1 2 3 4 5 6 7 8 9").ids
    assert len(ids) == 8 and ids[0] == 2 and ids[-1] == 3


def test_generate_is_wired_and_its_data_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["generate", "--task", "sentiment", "--out", str(tmp_path), "--per-template", "2"]) == 0
    rows = data.load(tmp_path / "sentiment" / "train.jsonl")
    assert {r.label for r in rows} == {"negative", "neutral", "positive"} and all(r.template_id for r in rows)
    assert cli.main(["generate", "--task", "nope", "--out", str(tmp_path)]) == 2

    # Sentiment on generated data, tested on held-out templates: an escalation threshold on P(negative).
    rc = cli.main(["train", "--data", str(tmp_path / "sentiment" / "train.jsonl"), "--test",
                   str(tmp_path / "sentiment" / "test.jsonl"), "--task", "sentiment", "--out", str(tmp_path / "m"),
                   "--threads", "1", "--quiet", "--embed-dim", "32", "--filters", "32", "--epochs", "4",
                   "--parity-batches", "20", "--no-latency"])
    assert rc == 0
    (d,) = (tmp_path / "m" / "sentiment").iterdir()
    card = json.loads((d / "card.json").read_text())
    assert set(card["thresholds"]) == {"confidence", "escalation"}
    assert card["data"]["split"] == "test file" and card["training"]["val_split"] == "held-out templates"
    esc = card["metrics"]["validation"]["thresholds"]["escalation"]
    assert esc["label"] == "negative" and 0 < card["thresholds"]["escalation"] <= 1
    assert d.name.count(".") == 1 and d.name.split(".")[1] == "1", "version is <date>.1"
    capsys.readouterr()


def test_next_version_takes_the_first_free_number(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from switchboard_training.train import next_version

    day = datetime(2026, 11, 24, 23, 59, tzinfo=timezone.utc)
    assert next_version(tmp_path, day) == "2026-11-24.1"
    (tmp_path / "2026-11-24.1").mkdir()
    (tmp_path / "2026-11-24.3").mkdir()
    assert next_version(tmp_path, day) == "2026-11-24.2"
