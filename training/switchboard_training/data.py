"""Labelled text data: loading CSV/TSV/JSONL files, cleaning, and test splits.

Every step of the workflow (train, evaluate, cv, promote) reads its data
through :func:`load`, so a file exported by `switchboard training export`
and a public benchmark CSV are handled the same way.
"""

from __future__ import annotations

import csv
import io
import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

TEXT_COLUMNS: tuple[str, ...] = ("text", "sentence", "review", "text_a", "utterance", "query")
LABEL_COLUMNS: tuple[str, ...] = ("label", "category", "intent", "tag", "cat")
# Optional fields kept when present; splits and reports use them.
OPTIONAL_FIELDS: tuple[str, ...] = ("id", "created_at", "template_id", "lang", "source", "channel")


class DataError(ValueError):
    """DataError is bad input data: the message says what and where, for a person."""


@dataclass(frozen=True)
class Example:
    """Example is one labelled text with the optional fields the splits use."""

    text: str
    label: str
    created_at: datetime | None = None
    template_id: str | None = None
    lang: str | None = None
    source: str | None = None
    id: str | None = None
    channel: str | None = None


@dataclass
class CleanStats:
    """CleanStats counts what :func:`clean` removed, for the log and the card."""

    read: int = 0
    empty_text: int = 0
    duplicates: int = 0
    conflicting_texts: int = 0
    conflicts_dropped: int = 0
    kept: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Split:
    """Split is a train/test partition and how it was made."""

    train: list[Example]
    test: list[Example]
    method: str
    details: dict[str, object] = field(default_factory=dict)


def _format(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".gz", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith(".tsv"):
        return "tsv"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".jsonl") or name.endswith(".json") or name.endswith(".ndjson"):
        return "jsonl"
    raise DataError(f"{path}: unknown file type (want .csv, .tsv, .jsonl or .json lines)")


def _pick(columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path) -> str:
    if wanted:
        if wanted in columns:
            return wanted
        raise DataError(f"{path}: no {what} column {wanted!r}; columns found: {', '.join(columns) or '(none)'}")
    lower = {c.lower(): c for c in columns}
    for c in candidates:
        if c in lower:
            return lower[c]
    raise DataError(
        f"{path}: no {what} column (looked for {', '.join(candidates)}; columns found: "
        f"{', '.join(columns) or '(none)'}); name it with --{what}-col"
    )


