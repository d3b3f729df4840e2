"""Loading, cleaning and splitting labelled data."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from switchboard_training import data, train

from conftest import make_rows, write_jsonl


@pytest.mark.parametrize(
    "name, content, kwargs, want",
    [
        ("a.csv", 'text,category\n"hello, world",greet\nbye,leave\n', {}, [("hello, world", "greet"), ("bye", "leave")]),
        ("a.tsv", "sentence\tlabel\n你好\tgreet\n", {}, [("你好", "greet")]),
        ("a.jsonl", '{"utterance": "hi", "intent": "greet"}\n\n{"utterance": "yo", "intent": "greet"}\n', {},
         [("hi", "greet"), ("yo", "greet")]),
        ("a.csv", "body,cls\nhello,greet\n", {"text_col": "body", "label_col": "cls"}, [("hello", "greet")]),
        ("a.csv", "Text,Label\nhello,greet\n", {}, [("hello", "greet")]),
        ("a.csv", 'text,label\n"two\nlines",x\n', {}, [("two\nlines", "x")]),
        ("q.tsv", 'label\ttext_a\n1\t"quoted" start\n0\tone " quote\n', {}, [('"quoted" start', "1"), ('one " quote', "0")]),
    ],
)
def test_load_formats_and_columns(tmp_path: Path, name: str, content: str, kwargs: dict, want: list) -> None:
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    assert [(r.text, r.label) for r in data.load(p, **kwargs)] == want


@pytest.mark.parametrize(
    "name, content, kwargs, want",
    [
        ("none.csv", None, {}, "no such file"),
        ("e.csv", "", {}, "empty file"),
        ("e.jsonl", "\n\n", {}, "empty file"),
        ("h.csv", "text,label\n", {}, "no rows"),
        ("c.csv", "body,label\nx,y\n", {}, "columns found: body, label"),
        ("c.tsv", "text\tlabel\nx\ty\n", {"label_col": "intent"}, "no label column 'intent'"),
        ("b.jsonl", '{"text": "a", "label": "b"}\n{"text": "a", "label": }\n', {}, "b.jsonl:2: bad JSON line"),
        ("l.jsonl", '["a", "b"]\n', {}, "want a JSON object"),
        ("t.jsonl", '{"text": "a", "label": "b", "created_at": "yesterday"}\n', {}, "not an ISO time"),
        ("x.xlsx", "whatever", {}, "unknown file type"),
        ("n.csv", "text,label\nx,\n", {}, "n.csv:2: empty label"),
    ],
)
def test_load_errors(tmp_path: Path, name: str, content: str | None, kwargs: dict, want: str) -> None:
    p = tmp_path / name
    if content is not None:
        p.write_text(content, encoding="utf-8")
    with pytest.raises(data.DataError, match=want.replace("(", r"\(")):
        data.load(p, **kwargs)


def test_optional_fields_kept(tmp_path: Path) -> None:
    p = write_jsonl(tmp_path / "x.jsonl", [{"id": "t1", "text": "hi", "label": "a", "created_at": "2026-11-01T10:00:00Z",
                                            "template_id": 3, "lang": "en", "source": "agent", "channel": "email"}])
    r = data.load(p)[0]
    assert (r.id, r.template_id, r.lang, r.source, r.channel) == ("t1", "3", "en", "agent", "email")
    assert r.created_at is not None and r.created_at.utcoffset() == timedelta(0) and r.created_at.hour == 10


def test_clean_counts_and_conflicts() -> None:
    E = data.Example
    rows = [E("a", "x"), E(" a ", "x"), E("", "x"), E("   ", "y"), E("b", "x"), E("b", "y"), E("c", "z")]
    kept, st = data.clean(rows)
    assert [(r.text, r.label) for r in kept] == [("a", "x"), ("b", "x"), ("b", "y"), ("c", "z")]
    assert (st.read, st.empty_text, st.duplicates, st.conflicting_texts, st.conflicts_dropped, st.kept) == (7, 2, 1, 1, 0, 4)
    kept, st = data.clean(rows, drop_conflicts=True)
    assert [r.text for r in kept] == ["a", "c"] and st.conflicts_dropped == 2


def test_splits(tmp_path: Path) -> None:
    rows = data.load(write_jsonl(tmp_path / "d.jsonl", make_rows()))
    sp = data.split_stratified(rows, 0.25, seed=1)
    assert Counter(r.label for r in sp.test) == {lab: 10 for lab in Counter(r.label for r in rows)}
    assert len(sp.train) + len(sp.test) == len(rows) and not {r.id for r in sp.train} & {r.id for r in sp.test}
    assert [r.id for r in data.split_stratified(rows, 0.25, seed=1).test] == [r.id for r in sp.test]
    assert [r.id for r in data.split_stratified(rows, 0.25, seed=2).test] != [r.id for r in sp.test]

    st = data.split_time(rows, 2)
    latest = max(r.created_at for r in rows)
    assert st.test and all(r.created_at > latest - timedelta(weeks=2) for r in st.test)
    assert st.train and all(r.created_at <= latest - timedelta(weeks=2) for r in st.train)

    sp = data.split_template(rows, 0.25, seed=3)
    held = {r.template_id for r in sp.test}
    assert len(held) == 4 and {t.split("/")[0] for t in held} == set(Counter(r.label for r in rows))
    assert not held & {r.template_id for r in sp.train}

    ex = data.split_explicit(rows, rows[:5])
    overlap = [r for r in rows if r.text in {t.text for t in rows[:5]}]
    assert len(overlap) >= 5 and ex.details["train_rows_overlapping_test_dropped"] == len(overlap)
    assert len(ex.train) == len(rows) - len(overlap) and not {r.text for r in ex.train} & {r.text for r in rows[:5]}


def test_split_errors() -> None:
    rows = [data.Example("a", "x"), data.Example("b", "y")]
    with pytest.raises(data.DataError, match="needs created_at"):
        data.split_time(rows, 4)
    with pytest.raises(data.DataError, match="needs template_id"):
        data.split_template(rows, 0.2, 1)


def test_sha256_rows_ignores_order() -> None:
    rows = [data.Example("a", "x"), data.Example("b", "y")]
    assert data.sha256_rows(rows) == data.sha256_rows(rows[::-1]) != data.sha256_rows(rows[:1])
    assert json.dumps(data.label_counts(rows + rows[:1])) == '{"x": 2, "y": 1}'


def test_validation_is_carved_by_template_when_rows_have_one(tmp_path: Path) -> None:
    rows = data.load(write_jsonl(tmp_path / "d.jsonl", make_rows()))
    tr, val, how = train.carve_validation(rows, 0.25, seed=5)
    assert how == "held-out templates" and len(tr) + len(val) == len(rows)
    assert {r.label for r in val} == {r.label for r in rows}
    assert not {r.template_id for r in tr} & {r.template_id for r in val}
    plain = [data.Example(r.text, r.label) for r in rows]
    tr, val, how = train.carve_validation(plain, 0.25, seed=5)
    assert how == "stratified" and Counter(r.label for r in val) == {lab: 10 for lab in {r.label for r in rows}}
