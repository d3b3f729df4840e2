"""Tests for switchboard_training.generate: determinism, held-out splits, balance, realism, CLI."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from switchboard_training.generate import LABELS, OUT_OF_SCOPE, TASKS, TEMPLATES, generate, main, split_by_template

Rows = list[dict[str, str]]


def norm(text: str) -> str:
    """Case, punctuation, spacing and digits ignored: what a near-duplicate shares."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", "", re.sub(r"\d+", "0", text))


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


@pytest.fixture(scope="module")
def splits() -> dict[str, tuple[Rows, Rows, Rows]]:
    """The shipped configuration (default seed and size), generated once per module."""
    out = {}
    for task in TASKS:
        rows = generate(task)
        train, test = split_by_template(rows)
        out[task] = (rows, train, test)
    return out


def test_deterministic_for_a_seed() -> None:
    a = generate("intent", seed=5, per_template=4)
    assert a == generate("intent", seed=5, per_template=4)
    assert a != generate("intent", seed=6, per_template=4)
    assert split_by_template(a, seed=1) == split_by_template(a, seed=1)
    assert split_by_template(a, seed=1) != split_by_template(a, seed=2)


@pytest.mark.parametrize("task", TASKS)
def test_row_schema(task: str, splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    rows, _, _ = splits[task]
    for row in rows:
        assert set(row) == {"text", "label", "lang", "template_id"}, row
        assert row["label"] in LABELS[task], row
        assert row["lang"] in ("zh", "en", "mixed"), row
        assert re.fullmatch(rf"{task}/{row['label']}/{row['lang']}/\d{{2,}}", row["template_id"]), row
        assert row["text"].strip(), row


@pytest.mark.parametrize("task", TASKS)
def test_every_label_and_language_on_both_sides(task: str, splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    _, train, test = splits[task]
    for name, side in (("train", train), ("test", test)):
        present = {(r["label"], r["lang"]) for r in side}
        for label in LABELS[task]:
            for lang in ("zh", "en"):
                assert (label, lang) in present, f"{task} {name}: no {lang} rows for {label}"
            if name == "train":
                assert (label, "mixed") in present, f"{task} train: no code-switched rows for {label}"


@pytest.mark.parametrize("task", TASKS)
def test_split_holds_out_whole_templates(task: str, splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    rows, train, test = splits[task]
    train_ids = {r["template_id"] for r in train}
    test_ids = {r["template_id"] for r in test}
    assert not train_ids & test_ids
    assert len(train) + len(test) <= len(rows)
    for label in LABELS[task]:
        n_test = sum(1 for t in test_ids if t.split("/")[1] == label)
        n_all = n_test + sum(1 for t in train_ids if t.split("/")[1] == label)
        assert 0.15 <= n_test / n_all <= 0.35, f"{task}/{label}: {n_test} of {n_all} templates held out"


@pytest.mark.parametrize("task", TASKS)
def test_no_duplicates(task: str, splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    _, train, test = splits[task]
    train_keys = Counter(norm(r["text"]) for r in train)
    assert max(train_keys.values()) == 1, f"near-duplicates in train: {train_keys.most_common(3)}"
    shared = [r["text"] for r in test if norm(r["text"]) in train_keys]
    assert not shared, f"test texts also in train: {shared[:5]}"


@pytest.mark.parametrize("task", TASKS)
def test_labels_balanced(task: str, splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    rows, _, _ = splits[task]
    counts = Counter(r["label"] for r in rows)
    ordinary = [counts[label] for label in LABELS[task] if label != OUT_OF_SCOPE]
    assert max(ordinary) <= 2 * min(ordinary), counts
    if task == "intent":
        # out_of_scope may be the largest class, but not by much.
        assert min(ordinary) <= counts[OUT_OF_SCOPE] <= 2.5 * min(ordinary), counts


def test_intent_texts_look_like_asr(splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    rows, _, _ = splits["intent"]
    for row in rows:
        text = row["text"]
        assert text == text.lower(), row
        assert text == " ".join(text.split()), row
        odd = [ch for ch in text if ch != "'" and unicodedata.category(ch)[0] in "PSC"]
        assert not odd, row
    texts = [r["text"] for r in rows]
    for filler in ("um", "uh", "呃", "那个"):
        assert any(re.search(rf"(^|\s){filler}(\s|$)" if filler.isascii() else filler, t) for t in texts), filler


@pytest.mark.parametrize("task", TASKS)
def test_code_switched_rows_mix_scripts(task: str, splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    rows, _, _ = splits[task]
    mixed = [r["text"] for r in rows if r["lang"] == "mixed"]
    assert mixed
    for text in mixed:
        assert any(is_cjk(ch) for ch in text) and re.search(r"[A-Za-z]", text), text


@pytest.mark.parametrize(
    ("what", "task", "lang", "pattern", "at_least"),
    [
        ("subject line", "category", None, r"\n", 0.2),
        ("emoji", "category", None, r"[\U0001F300-\U0001FAFF]", 0.02),
        ("Traditional Chinese", "category", "zh", r"[們還訂單這說]", 0.01),
        ("half-width punctuation in Chinese", "category", "zh", r"[\u4e00-\u9fff][,.?!]", 0.05),
        ("lower-case English", "category", "en", r"^[a-z]", 0.08),
        ("Chinese IME slip", "category", "zh", r"定单|帐号|以经|登陆|肿么|木有", 0.005),
        ("spoken-style rows", "sentiment", None, r"^[^A-Z。，！？.,!?]*$", 0.05),
    ],
)
def test_noise_is_present(
    what: str, task: str, lang: str | None, pattern: str, at_least: float | None,
    splits: dict[str, tuple[Rows, Rows, Rows]],
) -> None:
    rows, _, _ = splits[task]
    texts = [r["text"] for r in rows if lang is None or r["lang"] == lang]
    hits = sum(1 for t in texts if re.search(pattern, t))
    if at_least is None:
        assert hits > 0, what
    else:
        assert hits >= at_least * len(texts), f"{what}: {hits} of {len(texts)}"


def swapped_letters(word: str, vocab: set[str]) -> bool:
    """Whether word is a vocab word with two adjacent letters swapped (a typo no inflection makes)."""
    return any(
        word[i] != word[i + 1] and word[:i] + word[i + 1] + word[i] + word[i + 2:] in vocab
        for i in range(len(word) - 1)
    )


def test_english_rows_have_typos(splits: dict[str, tuple[Rows, Rows, Rows]]) -> None:
    templates = TEMPLATES["category"].values()
    vocab = {w for block in templates for t in block.get("en", ()) for w in re.findall(r"[a-z]{4,}", t.lower())}
    rows, _, _ = splits["category"]
    texts = [r["text"].lower() for r in rows if r["lang"] == "en"]
    typos = [t for t in texts if any(w not in vocab and swapped_letters(w, vocab) for w in re.findall(r"[a-z]{4,}", t))]
    # Only one typo kind in four is a swap, so this is a fraction of all typos.
    assert len(typos) >= 0.02 * len(texts), f"{len(typos)} of {len(texts)} English rows have swapped letters"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"task": "weather"}, "unknown task"),
    ({"task": "intent", "per_template": 0}, "per_template"),
])
def test_generate_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("frac", [0.0, 1.0, -0.1])
def test_split_rejects_bad_fraction(frac: float) -> None:
    with pytest.raises(ValueError, match="test_frac"):
        split_by_template(generate("sentiment", per_template=1), test_frac=frac)


def read_jsonl(path: Path) -> Rows:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_cli_writes_split_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--task", "all", "--out", str(tmp_path), "--seed", "3", "--per-template", "4"]) == 0
    out = capsys.readouterr().out
    for task in TASKS:
        train = read_jsonl(tmp_path / task / "train.jsonl")
        test = read_jsonl(tmp_path / task / "test.jsonl")
        assert (train, test) == split_by_template(generate(task, seed=3, per_template=4), seed=3)
        assert f"{task}: {len(train)} train rows" in out
        for label in LABELS[task]:
            assert label in out
    raw = (tmp_path / "category" / "train.jsonl").read_text(encoding="utf-8")
    assert re.search(r"[\u4e00-\u9fff]", raw), "Chinese must be written as UTF-8, not \\u escapes"


@pytest.mark.parametrize(("argv", "message"), [
    (["--task", "weather"], "invalid choice"),
    (["--task", "intent", "--per-template", "0"], "at least 1"),
    (["--task", "intent", "--per-template", "many"], "not an integer"),
    (["--task", "intent", "--test-frac", "1.5"], "between 0 and 1"),
    (["--task", "intent"], "--out"),
])
def test_cli_rejects_bad_arguments(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--task" in argv and argv != ["--task", "intent"]:
        argv = [*argv, "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_reports_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert main(["--task", "sentiment", "--out", str(blocker), "--per-template", "1"]) == 1
    assert "cannot write" in capsys.readouterr().err