def parse_time(value: object) -> datetime | None:
    """parse_time reads an ISO 8601 time (a trailing Z included); naive times are UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a time string: {value!r}")
    s = value.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t


def _example(rec: dict[str, object], text_col: str, label_col: str, where: str) -> Example:
    text = rec.get(text_col)
    label = rec.get(label_col)
    text = "" if text is None else str(text)
    if label is None or str(label).strip() == "":
        raise DataError(f"{where}: empty label")
    opt: dict[str, object] = {}
    for name in OPTIONAL_FIELDS:
        v = rec.get(name)
        if v is None or v == "":
            continue
        if name == "created_at":
            try:
                opt[name] = parse_time(v)
            except ValueError as e:
                raise DataError(f"{where}: created_at {v!r} is not an ISO time: {e}") from e
        else:
            opt[name] = str(v)
    return Example(text=text, label=str(label).strip(), **opt)  # type: ignore[arg-type]


def load(path: str | Path, text_col: str | None = None, label_col: str | None = None) -> list[Example]:
    """load reads labelled examples from a .csv, .tsv or .jsonl file.

    Columns are found by name (see TEXT_COLUMNS and LABEL_COLUMNS) unless
    text_col/label_col name them. Rows come back in file order, unfiltered;
    see :func:`clean`.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: is a directory, want a data file")
    fmt = _format(p)
    try:
        raw = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{p}: not UTF-8 text ({e})") from e
    if not raw.strip():
        raise DataError(f"{p}: empty file")
    out: list[Example] = []
    if fmt == "jsonl":
        cols: list[str] | None = None
        tc = lc = ""
        for n, line in enumerate(raw.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{p}:{n}: bad JSON line: {e.msg}") from e
            if not isinstance(rec, dict):
                raise DataError(f"{p}:{n}: want a JSON object per line, got {type(rec).__name__}")
            if cols is None:
                cols = list(rec.keys())
                tc = _pick(cols, text_col, TEXT_COLUMNS, "text", p)
                lc = _pick(cols, label_col, LABEL_COLUMNS, "label", p)
            if tc not in rec or lc not in rec:
                raise DataError(f"{p}:{n}: missing {tc!r} or {lc!r}")
            out.append(_example(rec, tc, lc, f"{p}:{n}"))
    else:
        if fmt == "tsv":
            # TSV as GLUE/CLUE datasets write it: no quoting, so a text may hold
            # a lone '"' without swallowing the lines after it.
            reader = csv.DictReader(io.StringIO(raw, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
        else:
            reader = csv.DictReader(io.StringIO(raw, newline=""))
        cols = [c for c in (reader.fieldnames or []) if c is not None]
        if not cols:
            raise DataError(f"{p}: empty file")
        tc = _pick(cols, text_col, TEXT_COLUMNS, "text", p)
        lc = _pick(cols, label_col, LABEL_COLUMNS, "label", p)
        for rec in reader:
            # line_num is the reader's physical line: right even with quoted newlines.
            out.append(_example(rec, tc, lc, f"{p}:{reader.line_num}"))
    if not out:
        raise DataError(f"{p}: no rows")
    return out


def clean(rows: Iterable[Example], drop_conflicts: bool = False) -> tuple[list[Example], CleanStats]:
    """clean drops empty texts and exact (text, label) duplicates, keeping the first.

    A text labelled differently in different rows is counted; with
    drop_conflicts all its rows are dropped (people disagreed, so neither
    label teaches the model anything reliable).
    """
    st = CleanStats()
    seen: set[tuple[str, str]] = set()
    kept: list[Example] = []
    for r in rows:
        st.read += 1
        text = r.text.strip()
        if not text:
            st.empty_text += 1
            continue
        key = (text, r.label)
        if key in seen:
            st.duplicates += 1
            continue
        seen.add(key)
        kept.append(r if text == r.text else replace(r, text=text))
    labels_of: dict[str, set[str]] = defaultdict(set)
    for r in kept:
        labels_of[r.text].add(r.label)
    conflicting = {t for t, ls in labels_of.items() if len(ls) > 1}
    st.conflicting_texts = len(conflicting)
    if drop_conflicts and conflicting:
        before = len(kept)
        kept = [r for r in kept if r.text not in conflicting]
        st.conflicts_dropped = before - len(kept)
    st.kept = len(kept)
    return kept, st


def stratified_indices(labels: Sequence[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """stratified_indices picks about fraction of each label's rows (at least one,
    when the label has two or more) as the held-out part; returns (rest, held_out)."""
    if not 0 < fraction < 1:
        raise DataError(f"split fraction must be between 0 and 1, got {fraction}")
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels):
        by_label[lab].append(i)
    rng = random.Random(seed)
    held: list[int] = []
    for lab in sorted(by_label):
        idx = by_label[lab]
        rng.shuffle(idx)
        k = int(round(len(idx) * fraction))
        if len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        else:
            k = 0
        held.extend(idx[:k])
    held_set = set(held)
    rest = [i for i in range(len(labels)) if i not in held_set]
    return rest, sorted(held)


def split_stratified(rows: Sequence[Example], test_fraction: float, seed: int) -> Split:
    """split_stratified holds out test_fraction of every label, at random (seeded)."""
    rest, held = stratified_indices([r.label for r in rows], test_fraction, seed)
    return Split([rows[i] for i in rest], [rows[i] for i in held], "stratified",
                 {"test_fraction": test_fraction, "seed": seed})


def split_time(rows: Sequence[Example], test_weeks: float) -> Split:
    """split_time tests on the rows created in the last test_weeks weeks of the data.

    This is the honest split for a monthly retrain: the model is judged on
    tickets newer than everything it learned from.
    """
    if test_weeks <= 0:
        raise DataError(f"--test-weeks must be positive, got {test_weeks}")
    missing = sum(1 for r in rows if r.created_at is None)
    if missing:
        raise DataError(f"--split time needs created_at on every row; {missing} of {len(rows)} rows have none")
    latest = max(r.created_at for r in rows if r.created_at is not None)
    cutoff = latest - timedelta(weeks=test_weeks)
    train = [r for r in rows if r.created_at is not None and r.created_at <= cutoff]
    test = [r for r in rows if r.created_at is not None and r.created_at > cutoff]
    if not train or not test:
        raise DataError(
            f"--split time --test-weeks {test_weeks}: {len(train)} train and {len(test)} test rows "
            f"(data spans to {latest.isoformat()}); choose another --test-weeks"
        )
    return Split(train, test, "time", {"test_weeks": test_weeks, "cutoff": cutoff.isoformat()})


def split_template(rows: Sequence[Example], test_fraction: float, seed: int) -> Split:
    """split_template holds out whole templates, chosen per label (seeded).

    Generated data repeats each template many times with different fillers;
    testing on unseen templates measures generalisation, not memory.
    """
    missing = sum(1 for r in rows if not r.template_id)
    if missing:
        raise DataError(f"--split template needs template_id on every row; {missing} of {len(rows)} rows have none")
    templates: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        templates[r.label].add(str(r.template_id))
    rng = random.Random(seed)
    held: set[tuple[str, str]] = set()
    for lab in sorted(templates):
        ts = sorted(templates[lab])
        if len(ts) < 2:
            continue  # the only template must stay in training
        rng.shuffle(ts)
        k = min(max(int(round(len(ts) * test_fraction)), 1), len(ts) - 1)
        held.update((lab, t) for t in ts[:k])
    test = [r for r in rows if (r.label, str(r.template_id)) in held]
    train = [r for r in rows if (r.label, str(r.template_id)) not in held]
    if not test:
        raise DataError("--split template: no label has two or more templates to hold one out")
    return Split(train, test, "held-out templates",
                 {"test_fraction": test_fraction, "seed": seed, "held_out_templates": len(held)})


def split_explicit(train: Sequence[Example], test: Sequence[Example]) -> Split:
    """split_explicit uses a separate test file, dropping training rows whose text is in it."""
    test_texts = {r.text for r in test}
    kept = [r for r in train if r.text not in test_texts]
    return Split(kept, list(test), "test file", {"train_rows_overlapping_test_dropped": len(train) - len(kept)})


def sha256_rows(rows: Iterable[Example]) -> str:
    """sha256_rows fingerprints (text, label) pairs, order-independent, so two
    cards can tell whether they were measured on the same test data."""
    lines = sorted(json.dumps([r.text, r.label], ensure_ascii=False) for r in rows)
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def label_counts(rows: Iterable[Example]) -> dict[str, int]:
    """label_counts returns rows per label, most frequent first."""
    return dict(Counter(r.label for r in rows).most_common())
