"""Domain training data: varied Chinese/English customer-service texts for every label.

The default models shipped with Switchboard are trained only from what this
module writes, so it aims at the texts real customers send rather than at
tidy examples:

* ``category``: ticket texts (an optional subject line, then 1-4 sentences);
* ``intent``: short IVR utterances the way ASR transcribes them (lower-case,
  no punctuation, fillers such as "um" or "呃", ASR slips), including a broad
  ``out_of_scope`` class of things no intent covers;
* ``sentiment``: negative (angry to mildly disappointed, some sarcasm),
  neutral (factual requests) and positive (thanks, praise) messages.

Each label has many hand-written templates per language (``zh``, ``en`` and
code-switched ``mixed``). A template has inline alternatives ``[a|b|]``
(nestable; an empty branch makes the part optional) and slots such as
``{product}``, ``{order}``, ``{dur}`` filled from per-language lexicons. Texts
are then reworded by label-neutral paraphrase rules ("could you" / "can you",
"为什么" / "为啥"). Written ones are wrapped in greetings, sign-offs and ticket
subjects and get realistic noise (typos, homophone slips, casing, spacing,
full/half-width punctuation, emoji, a little Traditional Chinese); spoken ones
get fillers, restarts, ASR slips and spelled-out digits instead. Near-
duplicates are not emitted (see :func:`generate`), so a template yields as
many rows as it has genuinely different renderings, up to its share.

Every row is ``{"text", "label", "lang", "template_id"}``; ``template_id``
(``"category/logistics/zh/07"``) is the template's position in its block, so
new templates must be appended at the end of a block to keep ids stable.
:func:`split_by_template` holds out whole templates, so the test split
measures generalisation to unseen phrasings, not memorisation.

CLI (called by ``switchboard-train generate``)::

    generate --task {category,intent,sentiment,all} --out DIR [--seed 13] [--per-template 30]

writes ``DIR/<task>/train.jsonl`` and ``DIR/<task>/test.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

TASKS: tuple[str, ...] = ("category", "intent", "sentiment")
LANGS: tuple[str, ...] = ("zh", "en", "mixed")

# Label order follows docs/models.md, section Labels.
LABELS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "category": (
        "logistics", "returns_refunds", "account_login", "billing_payment",
        "product_quality", "technical_fault", "complaint", "general_inquiry",
    ),
    "intent": (
        "order_status", "delivery_delay", "return_refund", "cancel_order",
        "change_address", "account_problem", "payment_problem", "complaint",
        "talk_to_human", "yes", "no", "repeat", "goodbye", "out_of_scope",
    ),
    "sentiment": ("negative", "neutral", "positive"),
})

OUT_OF_SCOPE = "out_of_scope"

# out_of_scope gets more rows than an ordinary label: it has to cover
# "everything else", and its recall is what the IVR's fallback depends on.
_OOS_WEIGHT = 1.5
# A template whose variants have run out stops after this many near-duplicates
# in a row instead of looping forever.
_MAX_MISSES = 60
# A label with fewer rows than the largest ordinary label divided by this is
# topped up (out_of_scope is not ordinary: it is meant to be larger).
_BALANCE_RATIO = 1.8


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def generate(task: str, seed: int = 13, per_template: int = 30) -> list[dict[str, str]]:
    """Returns the rows of one task, deterministic for (task, seed, per_template).

    ``per_template`` is the most rows taken from one template of a label
    with the median number of templates; labels with fewer templates (yes,
    no, ...) may take proportionally more per template, so labels stay
    balanced.

    Near-duplicates are skipped: no two rows have the same normalised text
    (case, punctuation, spacing, digits and script ignored), and only a few
    rows share a core sentence, i.e. the text without subject, greeting,
    sign-off or fillers (3 for written tasks, 4 for intent). A template
    therefore yields as many rows as it has distinct slot fillings and
    paraphrases, up to its share. Only a label that still ends up far below
    the others is topped up with more greeting/filler variants of its
    sentences, so that no label is starved.
    """
    if task not in TASKS:
        raise ValueError(f"generate: unknown task {task!r} (want one of {', '.join(TASKS)})")
    if per_template < 1:
        raise ValueError(f"generate: per_template must be at least 1, got {per_template}")
    style = _STYLES[task]
    templates = TEMPLATES[task]
    sizes = {label: sum(len(t) for t in templates[label].values()) for label in LABELS[task]}
    ref = statistics.median(sizes.values())
    state = _GenState()
    runs: dict[str, list[_Run]] = {}
    wants: dict[str, int] = {}
    for label in LABELS[task]:
        quota = per_template * ref * (_OOS_WEIGHT if label == OUT_OF_SCOPE else 1.0)
        wants[label] = max(1, round(quota / sizes[label]))
        runs[label] = [
            # One generator per template, so editing one template barely
            # moves the others' rows.
            _Run(f"{task}/{label}/{lang}/{i:02d}", template, lang, random.Random(f"{seed}/{task}/{label}/{lang}/{i:02d}"))
            for lang in LANGS
            for i, template in enumerate(templates[label].get(lang, ()))
        ]
        for run in runs[label]:
            _draw(run, label, wants[label], style.body_cap, style, state)
    totals = Counter(r["label"] for r in state.rows)
    floor = max(totals[label] for label in LABELS[task] if label != OUT_OF_SCOPE) / _BALANCE_RATIO
    for label in LABELS[task]:
        cap = style.body_cap
        while totals[label] < floor and cap < style.body_cap_max:
            cap += 1
            for run in runs[label]:
                totals[label] += _draw(run, label, wants[label], cap, style, state)
    return state.rows


@dataclass
class _Run:
    """One template's generator and how many rows it has produced."""

    template_id: str
    template: str
    lang: str
    rng: random.Random
    made: int = 0


@dataclass
class _GenState:
    """Rows of one generate call and the keys that detect near-duplicates."""

    rows: list[dict[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    bodies: Counter[str] = field(default_factory=Counter)


def _draw(run: _Run, label: str, want: int, cap: int, style: _Style, state: _GenState) -> int:
    """Adds rows from run's template until it has want of them or runs dry; returns how many it added."""
    added = misses = 0
    while run.made < want and misses < _MAX_MISSES:
        body, clean = style.compose(run.template, run.lang, run.rng)
        body_key = _key(body)
        if not body_key or state.bodies[body_key] >= cap:  # checked first: noise is the costly part
            misses += 1
            continue
        text = style.noise(clean, run.lang, run.rng)
        keys = {_key(clean), _key(text)}
        if "" in keys or keys & state.seen:
            misses += 1
            continue
        misses = 0
        state.bodies[body_key] += 1
        state.seen |= keys
        state.rows.append({"text": text, "label": label, "lang": run.lang, "template_id": run.template_id})
        run.made += 1
        added += 1
    return added


def split_by_template(
    rows: Sequence[dict[str, str]], test_frac: float = 0.22, seed: int = 13
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Splits rows into (train, test) by holding out whole templates.

    For every (task, label, lang) group with at least two templates, a
    seeded ``test_frac`` share of its templates (at least one, never all)
    goes to test, so each label keeps every language on both sides. A test
    row whose normalised text also occurs in train (two templates can meet
    on short utterances) is dropped, so test never rewards memorisation.
    """
    if not 0.0 < test_frac < 1.0:
        raise ValueError(f"split_by_template: test_frac must be in (0, 1), got {test_frac}")
    groups: dict[str, set[str]] = {}
    for row in rows:
        group = row["template_id"].rsplit("/", 1)[0]
        groups.setdefault(group, set()).add(row["template_id"])
    held_out: set[str] = set()
    for group, ids in sorted(groups.items()):
        if len(ids) < 2:
            continue
        ordered = sorted(ids)
        random.Random(f"split/{seed}/{group}").shuffle(ordered)
        k = min(len(ordered) - 1, max(1, round(test_frac * len(ordered))))
        held_out.update(ordered[:k])
    train = [r for r in rows if r["template_id"] not in held_out]
    train_keys = {_key(r["text"]) for r in train}
    test = [r for r in rows if r["template_id"] in held_out and _key(r["text"]) not in train_keys]
    return train, test


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``generate`` CLI and returns its exit code (2 for bad arguments)."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has already printed the reason
        return exc.code if isinstance(exc.code, int) else 2
    tasks = TASKS if args.task == "all" else (args.task,)
    out = Path(args.out)
    for task in tasks:
        rows = generate(task, seed=args.seed, per_template=args.per_template)
        train, test = split_by_template(rows, test_frac=args.test_frac, seed=args.seed)
        try:
            _write_jsonl(out / task / "train.jsonl", train)
            _write_jsonl(out / task / "test.jsonl", test)
        except OSError as exc:
            print(f"generate: cannot write {task} data under {out}: {exc}", file=sys.stderr)
            return 1
        print(_summary(task, train, test))
    return 0


# --------------------------------------------------------------------------
# CLI helpers
# --------------------------------------------------------------------------


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _fraction(value: str) -> float:
    try:
        f = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 < f < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {f}")
    return f


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="switchboard-train generate",
        description="Generate template-based zh/en training data and split it by held-out templates.",
    )
    p.add_argument("--task", required=True, choices=(*TASKS, "all"), help="which task's data to write")
    p.add_argument("--out", required=True, help="output directory; writes OUT/<task>/{train,test}.jsonl")
    p.add_argument("--seed", type=int, default=13, help="seed for generation and split (default 13)")
    p.add_argument("--per-template", type=_positive_int, default=30,
                   help="most rows per template for a median-sized label (default 30)")
    p.add_argument("--test-frac", type=_fraction, default=0.22,
                   help="share of each label's templates held out for test (default 0.22)")
    return p


def _write_jsonl(path: Path, rows: Sequence[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _summary(task: str, train: Sequence[dict[str, str]], test: Sequence[dict[str, str]]) -> str:
    count = Counter((split, r["label"], r["lang"]) for split, rs in (("train", train), ("test", test)) for r in rs)
    n_templates = {split: len({r["template_id"] for r in rs}) for split, rs in (("train", train), ("test", test))}
    lines = [
        f"{task}: {len(train)} train rows ({n_templates['train']} templates), "
        f"{len(test)} test rows ({n_templates['test']} templates)",
        f"  {'label':<16}" + "".join(f"{s + '/' + lang:>12}" for s in ("train", "test") for lang in LANGS),
    ]
    for label in LABELS[task]:
        cells = "".join(f"{count[(s, label, lang)]:>12}" for s in ("train", "test") for lang in LANGS)
        lines.append(f"  {label:<16}{cells}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Rendering: alternatives, slots, styles
# --------------------------------------------------------------------------

_ALT = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def _expand(template: str, rng: random.Random) -> str:
    """Resolves [a|b|] alternatives, innermost first, so they can nest."""
    while True:
        expanded = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template)
        if expanded == template:
            return expanded
        template = expanded


def _render(template: str, lang: str, rng: random.Random, spoken: bool = False) -> str:
    text = _expand(template, rng)
    return _SLOT.sub(lambda m: _fill(m.group(1), lang, rng, spoken), text)


def _fill(slot: str, lang: str, rng: random.Random, spoken: bool) -> str:
    if lang == "mixed":
        # Code-switched speakers frame sentences in Chinese but drop in
        # English nouns: brand names, apps, payment methods.
        lang = "en" if slot in _MIXED_EN_SLOTS and rng.random() < 0.5 else "zh"
    if spoken and slot in _SPOKEN_SLOTS:
        return _SPOKEN_SLOTS[slot](lang, rng)
    value = _LEXICON[lang].get(slot)
    if value is None:
        raise KeyError(f"generate: template uses unknown slot {{{slot}}}")
    return value(rng) if callable(value) else rng.choice(value)


@dataclass(frozen=True)
class _Style:
    """How a task turns a template into text.

    compose returns (core sentence, clean text); noise returns the final text.
    """

    compose: Callable[[str, str, random.Random], tuple[str, str]]
    noise: Callable[[str, str, random.Random], str]
    body_cap: int  # rows that may share one core sentence
    body_cap_max: int  # the same, when topping up a starved label


def _join(lang: str, *parts: str) -> str:
    parts = tuple(p for p in parts if p)
    if lang == "en":
        return " ".join(parts)
    # Chinese runs need no spaces; keep one where two Latin words would touch.
    out = ""
    for p in parts:
        if out and out[-1].isascii() and out[-1].isalnum() and p[0].isascii() and p[0].isalnum():
            out += " "
        out += p
    return out


def _wrapper_lang(lang: str, rng: random.Random) -> str:
    if lang == "mixed":
        return "en" if rng.random() < 0.3 else "zh"
    return lang


def _compose_written(
    template: str, lang: str, rng: random.Random, subject_p: float, generic_subject_p: float, wrap_p: float,
    closers: Mapping[str, tuple[str, ...]],
) -> tuple[str, str]:
    subject, _, body = template.rpartition("||")
    body = _paraphrase(_render(body.strip(), lang, rng), lang, rng)
    core = body
    opener = _render(rng.choice(_OPENERS[_wrapper_lang(lang, rng)]), lang, rng) if rng.random() < wrap_p else ""
    closer = _render(rng.choice(closers[_wrapper_lang(lang, rng)]), lang, rng) if rng.random() < wrap_p else ""
    if opener.endswith(",") and re.match(r"[A-Z][a-z]", body) and rng.random() < 0.7:
        body = body[0].lower() + body[1:]  # "Hi, my order..." more often than "Hi, My order..."
    text = _join(lang, opener, body, closer)
    subject = subject.strip()
    if not subject and rng.random() < generic_subject_p:
        # Mail and web-form tickets nearly always have a subject, often an
        # uninformative one.
        subject = rng.choice(_GENERIC_SUBJECTS[_wrapper_lang(lang, rng)])
    subject = _render(subject, lang, rng) if subject and rng.random() < subject_p else ""
    return core, f"{subject}\n{text}" if subject else text


def _compose_category(template: str, lang: str, rng: random.Random) -> tuple[str, str]:
    return _compose_written(template, lang, rng, subject_p=0.7, generic_subject_p=0.5, wrap_p=0.4, closers=_CLOSERS)


def _compose_sentiment(template: str, lang: str, rng: random.Random) -> tuple[str, str]:
    # No "please hurry" closers: they would make praise read as a complaint.
    return _compose_written(
        template, lang, rng, subject_p=1.0, generic_subject_p=0.15, wrap_p=0.25, closers=_CALM_CLOSERS
    )


def _compose_spoken(template: str, lang: str, rng: random.Random) -> tuple[str, str]:
    """Renders an utterance with the fillers and restarts of real callers."""
    core = _paraphrase(_render(template, lang, rng, spoken=True), lang, rng)
    text = core
    flang = "zh" if lang == "mixed" else lang
    fillers = _FILLERS[flang]
    if rng.random() < 0.35:
        text = _join(flang, rng.choice(_OPENING_FILLERS[flang] + fillers), text)
    if rng.random() < 0.15:
        text = _join(flang, text, rng.choice(_TRAILERS[flang]))
    if flang == "en":
        words = text.split()
        if len(words) > 2 and rng.random() < 0.15:
            words.insert(rng.randrange(1, len(words)), rng.choice(fillers))
        if len(words) > 1 and rng.random() < 0.1:  # a restart: "i i want"
            i = rng.randrange(len(words) - 1)
            words.insert(i, words[i])
        return core, " ".join(words)
    breaks = _zh_breaks(text)
    if breaks and rng.random() < 0.15:
        i = rng.choice(breaks)
        text = text[:i] + rng.choice(fillers) + text[i:]
        breaks = _zh_breaks(text)
    if breaks and rng.random() < 0.1:  # a restart: "我我想", "帮我帮我查"
        i = rng.choice(breaks)
        j = max(0, i - rng.choice((1, 2)))
        text = text[:i] + text[j:i] + text[i:]
    return core, text


# A filler or restart in Chinese speech falls after a pronoun, particle or
# auxiliary far more often than inside a word.
_ZH_BREAK_AFTER = frozenset("我的了吗呢吧要想把是在个就还都也帮给能说")


def _zh_breaks(text: str) -> list[int]:
    return [i for i in range(1, len(text)) if text[i - 1] in _ZH_BREAK_AFTER and _is_cjk(text[i])]


def _paraphrase(text: str, lang: str, rng: random.Random) -> str:
    """Rewords label-neutral phrases ("could you" / "can you", "为什么" / "为啥")."""
    lowered = text.lower()
    for trigger, pattern, options in _PARAPHRASES[lang]:
        if trigger not in lowered:  # a substring test is far cheaper than the regex
            continue
        m = pattern.search(text)
        if m is None or rng.random() < 0.5:
            continue
        new = rng.choice(options)
        if m.group(0)[:1].isupper():
            new = new[:1].upper() + new[1:]
        text = text[: m.start()] + new + text[m.end():]
    return text


def _noise_written(text: str, lang: str, rng: random.Random) -> str:
    """Adds what real typed messages have: typos, casing, spacing, emoji, script."""
    if lang != "en" and rng.random() < 0.15:
        text = _zh_typo(text, rng)
    if lang != "zh" and rng.random() < 0.2:
        text = _en_typos(text, rng, 1 if rng.random() < 0.7 else 2)
    if lang != "en" and rng.random() < 0.06:
        text = text.translate(_TO_TRAD)
    r = rng.random()
    if lang == "en" and r < 0.15:
        text = text.lower()
    elif lang == "en" and r < 0.17:
        text = text.upper()
    elif lang == "mixed" and r < 0.1:
        text = text.lower()
    r = rng.random()
    if lang != "en" and r < 0.2:
        text = text.translate(_TO_HALF)
    elif lang != "zh" and r < 0.05:
        text = text.translate(_TO_FULL)
    if rng.random() < 0.2:
        text = text.rstrip("。.!！?？")
    elif rng.random() < 0.08:
        text = text.rstrip("。.!！?？") + rng.choice(("!!", "！！！", "??", "？？", "...", "。。。", "~"))
    if rng.random() < 0.1:
        text = _spaces(text, rng)
    if rng.random() < 0.08:
        text = _join("en", text, rng.choice(_NEUTRAL_EMOJI))
    return text


def _noise_sentiment(text: str, lang: str, rng: random.Random) -> str:
    # Call transcripts are scored too: some rows look like ASR output.
    if rng.random() < 0.15:
        return _noise_spoken(text.replace("\n", " "), lang, rng)
    return _noise_written(text, lang, rng)


def _noise_spoken(text: str, lang: str, rng: random.Random) -> str:
    """Makes an utterance look like ASR output: slips, digits, no punctuation."""
    if rng.random() < 0.15:
        text = _asr_slip(text, lang, rng)
    if rng.random() < 0.3:
        text = re.sub(r"\d{3,}", lambda m: _spell_digits(m.group(0), lang, rng), text)
    if lang != "en" and rng.random() < 0.04:
        text = text.translate(_TO_TRAD)
    return _asr_surface(text)


def _asr_surface(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if ch != "'" and unicodedata.category(ch)[0] in "PSZC" else ch for ch in text)
    text = re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", text)
    return " ".join(text.split())


def _spell_digits(digits: str, lang: str, rng: random.Random) -> str:
    if lang == "en":
        names = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
        return " ".join(names[int(d)] for d in digits)
    # Chinese callers read 1 as 幺 in numbers.
    one = "幺" if rng.random() < 0.6 else "一"
    return "".join(("零", one, "二", "三", "四", "五", "六", "七", "八", "九")[int(d)] for d in digits)


def _asr_slip(text: str, lang: str, rng: random.Random) -> str:
    pairs = [(a, b) for a, b in _ASR_SLIPS[lang if lang == "en" else "zh"] if _has(text, a, lang)]
    if not pairs:
        return text
    a, b = rng.choice(pairs)
    if lang == "en":
        return re.sub(rf"\b{re.escape(a)}\b", b, text, count=1)
    return text.replace(a, b, 1)


def _has(text: str, word: str, lang: str) -> bool:
    if lang == "en":
        return re.search(rf"\b{re.escape(word)}\b", text) is not None
    return word in text


def _en_typos(text: str, rng: random.Random, n: int) -> str:
    words = list(re.finditer(r"[A-Za-z]{4,}", text))
    chosen = sorted(rng.sample(words, min(n, len(words))), key=lambda m: m.start(), reverse=True)
    for m in chosen:  # right to left, so earlier offsets stay valid
        w = m.group(0)
        i = rng.randrange(1, len(w) - 1)
        op = rng.randrange(4)
        if op == 0:
            typo = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        elif op == 1:
            typo = w[:i] + w[i + 1:]
        elif op == 2:
            typo = w[:i] + w[i] + w[i:]
        else:
            typo = w[:i] + rng.choice(_KEY_NEIGHBOURS.get(w[i].lower(), w[i])) + w[i + 1:]
        text = text[: m.start()] + typo + text[m.end():]
    return text


def _zh_typo(text: str, rng: random.Random) -> str:
    pairs = [(a, b) for a, b in _ZH_SLIPS if a in text]
    if pairs and rng.random() < 0.7:
        a, b = rng.choice(pairs)
        return text.replace(a, b, 1)
    cjk = [i for i, ch in enumerate(text) if _is_cjk(ch)]
    if len(cjk) < 6:
        return text
    i = rng.choice(cjk)  # a dropped character, as when typing fast
    return text[:i] + text[i + 1:]


def _spaces(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return "  " + text + " "
    gaps = [m.end() for m in re.finditer(r"[ ，,。.]", text)]
    if not gaps:
        return text + "  "
    i = rng.choice(gaps)
    return text[:i] + rng.choice(("  ", "   ", " ")) + text[i:]


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _key(text: str) -> str:
    """Normalised form for near-duplicate detection: letters only, digits as 0."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TO_SIMP)
    return _NON_WORD.sub("", _DIGITS.sub("0", text))


_DIGITS = re.compile(r"\d+")
_NON_WORD = re.compile(r"[\W_]+")


_STYLES: Mapping[str, _Style] = MappingProxyType({
    "category": _Style(_compose_category, _noise_written, body_cap=3, body_cap_max=6),
    # Callers' fillers and restarts are most of the variety of "yes" or
    # "bye", so one core utterance may appear with a few of them.
    "intent": _Style(_compose_spoken, _noise_spoken, body_cap=4, body_cap_max=12),
    "sentiment": _Style(_compose_sentiment, _noise_sentiment, body_cap=3, body_cap_max=6),
})


# --------------------------------------------------------------------------
# Slot lexicons
# --------------------------------------------------------------------------


def _order(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return str(rng.randint(10**11, 10**16))
    if r < 0.7:
        return f"SB{rng.randint(10**7, 10**8 - 1)}"
    if r < 0.85:
        return f"#{rng.randint(100000, 999999)}"
    return f"{rng.randint(2023, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(1000, 9999)}"


def _spoken_order(lang: str, rng: random.Random) -> str:
    return str(rng.randint(10**5, 10**12))


def _price(rng: random.Random) -> int:
    return rng.choice((rng.randint(5, 99), rng.randint(100, 999), rng.randint(1000, 8999)))


def _amount_zh(rng: random.Random) -> str:
    n = _price(rng)
    return rng.choice((f"{n}元", f"¥{n}", f"{n}块", f"{n}块钱", f"{n}.{rng.randint(0, 99):02d}元", f"￥{n}"))


def _amount_en(rng: random.Random) -> str:
    n = _price(rng)
    return rng.choice((f"${n}", f"${n}.{rng.randint(0, 99):02d}", f"{n} dollars", f"£{n}", f"€{n}", f"RMB {n}",
                       f"{n} USD"))


def _spoken_amount(lang: str, rng: random.Random) -> str:
    n = _price(rng)
    if lang == "en":
        return rng.choice((f"{n} dollars", f"{n} bucks", f"{n} pounds", f"{n} euros"))
    return rng.choice((f"{n}块", f"{n}块钱", f"{n}元"))


def _phone_zh(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}****{rng.randint(0, 9999):04d}"


def _phone_en(rng: random.Random) -> str:
    return rng.choice((f"+1 555 01{rng.randint(0, 99):02d}", f"07700 900{rng.randint(0, 999):03d}",
                       f"(555) 01{rng.randint(0, 99):02d}"))


def _email(rng: random.Random) -> str:
    user = rng.choice(("lily.wang", "chen88", "mike_t", "j.smith", "zhangwei2020", "sarah.k", "liu.yang", "tom1990"))
    return f"{user}@{rng.choice(('example.com', 'example.org', 'mail.example.net'))}"


def _error_code(rng: random.Random) -> str:
    return rng.choice((f"E{rng.randint(100, 999)}", f"0x{rng.randint(0, 0xFFFFFF):08X}", f"{rng.choice((400, 401, 403, 500, 502, 503))}",
                       f"ERR_{rng.randint(1000, 9999)}", f"E-{rng.randint(10, 99)}"))


_LEXICON: Mapping[str, Mapping[str, object]] = MappingProxyType({
    "zh": MappingProxyType({
        "product": ("蓝牙耳机", "扫地机器人", "空气炸锅", "电饭煲", "羽绒服", "运动鞋", "保温杯", "机械键盘", "显示器",
                    "电动牙刷", "吹风机", "行李箱", "床垫", "净水器", "婴儿推车", "台灯", "咖啡机", "智能手表", "平板电脑",
                    "充电宝", "投影仪", "加湿器", "猫粮", "洗衣液", "面膜", "连衣裙", "登山包", "路由器", "微波炉",
                    "儿童书包", "手机壳", "电热水壶", "蓝牙音箱", "办公椅", "冰箱", "洗碗机", "跑步机", "奶粉", "沙发"),
        "order": _order,
        "date": ("昨天", "前天", "上周五", "3月12号", "11月8日", "上个月底", "周一", "双十一那天", "今天上午", "上周",
                 "大前天", "这个月初", "5号", "上周末", "6月18号", "上个礼拜三", "半个月前", "月初"),
        "future": ("周五", "下周一", "这个周末", "月底", "15号", "明天", "后天", "下个月初", "国庆"),
        "dur": ("三天", "五天", "一个星期", "两周", "十天", "半个月", "一个多月", "48小时", "7天", "整整一周", "四五天",
                "两个多星期", "20天", "好几天", "一个月"),
        "amount": _amount_zh,
        "city": ("北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆", "天津", "苏州", "长沙",
                 "郑州", "青岛", "厦门", "昆明", "哈尔滨", "大连", "宁波", "合肥", "济南", "福州", "南宁", "乌鲁木齐"),
        "courier": ("顺丰", "中通", "圆通", "韵达", "申通", "京东物流", "邮政", "EMS", "极兔", "德邦", "快递"),
        "pay": ("微信支付", "支付宝", "银行卡", "信用卡", "花呗", "云闪付", "Apple Pay", "余额", "储蓄卡", "京东白条"),
        "app": ("App", "小程序", "官网", "客户端", "商城App", "会员小程序", "手机App", "网页版", "公众号"),
        "device": ("路由器", "智能门锁", "扫地机", "手表", "摄像头", "智能音箱", "电视盒子", "打印机", "平板", "手机",
                   "空调", "洗衣机", "电视", "笔记本"),
        "name": ("张先生", "李女士", "王伟", "刘洋", "陈静", "小赵", "周女士", "黄先生", "杨帆", "林晓"),
        "agent": ("客服小美", "工号1024的客服", "那个客服", "小王", "售后的李经理", "客服专员", "工号886", "接线员"),
        "err": _error_code,
        "phone": _phone_zh,
        "email": _email,
        "n": ("两", "三", "四", "五", "好几", "六", "七八"),
        "time": ("早上9点", "下午三点", "晚上八点", "中午12点", "上午十点", "傍晚六点"),
        "color": ("黑色", "白色", "蓝色", "粉色", "灰色", "红色", "墨绿色"),
        "size": ("S码", "M码", "L码", "XL码", "38码", "42码", "大号", "小号"),
        "emo_neg": ("😡", "😤", "🤬", "👎", "😠", "💢", "🙄", "😒", "😞"),
        "emo_pos": ("😊", "👍", "❤️", "🎉", "😄", "💯", "🥰", "👏", "🌹"),
        "neg_adj": ("太差了", "很糟糕", "烂透了", "差劲透了", "让人失望", "一塌糊涂", "太离谱了", "非常不专业", "糟透了",
                    "不像话", "让人寒心", "一言难尽"),
        "pos_adj": ("很棒", "太好了", "非常好", "没得说", "真不错", "很赞", "超级好", "特别给力", "非常专业", "很到位",
                    "无可挑剔", "让人放心"),
        "contact": ("妈妈", "老王", "张伟", "李娜", "我老婆", "小刘", "王总", "我儿子"),
        "thing": ("西红柿炒蛋", "熊猫", "黑洞", "长城", "奥运会", "钢琴", "足球", "火锅", "恐龙", "向日葵", "咖啡豆",
                  "月亮", "太阳能", "元宵节", "乒乓球", "蛋炒饭", "广场舞", "金鱼", "火山", "象棋", "饺子", "台风"),
    }),
    "en": MappingProxyType({
        "product": ("wireless earbuds", "robot vacuum", "air fryer", "rice cooker", "down jacket", "running shoes",
                    "water bottle", "mechanical keyboard", "monitor", "electric toothbrush", "hair dryer", "suitcase",
                    "mattress", "water filter", "stroller", "desk lamp", "coffee maker", "smartwatch", "tablet",
                    "power bank", "projector", "humidifier", "cat food", "laundry detergent", "dress",
                    "hiking backpack", "router", "microwave", "phone case", "kettle", "bluetooth speaker",
                    "office chair", "fridge", "dishwasher", "treadmill", "baby formula", "sofa", "iPhone 15",
                    "AirPods", "Kindle", "MacBook charger"),
        "order": _order,
        # Bare time phrases: they follow "ordered", "since", "by" and "was" alike.
        "date": ("yesterday", "last Friday", "March 12", "last week", "Monday", "Black Friday", "this morning",
                 "last month", "Tuesday", "Nov 8", "last weekend", "the 3rd of May", "Sunday night"),
        "future": ("Friday", "next Monday", "the weekend", "the end of the month", "the 15th", "tomorrow",
                   "next week", "Christmas"),
        "dur": ("3 days", "five days", "a week", "two weeks", "10 days", "half a month", "over a month", "48 hours",
                "7 days", "a whole week", "4-5 days", "nearly three weeks", "20 days", "several days", "a month"),
        "amount": _amount_en,
        "city": ("Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Chengdu", "Hangzhou", "London", "Manchester",
                 "Berlin", "Toronto", "Singapore", "Sydney", "New York", "Austin", "Madrid", "Dublin", "Chicago",
                 "Seattle", "Melbourne", "Hong Kong", "Vancouver", "Leeds"),
        "courier": ("DHL", "UPS", "FedEx", "USPS", "Royal Mail", "DPD", "SF Express", "EMS", "Evri", "the courier",
                    "Canada Post", "Amazon Logistics"),
        "pay": ("credit card", "debit card", "PayPal", "Apple Pay", "Google Pay", "bank transfer", "gift card",
                "Alipay", "WeChat Pay", "store credit", "Visa", "Mastercard", "Klarna", "Amex"),
        "app": ("the app", "the mobile app", "your website", "the web portal", "the iOS app", "the Android app",
                "the mini program", "the online store", "my account page"),
        "device": ("router", "smart lock", "robot vacuum", "watch", "security camera", "smart speaker", "TV box",
                   "printer", "tablet", "phone", "air conditioner", "washing machine", "TV", "laptop"),
        "name": ("John", "Maria", "Sarah Lee", "Mr. Patel", "Emma", "David", "Chen Wei", "Olivia", "Ahmed", "Grace"),
        "agent": ("Kevin", "the agent", "your rep", "Amy from support", "agent 1024", "the woman on the phone",
                  "your colleague", "the supervisor", "the guy on chat"),
        "err": _error_code,
        "phone": _phone_en,
        "email": _email,
        "n": ("two", "three", "four", "five", "several", "3", "4", "six", "multiple"),
        "time": ("9am", "3 pm", "8 in the evening", "noon", "10:30", "6pm"),
        "color": ("black", "white", "blue", "pink", "grey", "red", "dark green"),
        "size": ("small", "medium", "large", "XL", "size 8", "size 42", "EU 38"),
        "emo_neg": ("😡", "😤", "🤬", "👎", "😠", "💢", "🙄", "😒", "😞"),
        "emo_pos": ("😊", "👍", "❤️", "🎉", "😄", "💯", "🥰", "👏", "🙌"),
        "neg_adj": ("terrible", "awful", "horrible", "dreadful", "appalling", "useless", "pathetic", "shocking",
                    "lousy", "rubbish", "disgraceful", "unacceptable", "atrocious", "abysmal", "a total mess",
                    "really disappointing"),
        "pos_adj": ("great", "excellent", "amazing", "fantastic", "brilliant", "superb", "wonderful", "outstanding",
                    "perfect", "top-notch", "awesome", "lovely", "first-class", "spot on", "really impressive",
                    "faultless"),
        "contact": ("mom", "dave", "my wife", "sarah", "the office", "jessica", "my brother", "coach mike"),
        "thing": ("panda", "black hole", "great wall", "olympics", "piano", "football", "hot pot", "dinosaur",
                  "sunflower", "coffee beans", "moon", "solar power", "halloween", "ping pong", "fried rice",
                  "soap opera", "goldfish", "volcano", "chess", "dumplings", "typhoon", "rainbow"),
    }),
})

_MIXED_EN_SLOTS = frozenset({"product", "app", "pay", "device", "courier"})

_SPOKEN_SLOTS: Mapping[str, Callable[[str, random.Random], str]] = MappingProxyType({
    "order": _spoken_order,
    "amount": _spoken_amount,
})


# --------------------------------------------------------------------------
# Label-neutral wrappers and noise tables
# --------------------------------------------------------------------------

# Openers and closers carry no label, so a model learns to look past them.
_OPENERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "zh": ("您好，", "你好，", "客服你好，", "在吗？", "亲，", "麻烦问一下，", "我是老客户了，", "你好，我是{name}，",
           "打扰一下，", "hi，", "客服，", "您好！", "你好呀，", "喂，"),
    "en": ("Hi,", "Hello,", "Hi there,", "Hello team,", "Dear support,", "Hey,", "Good morning,",
           "Hi, this is {name}.", "To whom it may concern,", "Hi guys,", "Hello support team,", "Hiya,"),
})
_CLOSERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "zh": ("谢谢。", "麻烦尽快处理，谢谢！", "急，在线等。", "请尽快回复。", "辛苦了。", "我的手机号是{phone}。",
           "订单号：{order}", "期待您的回复。", "谢谢！", "麻烦了", "请回电{phone}", "等你们消息。", "急急急"),
    "en": ("Thanks.", "Thanks in advance!", "Please advise.", "Please get back to me asap.", "Regards, {name}",
           "My order number is {order}.", "Appreciate your help.", "Cheers", "Thank you.", "Kind regards",
           "You can reach me on {phone}.", "Sent from my iPhone", "Waiting for your reply."),
})

_GENERIC_SUBJECTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "zh": ("咨询", "求助", "您好", "订单{order}", "关于我的订单", "售后问题", "问题反馈", "急！", "客户来信", "请回复",
           "Re: 订单{order}", "无主题", "在线留言", "来自{app}的反馈"),
    "en": ("Help needed", "Question", "Hello", "Order {order}", "About my order", "Re: your order {order}", "Urgent",
           "Customer enquiry", "Feedback", "(no subject)", "Support request", "Issue", "Fwd: order confirmation",
           "Message from {app}"),
})

_CALM_CLOSERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "zh": ("谢谢。", "我的手机号是{phone}。", "订单号：{order}", "谢谢！", "麻烦了"),
    "en": ("Thanks.", "Regards, {name}", "My order number is {order}.", "Cheers", "Thank you.", "Kind regards",
           "Sent from my iPhone"),
})

_FILLERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "zh": ("呃", "嗯", "那个", "就是", "额", "啊", "这个", "就是说", "然后"),
    "en": ("um", "uh", "er", "like", "so", "uhm", "you know", "i mean"),
})
_OPENING_FILLERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "zh": ("喂", "你好", "喂你好", "您好", "哎", "喂喂", "那个啥"),
    "en": ("hi", "hello", "hey", "well", "okay so", "hi there", "yeah hi", "good morning"),
})
_TRAILERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "zh": ("啊", "呢", "吧", "谢谢", "好吗", "可以吗", "麻烦了", "谢谢啊"),
    "en": ("please", "thanks", "thank you", "okay", "right now", "if you can", "thanks a lot"),
})

_ParaphraseRule = tuple[str, re.Pattern[str], tuple[str, ...]]


def _paraphrase_table(rules: Sequence[tuple[str, tuple[str, ...]]], words: bool) -> tuple[_ParaphraseRule, ...]:
    flags = re.IGNORECASE if words else 0
    return tuple(
        (p.split("(?")[0].lower(), re.compile(rf"\b{p}\b" if words else p, flags), opts) for p, opts in rules
    )


# Label-neutral rewordings applied to every task, so that a template without
# slots still has several surface forms. Chinese rules run in order, so
# "为什么" is handled before "什么".
_ZH_PARAPHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("请问", ("想问下", "问一下", "想请问一下")),
    ("查一下", ("查查", "查询一下", "看一下")),
    ("帮我", ("帮忙", "给我")),
    ("一直", ("老是", "总是", "始终")),
    ("已经", ("都", "早就")),
    ("为什么", ("为啥", "怎么")),
    ("什么", ("啥",)),
    ("怎么办", ("咋办", "该怎么办")),
    ("怎么(?!办)", ("咋",)),
    ("现在", ("目前",)),
    ("能不能", ("可不可以", "能否", "可以")),
    ("非常", ("特别", "很", "十分")),
    ("没有(?!了)", ("没",)),
    ("我想", ("我要", "想")),
    ("东西", ("货", "商品")),
    ("订单(?!号)", ("单子",)),
    ("谢谢", ("多谢", "感谢", "谢啦")),
    ("还没(?!有)", ("还没有", "仍没")),
    ("了吗", ("了没", "了没有")),
    ("是不是", ("是否",)),
    ("一下(?![A-Za-z])", ("下", "")),  # not before Latin: "update一下delivery" must keep a gap
    ("好几", ("几",)),
    ("我的(?!天)", ("我",)),
    ("你们", ("你们家", "贵公司", "您们")),
    ("很", ("挺", "蛮", "特别")),
    ("尽快", ("赶紧", "抓紧")),
    ("到现在", ("至今", "到目前为止")),
    ("一个(?!星期|多|月)", ("个",)),
    ("但是", ("可是", "不过", "但")),
    ("如果", ("要是", "假如")),
    ("告诉我", ("跟我说", "通知我")),
    ("马上", ("立刻", "立即")),
    ("真的", ("真是", "确实")),
    ("可以(?!的)", ("能",)),
    ("吗(?=[？?]|$)", ("么", "不")),
    ("麻烦(?=帮|你|您|查|看|处理|尽快)", ("劳烦", "辛苦")),
    ("我们", ("咱们",)),
    ("了(?=[，。！？,.!?]|$)", ("啦", "了呀")),
)
_EN_PARAPHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("can you", ("could you", "would you", "can u")),
    ("could you", ("can you", "would you")),
    ("i want to", ("i'd like to", "i wanna", "i need to")),
    ("i'd like to", ("i want to", "i would like to")),
    ("i need to", ("i have to", "i gotta")),
    ("hasn't", ("has not", "hasnt")),
    ("haven't", ("have not", "havent")),
    ("can't", ("cannot", "cant", "can not")),
    ("doesn't", ("does not", "doesnt")),
    ("don't", ("do not", "dont")),
    ("isn't", ("is not", "isnt")),
    ("won't", ("will not", "wont")),
    ("didn't", ("did not", "didnt")),
    ("i'm", ("i am", "im")),
    ("it's", ("it is", "its")),
    ("what's", ("what is", "whats")),
    ("please", ("pls", "plz")),
    ("really", ("truly", "genuinely")),
    ("my order(?! number)", ("my purchase",)),
    ("package", ("parcel",)),
    ("parcel", ("package",)),
    ("thanks", ("thank you", "thx", "ty")),
    ("how do i", ("how can i", "what do i do to")),
    ("a lot(?! of)", ("so much", "loads")),
    ("right now", ("now", "immediately")),
    ("i think", ("i believe", "i guess")),
    ("i've", ("i have", "ive")),
    ("you're", ("you are", "youre")),
    ("there's", ("there is", "theres")),
    ("that's", ("that is", "thats")),
    ("wasn't", ("was not", "wasnt")),
    ("very", ("really", "super", "extremely")),
    ("a few", ("some", "a couple of")),
    ("going to", ("gonna",)),
    ("want to", ("wanna",)),
    ("where is", ("where's",)),
    ("because", ("cause", "since")),
    ("anyone", ("anybody",)),
    ("someone", ("somebody",)),
    ("nobody", ("no one",)),
    ("quickly", ("fast", "promptly")),
    ("hi", ("hello", "hey")),
    ("ok", ("okay", "alright")),
    ("yes", ("yeah", "yep")),
)
_PARAPHRASES: Mapping[str, tuple[_ParaphraseRule, ...]] = MappingProxyType({
    "zh": _paraphrase_table(_ZH_PARAPHRASES, words=False),
    "en": _paraphrase_table(_EN_PARAPHRASES, words=True),
    "mixed": _paraphrase_table(_ZH_PARAPHRASES, words=False) + _paraphrase_table(_EN_PARAPHRASES, words=True),
})

_NEUTRAL_EMOJI = ("🙏", "🤔", "📦", "😅", "👀", "❓", "🙋", "📱", "⏰")

# Pinyin-IME slips and internet spellings seen in real Chinese messages.
_ZH_SLIPS: tuple[tuple[str, str], ...] = (
    ("订单", "定单"), ("账号", "帐号"), ("账户", "帐户"), ("登录", "登陆"), ("已经", "以经"), ("在", "再"),
    ("的", "得"), ("的", "地"), ("哪", "那"), ("吗", "嘛"), ("做", "作"), ("需要", "须要"), ("反映", "反应"),
    ("怎么", "肿么"), ("没有", "木有"), ("非常", "灰常"), ("什么", "神马"), ("这样", "酱紫"), ("收到", "收道"),
    ("快递", "快第"), ("一直", "一只"), ("退款", "退宽"), ("处理", "处里"), ("问题", "文题"), ("再", "在"),
)
_ASR_SLIPS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType({
    "zh": (("订单", "定单"), ("账号", "帐号"), ("登录", "登陆"), ("地址", "地质"), ("快递", "快的"), ("退款", "退宽"),
           ("人工", "人公"), ("投诉", "头诉"), ("包裹", "包过"), ("取消", "取销"), ("客服", "客府"), ("密码", "米码"),
           ("付款", "父款"), ("再", "在"), ("是", "事"), ("什么", "神么"), ("物流", "无流"), ("验证码", "验证吗")),
    "en": (("to", "two"), ("for", "four"), ("there", "their"), ("order", "odor"), ("no", "know"), ("right", "write"),
           ("refund", "re fund"), ("cancel", "cancer"), ("address", "a dress"), ("account", "a count"),
           ("human", "humane"), ("where", "wear"), ("package", "packet"), ("charged", "charge"), ("bye", "buy"),
           ("agent", "asian"), ("mail", "male"), ("late", "lake"), ("two", "to"), ("card", "car")),
})

_KEY_NEIGHBOURS: Mapping[str, str] = MappingProxyType({
    "a": "qs", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
})

# Simplified -> Traditional for the characters our templates use most; a
# small share of zh rows is written in Traditional (Hong Kong, Taiwan).
_TRAD_PAIRS = (
    "订訂 单單 货貨 还還 没沒 发發 么麼 这這 个個 们們 时時 间間 请請 问問 为為 账賬 号號 码碼 录錄 钱錢 费費 买買 卖賣 东東 "
    "说說 话話 电電 脑腦 机機 后後 里裡 对對 经經 过過 给給 让讓 错錯 质質 坏壞 应應 该該 见見 谢謝 气氣 务務 网網 络絡 "
    "无無 开開 关關 闭閉 换換 递遞 达達 转轉 户戶 决決 题題 处處 实實 现現 样樣 长長 态態 满滿 骗騙 烂爛 极極 简簡 难難 "
    "办辦 帮幫 询詢 运運 输輸 邮郵 签簽 丢丟 损損 车車 边邊 几幾 两兩 银銀 额額 余餘 显顯 统統 软軟 级級 载載 设設 "
    "备備 连連 线線 声聲 灯燈 语語 证證 验驗 认認 变變 动動 从從 来來 会會 员員 险險 与與 价價 优優 总總 结結 头頭 "
    "图圖 乐樂 欢歡 兴興 爱愛 赞讚 专專 业業 点點 准準 确確 亲親 听聽 块塊 万萬 继繼 续續 写寫 试試 键鍵 异異 响響 "
    "热熱 伤傷 尽盡 补補 偿償 赔賠 诉訴 讲講 扰擾 吗嗎 谁誰 码碼 钟鐘 纸紙 缩縮 颜顏 色色 装裝 坚堅 惊驚 喜喜 "
    "仓倉 库庫 调調 务務 态態 负負 责責 导導 报報 条條 产產 品品 维維 修修 馈饋 费費 贵貴 划劃 扣扣 币幣 "
    "双雙 饭飯 鲜鮮 质質 烦煩 极極 团團 队隊 频頻 视視 讯訊 项項 页頁 齐齊 断斷 启啟 缓緩 闪閃 刷刷 卡卡 户戶"
)
_TO_TRAD = str.maketrans({p[0]: p[1] for p in _TRAD_PAIRS.split() if p[0] != p[1]})
_TO_SIMP = str.maketrans({p[1]: p[0] for p in _TRAD_PAIRS.split() if p[0] != p[1]})
_TO_HALF = str.maketrans({"，": ",", "。": ".", "？": "?", "！": "!", "：": ":", "；": ";", "（": "(", "）": ")",
                          "“": '"', "”": '"'})
_TO_FULL = str.maketrans({",": "，", "?": "？", "!": "！", ":": "：", ";": "；"})


# --------------------------------------------------------------------------
# Templates
#
# One template per line; "SUBJECT || BODY" gives ticket-style texts an
# optional subject line. Append new templates at the end of a block: a
# template's id is its line number in the block. Lines starting with "#" are
# comments.
# --------------------------------------------------------------------------

_CATEGORY: dict[str, dict[str, str]] = {
    "logistics": {
        "zh": """
[快递|包裹|东西]一直没到 || 我{date}下的单，订单号{order}，到现在已经{dur}了还没收到，物流信息也不更新，麻烦帮忙查一下。
物流信息[好几天|{dur}]没更新了 || 订单{order}的物流停在{city}中转站不动了，请问是什么情况？
[显示已签收|没收到货] || 物流显示已签收，但我根本没收到包裹，家里也没人签过，{courier}的快递员电话也打不通。
查询物流 || 你好，我买的{product}发的是哪家快递？[单号是多少？|]页面上看不到物流信息。
|| 说好的{dur}内发货，现在还显示待发货，到底什么时候能发？
配送地址填错了 || 下单的时候收货地址写成了{city}的旧地址，还没发货的话能不能帮我改一下？
派送中一直不送 || {courier}显示我的件在派送中，可是从{date}到现在一直是派送中，快递员也联系不上。
包裹被退回 || 物流显示包裹被退回发件地了，我没拒收啊，能不能重新给我寄一次？
|| 快递员没打电话就直接放快递柜了，我人在外地取不了，能不能改成送货上门？
[只到了一部分|少了一个包裹] || 一共买了{n}件，今天只收到一个包裹，剩下的在哪里？
|| 请问发{city}一般要几天能到？我{future}之前要用，[赶得上吗|来得及吗]？
[是不是丢件了|包裹丢了吗] || 物流显示到了{city}就再也没动静了，已经{dur}了，是不是丢件了？
催发货 || 付款都{dur}了还没发货，别人家都是当天发，你们仓库是不是把我的单忘了？
|| 能不能指定用{courier}发货？我这边别的快递[送不到|不派送]。
运输途中压坏了 || 包裹外箱被压得变形了，快递员让我先签收再说，这种运输途中的损坏怎么处理？
|| 订单{order}的预计送达时间是{date}，现在过了还没到，麻烦帮我催一下配送。
[单号查不到|物流单号无效] || 短信里给的快递单号在{courier}官网上查询显示[不存在|无记录]，是不是单号填错了？
|| 想问下[可以自提吗|能不能到店自取]？我就在{city}，不想等快递了。
被别人签收了 || 快递被别人签收了，签收人不是我也不是家里人，请帮我查一下包裹到底去哪了。
[清关|海外仓] || 海外仓发货的那单一直卡在清关，已经{dur}了，需要我提供身份证之类的资料吗？
配送时间 || 这周我都不在家，能不能让快递{future}之后再送？
|| 派送员说我的地址超区不送，让我自己去很远的网点拿，这个能不能帮忙协调一下？
[分拣错了？|物流轨迹异常] || 物流轨迹显示在{city}和另一个城市之间来回转了好几次，是不是分拣错了？
|| 我的订单拆成了{n}个包裹发，只有一个有单号，其他的要怎么查？
加急配送 || 能不能加钱改成次日达或者[加急|顺丰]？东西比较急。
|| 快递柜的取件码过期了，包裹被退回网点了，现在要怎么取？
|| 商品页面写的是次日达，结果{dur}才从仓库发出来，[这配送|物流]也太慢了吧。
大件送货不上楼 || {product}已经送到楼下了，但是送货师傅说不负责送上楼，说好的送货上门呢？
|| 麻烦看一下订单{order}发货了没有，想知道大概哪天能到。
[派送时间|预约送货] || 快递能不能[晚上|周末]送？工作日白天家里没人。
""",
        "en": """
Where is my package? || I ordered {product} {date} (order {order}) and it still hasn't arrived. Tracking hasn't updated in {dur}.
Tracking not updating || The tracking for order {order} has been stuck at the {city} sorting facility for {dur}. Can you check what's going on?
[Marked as delivered but not received|Package not received] || Tracking says delivered but there's nothing at my door. I checked with the neighbours and the front desk, no package.
Which courier? || Which courier did you use for my order? I can't find a tracking number anywhere in {app}.
Order not shipped yet || It's been {dur} since I paid and the order still says "processing". When will it ship?
Wrong delivery address || I entered my old address in {city} by mistake. If it hasn't shipped yet, can you update it?
|| {courier} has shown "out for delivery" since {date} but nothing has come and the driver never called.
Parcel returned to sender || My parcel was returned to sender and I have no idea why. I never refused it. Can you resend it?
|| The [courier|driver|delivery guy] left my [parcel|package|order] in a [locker|pickup point|parcel shop] without [telling me|any notice|calling first] and now the pickup code has [expired|stopped working].
[Partial delivery|Missing parcel] || I ordered {n} items but only one box arrived today. Where are the rest?
|| How long does shipping to {city} usually take? I need it before {future}.
Lost package? || My package has been sitting in {city} for {dur}. Is it lost?
|| Can you ship with {courier} instead? Other carriers don't deliver to my area.
Damaged in transit || The box arrived [crushed|torn open|crushed and soaking wet] and the driver made me sign for it anyway. How do I [report shipping damage|file a claim for transit damage|get this sorted]?
|| Estimated delivery was {date} and it's now past that. Could you chase the carrier please?
Invalid tracking number || The tracking number you emailed me shows "not found" on the {courier} website.
|| Is in-store pickup available in {city}? I'd rather collect it myself than wait for delivery.
[Signed for by someone else|Wrong recipient] || Someone else signed for my package. The name on the proof of delivery isn't anyone in my household.
Stuck in customs || My international order has been held in customs for {dur}. Do I need to provide any documents?
Reschedule delivery || I'm away until {future}. Could the delivery be rescheduled?
|| The [driver|courier|{courier}] says my address in {city} is outside the delivery zone and I have to collect from a depot [miles away|an hour away|across town].
|| Tracking shows [the parcel|order {order}] going back and forth between [two hubs|{city} and another depot] [for {dur}|]. Looks like it was mis-sorted.
Split shipment || My order was split into {n} shipments but I only have a tracking number for one of them.
Express shipping || Can I upgrade [my order|order {order}|the {product}] to [next-day|express|priority] delivery? [Happy to pay the difference.|I need it by {future}.]
|| You advertised 2-day shipping and it took {dur} just to leave the warehouse.
Delivery left downstairs || The delivery guys left the {product} at the building entrance instead of bringing it up to my flat as promised.
|| [{courier}|The courier] marked delivery as "attempted" [{date}|today] while I was home all day - no knock, [just a missed-delivery card|no call, nothing].
|| Has order {order} been [dispatched|shipped|sent out] yet? I [just need|would like] a rough ETA[ for the {product}|].
[Delivery window|Evening delivery] || Is it possible to have [it|the {product}|order {order}] delivered [in the evening|on a Saturday|after {time}]? Nobody is home during the day.
""",
        "mixed": """
我的order还没到，tracking一直显示in transit，已经{dur}了
tracking number查不到 || {courier}官网说tracking number not found，是不是写错了？
package显示delivered了但是我根本没收到啊
能不能帮我check一下订单{order}的物流status？
物流卡在{city}的hub好几天了，是不是lost了？
东西比较急，能upgrade成express shipping吗？
address填错了 || 还没ship的话帮我把address改一下，谢谢
说好{date}送到的，ETA到底是什么时候？
""",
    },
    "returns_refunds": {
        "zh": """
申请退货 || 我买的{product}不太合适，想退货，请问怎么操作？
退款[还没到账|一直没到] || 退货已经寄回去{dur}了，退款还没到账，麻烦查一下订单{order}。
|| 我想把{product}换成{size}的，可以换货吗？
七天无理由 || 收到{dur}了，还在七天无理由期限内吗？想退掉。
[退货地址|退回地址] || 请问退货寄到哪里？[页面上的|客服给的]退货地址好像不对。
退款被拒 || 我的退款申请被驳回了，理由写的是影响二次销售，可是我连包装都没拆。
|| 退回的{product}你们仓库已经签收了，为什么退款还在审核中？
运费谁承担 || 是质量问题才退的，退货运费应该由你们出吧？
|| 我只想退订单里的一件，其他的留着，这个怎么弄？
[退款金额不对|少退了钱] || 我付了{amount}，结果只退了一部分，少退的钱去哪了？
|| 申请了仅退款，商家一直不处理，已经{dur}了。
换货进度 || 换货的商品寄回去了，新的什么时候给我发？
|| 退款退到哪里了？我用的{pay}付的，一直没看到钱。
上门取件 || 东西太大了不好寄，能不能安排快递上门取件退货？
|| 买贵了，刚看到降价了，能不能退差价？
|| 订单{order}不想要了，已经签收了，现在还能退吗？
[售后申请|退货申请]提交不了 || 在{app}上点申请售后一直提示失败，退货申请交不上去。
|| 拒收的包裹已经退回去了，钱多久能原路退回？
退换货政策 || 想问一下你们的退换货政策，拆封了还能退吗？
|| 收到的是{color}的，我要的不是这个颜色，麻烦给我换一个。
|| 退货单号已经填好了，显示你们{date}签收，退款还是没有动静。
[退款到账时间|几天到账] || 退款显示已经成功了，但是银行卡里没有，一般几个工作日到账？
|| 我想退货退款，但是发票弄丢了，还能退吗？
|| 赠品也要一起退回吗？赠品我已经用了。
|| 客服说给我退{amount}，到现在一分钱都没看到。
[要求退款|全额退款] || 东西和描述差太多了，我要求全额退款。
|| 退[货|{product}]的时候[快递员|{courier}的快递员]把单号写错了，[退款会不会受影响|钱还能退回来吗]？
|| 之前申请的换货能不能改成直接退款？
""",
        "en": """
Return request || The {product} doesn't suit me and I'd like to return it. How do I start a return?
Refund not received || I sent the item back {dur} ago and still haven't received my refund for order {order}.
Exchange for another size || Can I exchange the {product} for a {size}?
|| I received it {dur} ago - am I still inside the return window?
Return address || Where should I send the [return|{product}|item] back to? The address on the [label|return form|email] looks wrong.
Refund rejected || My refund request was rejected because the item "can't be resold", but I never even opened the box.
|| Your warehouse signed for my return {date}, so why is the refund still "under review"?
Return shipping cost || The {product} is [faulty|defective|broken], so shouldn't you cover the return [postage|shipping]?
|| I only want to return [one item|the {product}|one of the {n} items] from order {order} and keep the rest. How does that work?
Partial refund || I paid {amount} but was only refunded part of it. Where's the rest?
|| I requested a refund without return {dur} ago and nobody has processed it.
Exchange status || I sent the [exchange|{product}] back [{date}|{dur} ago]. When will the replacement ship?
|| Where did my refund go? I paid with {pay} and there's no sign of the money.
Collection for return || The item is too big to post. Can you arrange a courier to collect the return?
Price drop || The price of the {product} dropped [right after|{dur} after|the day after] I bought it. Can I get the [difference|{amount}] refunded?
|| I don't want order {order} anymore but it's already been delivered. Can I still send it back?
|| The "request return" button in {app} keeps failing, I can't submit my return.
|| The parcel I refused [{date}|at the door] has gone back to you. How long until the money is returned to my [card|{pay}]?
Return policy || What's your return policy [for {product}s|on sale items|]? Can [opened|used|unboxed] items be returned?
|| I got the {color} one, which isn't what I ordered. Please exchange it.
|| Tracking shows you received my return {date} but the refund hasn't moved.
Refund timeline || The refund [of {amount}|for order {order}|] shows as successful but it isn't in my [bank account|{pay}]. How many business days does it take?
|| Can I still return the {product} without the [receipt|original box|tags]?
|| Do I need to send back the free gift too? I've already used it.
|| Your agent promised me a refund of {amount}, and I haven't seen a cent.
Full refund requested || The {product} is nothing like the [description|photos|listing]. I want a full refund[ of {amount}|].
|| [The courier|{courier}] wrote the wrong tracking number on my return [of the {product}|]. Will that [affect|delay] my refund?
|| Can my exchange [for the {product}|on order {order}] be changed to a [straight|full] refund instead?
""",
        "mixed": """
refund什么时候到账啊？已经寄回去{dur}了
我想return这个{product}，怎么申请？
退货的tracking显示你们已经收到了，refund还是没动静
能不能exchange一个{size}的？
申请的refund被reject了，为什么？
我用{pay}付的，refund会退到哪里？
return policy是多少天？[拆了包装|用过一次|没有吊牌了]还能退吗
我要full refund，{product}跟[描述|图片]完全不一样
""",
    },
    "account_login": {
        "zh": """
[登录不了|无法登录] || 我的账号突然登录不了，一直提示密码错误，可是密码我没改过。
收不到验证码 || [登录|注册|改密码]的时候收不到短信验证码，试了[好多次|{n}次]了，手机号是{phone}。
账号被锁定 || 输错了几次密码，账号就被锁定了，怎么解锁？
|| 忘记密码了，点了找回密码但是邮件一直没收到。
[账号被盗|异地登录] || 收到提醒说我的账号在{city}登录了，可是我人不在那里，是不是被盗了？
换绑手机号 || 原来的手机号已经停用了，想换绑新手机号，要怎么操作？
|| 我想注销账号，在{app}里找不到注销的入口。
|| 注册的时候一直提示该手机号已被注册，可是我从来没注册过。
[账号被封|账号冻结] || 我的账号被冻结了，提示存在异常行为，我什么都没做啊。
|| 微信授权登录以后变成了一个新账号，之前的订单和积分都看不到了。
|| 重置密码的链接点开显示[已失效|已过期|链接错误]，重新发了[好几次|{n}次]都是这样。
修改绑定邮箱 || 账号绑定的邮箱想换成{email}，请问在哪里改？
|| 换了新手机以后{app}登不上去了，一直让我验证身份。
两个账号合并 || 我有两个账号，能不能把积分和订单合并到一个账号上？
|| 登录的时候一直提示“账号或密码错误”，可是我确定没输错。
|| 人脸验证一直不通过，账号没法登录。
[会员信息丢失|积分没了] || 登录以后发现会员等级和积分都清零了，是不是账号出问题了？
|| 实名认证提交了{n}次都审核失败，账号一直用不了。
|| 我想修改账号的用户名和头像，但是一直保存不了。
|| 账号设置了双重验证，可是绑定的手机丢了，现在登不进去。
|| 子账号的权限怎么设置？家里人想一起用一个账号。
|| [注册|登录]验证码提示[已过期|错误]，可我[刚收到就填了|一秒钟都没耽误]。
安全问题 || 密保问题的答案忘了，账号申诉要提供什么资料？
|| 我的账号被别人改了密码和手机号，现在完全登不上。
|| 扫码登录网页版一直提示二维码失效。
|| 登录之后马上又被踢出来，反反复复好几次。
|| 请帮我查一下这个手机号{phone}下面绑定了哪个账号。
|| [账号|我的账号]显示不存在，可我[上个月|{date}]还用它[下过单|买过{product}]。
""",
        "en": """
Can't log in || I suddenly can't log in to my account. It keeps saying my password is wrong, but I haven't changed it.
No verification code || I'm not receiving the SMS verification code when I try to log in. My number is {phone}.
Account locked || I mistyped my password a few times and now my account is locked. How do I unlock it?
|| I forgot my password and the reset [email|link|code] never arrives[, not even in spam|]. My email is {email}.
[Suspicious login|Account hacked?] || I got an alert that my account was accessed from {city}, but I've never been there. Has it been hacked?
Change phone number || My old phone number is no longer [active|in use]. How do I link my account to [a new number|{phone}]?
|| I want to delete my account, but I can't find the option anywhere in {app}.
|| Signing up says [my phone number|{phone}|my email] is already registered, but I've never made an account.
Account suspended || My account has been [frozen|suspended|restricted] for "unusual activity" since {date}. I haven't done anything.
|| Logging in with [Google|Apple|WeChat] created a brand new account and my old [orders|orders and points|membership] are gone.
|| The password reset link says it has expired, even when I request a [fresh|new] one [straight away|{n} times].
Change account email || I'd like to change the email on my account to {email}. Where do I do that?
|| After switching to a new phone I can't get into {app}, it keeps asking me to verify my identity.
Merge accounts || I have two accounts. Can you merge the points and order history into one?
|| [{app}|The login page] keeps saying "incorrect username or password" and I'm [100%|completely] sure I typed it right.
|| [Face ID|Fingerprint|Identity] verification keeps failing [in {app}|] so I can't sign in.
Membership missing || After logging in [{date}|today], my membership tier and points have been reset to zero.
|| I've submitted ID verification {n} times and it keeps getting rejected, so my account is unusable.
|| I can't update my [username|profile picture|delivery contact] in {app} - it never saves.
|| I have two-factor authentication on, but I lost the phone it's linked to and now I'm locked out.
|| How do I [set up|add] a family member as a sub-account[ on {app}|]?
|| The [sign-up|login] code says it has expired even though I entered it [straight away|within seconds].
Account recovery || I don't remember my [security questions|old password|registered email]. What do I need for account recovery?
|| Someone changed my password and phone number, I can't access my account at all.
|| The QR code login on [the website|{app}] always says the code is [invalid|expired].
|| I get logged out of {app} again right after logging in, over and over.
|| Can you tell me which account is registered to {phone}?
|| The system says my account doesn't exist, but I [placed an order|bought a {product}] with it {date}.
""",
        "mixed": """
我的account登不上去了，一直说password错误
收不到verification code，试了好几次了
account被lock了[怎么办|，怎么unlock]？[试了{n}次密码|]
想把account绑定的email改成{email}
{app}一直让我重新login，登进去又被踢出来
reset password的link[打开|点进去]说expired了，发到{email}的
两个account能merge吗？[积分|订单记录]想合在一起
手机[丢了|换号了]，two-factor验证过不了，进不去account
""",
    },
    "billing_payment": {
        "zh": """
[重复扣款|扣了两次钱] || 同一个订单我被扣了两次款，每次{amount}，麻烦退一笔给我。
付款失败 || 用{pay}付款一直提示支付失败，但是余额是够的。
|| 钱已经扣了，可是订单还显示待付款，订单号{order}。
开发票 || 请问怎么开发票？我需要公司抬头的增值税专用发票。
发票信息错误 || 发票抬头开错了，税号也不对，能重新开一张吗？
[莫名扣费|不明扣款] || 我没买任何东西，银行卡却被扣了{amount}，账单上显示是你们公司。
自动续费 || 会员到期自动续费扣了我{amount}，我根本不知道开通了自动续费，怎么关掉？
|| [优惠券|满减券|{amount}的券]明明在有效期内，结算的时候就是用不了。
[价格不一致|多收钱] || 页面上显示的价格和结算时的价格不一样，多收了我{amount}。
|| 能不能分期付款？用{pay}可以分几期？
|| [信用卡|{pay}]付款总是被拒，[银行|银行客服]说[没有问题|卡是正常的]。
|| 下单时选的货到付款，[快递员|{courier}]却说要先[在线支付|用{pay}付]。
积分抵扣 || 下单的时候积分没有抵扣成功，钱多付了。
|| 取消订单以后，预付的定金什么时候退回到{pay}？
|| 绑定银行卡的时候一直提示信息有误，卡号我核对过好几遍了。
账单明细 || 麻烦把[上个月|这个季度|{date}]的消费账单明细发给我，我要报销用。
|| 我用的是企业账户，能不能走对公转账？
|| 满减活动没生效，应该减{amount}的，结果按原价付了。
|| 支付页面一直在转圈，也不知道钱扣没扣。
[礼品卡余额|储值卡] || 礼品卡里的余额显示不对，应该还有{amount}的。
|| 海外信用卡能付款吗？试了Visa一直失败。
|| 订阅{date}就取消了，还在继续扣费，这个月又扣了[一次|{amount}]。
|| [运费|配送费]收了两次，{product}本身是包邮的。
电子发票 || 电子发票什么时候能开出来？发到{email}就行。
|| 付款的时候显示汇率换算，最后[扣的钱|{pay}扣的]比显示的多了{amount}。
|| 我想换一种支付方式，不用{pay}了，已经下的单能改吗？
|| [代金券|优惠券|积分]抵扣后发票金额应该按实付金额开吧？订单{order}。
""",
        "en": """
[Charged twice|Double charge] || I was charged twice for the same order, {amount} each time. Please refund one of them.
Payment failed || My {pay} payment keeps failing even though I have enough funds.
|| The money[ ({amount})|] has left my account but the order still says "[awaiting payment|unpaid]". Order {order}.
Invoice request || How do I get a VAT invoice with my company details on it?
Wrong invoice details || The company name and tax number on my invoice are wrong. Can you reissue it?
[Unknown charge|Unauthorised charge] || There's a charge of {amount} from your company on my statement and I didn't buy anything.
Auto-renewal || My membership auto-renewed and took {amount}. I never agreed to auto-renewal - how do I turn it off?
|| My [coupon|voucher|{amount} voucher] is still valid but checkout won't accept it.
Price mismatch || The price at checkout was higher than the product page. I was overcharged by {amount}.
|| Do you offer instalment plans with {pay}?
|| My [credit card|{pay}] keeps getting declined, and my bank says there's no problem on their side.
|| I chose cash on delivery but [the driver|{courier}] says I must pay [online|by {pay}] first.
Points not applied || My [reward points|member discount|store credit] weren't applied at checkout so I paid [too much|{amount} extra].
|| I cancelled the order - when will the deposit go back to my {pay}?
|| Adding my [bank card|{pay}] keeps saying the details are wrong, but I've checked them [several|{n}] times.
Billing statement || Could you send me an itemised statement for [last month|{date}|the last quarter]? I need it for expenses.
|| Can we pay [for order {order}|for the {product}s|] by bank transfer from our business account?
|| The "spend 200 save 30" offer didn't apply [to the {product}|] and I paid full price[ of {amount}|].
|| The payment page [just spins forever|freezes] [on {app}|] and I can't tell if I was charged.
Gift card balance || My gift card balance is wrong - there should be {amount} left on it.
|| Can I pay with a foreign [credit card|card]? My [Visa|Mastercard|Amex] keeps getting rejected.
|| I cancelled my subscription {date} but you charged me [again this month|{amount} again].
|| I was charged shipping twice on [an order|order {order}] that was supposed to have free shipping.
E-invoice || When will the electronic invoice be issued? Please send it to {email}.
|| The currency conversion at checkout ended up charging me [more than the price shown|{amount} more than shown].
|| Can I switch the payment method on an existing order? I don't want to use {pay}.
|| I need a receipt for order {order} showing the amount I actually paid after the [voucher|discount].
""",
        "mixed": """
我被double charge了，扣了两次{amount}
{pay}付款一直payment failed，余额是够的
auto-renew扣了我{amount}，怎么cancel subscription？
invoice抬头开错了，能重新开吗
coupon code[结算的时候|买{product}的时候]用不了
checkout的价格和页面上不一样，多charge了我{amount}
订单还显示unpaid，但是钱已经扣了
帮我开一张e-invoice，发到{email}
""",
    },
    "product_quality": {
        "zh": """
收到就是坏的 || 刚收到的{product}打开就是坏的，[外壳裂了|屏幕碎了|缺了零件]，这质量也太差了。
质量问题 || {product}用了{dur}就坏了，是不是有质量问题？
|| [衣服|{product}|裤子]洗了一次就严重[缩水|掉色|起球]，跟描述的完全不一样。
[货不对板|和图片不符] || 收到的{product}和图片差别太大了，[颜色和材质都不对|颜色是{color}的|大小也不对]。
|| {product}的包装里少了配件，[说明书和充电线都没有|少了{n}个螺丝|遥控器不见了]。
[是不是假货|怀疑不是正品] || 我怀疑收到的{product}不是正品，做工很粗糙，防伪码也查不到。
|| 食品还没到保质期就发霉了，吃了以后有点拉肚子。
|| {product}有很大的异味，放了好几天都散不掉。
尺码问题 || 买的是{size}，实际穿起来小了一大截，尺码表根本不准。
|| 新买的{product}表面有划痕和污渍，像是别人退回来的二手货。
|| 鞋子穿了{dur}就开胶了，鞋底都掉了。
|| 收到的[水果|樱桃|芒果][一大半|好几个]都烂了，根本没法吃。
[做工差|做工粗糙] || [线头特别多|缝线歪歪扭扭]，[拉链一拉就坏|扣子一碰就掉]，做工太粗糙了。
|| [{product}|这个电器]用的时候有焦糊味，还[发烫|冒烟]，不敢再用了。
|| [家具|{product}|书柜]组装的时候发现有块板子是裂的，螺丝也少了[几颗|{n}颗]。
|| [杯子|保温杯|水壶]漏水，盖子拧紧了还是[漏|往外渗]。
|| 宣传说是[纯棉|真皮|实木]，收到一看[标签是涤纶的|根本不是]。
|| 同一批买的两个{product}，一个正常一个不能用。
|| {product}的电池续航和宣传的差太多了，说的十小时，实际两个小时就没电。
[过期商品|临期] || 收到的商品生产日期是两年前的，马上就要过期了。
|| 玩具有很尖的毛刺，差点划伤孩子的手，这样的安全隐患怎么能卖？
|| 刚用了一次，{product}的把手就断了。
|| [化妆品|面膜|面霜]用了以后脸上过敏起红疹，是不是成分有问题？[{date}买的|]
|| 颜色严重色差，图片是{color}，收到的完全是另一个颜色。
|| 第二次买了，这次的质量明显比上次差很多。
|| 盒子是完好的，但里面的{product}已经变形了。
|| 一套餐具里有{n}个碗有裂纹。
""",
        "en": """
Arrived broken || The {product} arrived broken - [the casing is cracked|the screen is shattered|parts are missing]. Really poor quality.
Quality issue || The {product} stopped working after just {dur}. Is this a known defect?
|| The [shirt|{product}|dress] [shrank|faded|shrank and faded] after one wash. Nothing like the description.
[Not as described|Doesn't match photos] || The {product} I received looks nothing like the photos - [wrong colour and a cheap material|it's {color}, not what I picked|much smaller than shown].
|| The {product} box was missing accessories: [no manual and no charging cable|no remote|{n} screws short].
[Counterfeit?|Possibly fake] || I think the {product} I received is fake. The build is rough and the serial number doesn't verify.
|| The [food|bread|snacks] went mouldy well before the best-before date, and I [felt sick after eating it|had to throw it all out].
|| The {product} has a strong chemical smell that hasn't gone away after days.
Sizing problem || I ordered a {size} but it's way too small. Your size chart is completely off.
|| My new {product} has scratches and stains on it - it looks like someone else's return.
|| The sole came off my shoes after {dur} of normal wear.
|| More than half of the [fruit|cherries|mangoes] in the box [was|were] rotten.
Poor workmanship || Loose threads everywhere and the [zip|strap|button] broke the first time I used [it|the {product}].
|| The appliance gives off a burning smell and gets really hot. I'm scared to use it.
|| While assembling the [furniture|{product}|bookshelf] I found a cracked panel and [several|{n}] screws missing.
|| The [bottle|{product}|flask] leaks even with the lid fully tightened.
|| It was advertised as [100% cotton|real leather|solid wood] but [the label says polyester|it clearly isn't].
|| I bought two {product}s in the same order - one works, the other doesn't.
|| The battery life of the {product} is nowhere near what you advertise. It dies in [two hours|half a day], not [ten|a week].
Expired product || The [item|{product}] I received [{date}|] is past its expiry date.
|| The [toy|{product}] has sharp edges that cut my [child's|son's|daughter's] finger. That's a safety hazard.
|| The handle of the {product} snapped off the first time I used it.
|| I had an allergic reaction to the [cream|face mask|lotion] - red rash all over my [face|hands].
|| The colour is way off: the listing shows {color} and I got something completely different.
|| This is my [second|third] order of the {product} and the quality is noticeably worse than the first one.
|| The packaging was fine but the {product} inside was bent out of shape.
|| {n} of the bowls in the dinner set arrived chipped.
""",
        "mixed": """
收到的{product}是坏的，quality太差了
这个{product}感觉是fake的，做工很粗糙
[衣服|{product}]洗一次就缩水，material根本不是纯棉
{product}的color和图片差太多，完全not as described
{product}用了{dur}就broken了
size严重偏[小|大]，买的{size}，size chart不准
{product}的battery life和宣传的差太远了
包装里少了accessories，没有[充电线|说明书|remote]
""",
    },
    "technical_fault": {
        "zh": """
App闪退 || {app}一打开就闪退，已经重装过了还是不行。
[开不了机|无法开机] || {device}突然开不了机了，充了一晚上电也没反应。
连不上WiFi || {device}一直连不上家里的WiFi，配网到一半就失败。
|| 系统升级之后{device}就一直卡在启动画面。
[报错|错误码] || 使用的时候一直弹出错误代码{err}，说明书上也查不到是什么意思。
|| 蓝牙配对总是失败，手机搜得到但是连不上。
|| {app}的页面一直加载不出来，换了网络也一样。
固件更新失败 || 固件更新到一半失败了，现在{device}指示灯一直闪红灯。
|| {device}用着用着就自动重启，一天能重启好几次。
|| 绑定设备的时候二维码扫不出来，一直提示设备离线。
|| [{device}的|]触摸屏失灵了，点哪里都没反应[，重启也没用|]。
[声音问题|没有声音] || {device}突然没有声音了，音量调到最大也听不见。
|| 遥控器和[电视|电视盒子|空调]配对不上，换了新电池也没用。
|| 摄像头的远程画面一直黑屏，但是本地是正常的。
|| {app}里的消息推送收不到，通知权限都开了。
|| [电脑|笔记本]连上扩展坞以后外接显示器[没有信号|一直闪屏]。
|| 智能门锁的[指纹识别|人脸识别|密码键盘]越来越不灵，经常要[按|试]好几次。
|| {device}充不进电，换了充电器也一样。
|| 打印机一直提示卡纸，可是里面根本没有纸。
|| 升级到最新版本以后，{app}里的数据全部不同步了。
[发热严重|过热] || {device}用一会儿就烫得不行，然后自动关机。
|| 扫地机器人老是[撞墙|原地转圈]，也不会自己回充了[，用了才{dur}|]。
|| {app}登录以后白屏，什么都不显示。
|| [语音助手|智能音箱]听不懂指令，每次都说“我没听清”。
|| 设备显示已连接，但是{app}里一直显示离线。
|| [路由器|WiFi]每天晚上都会断网[几次|{n}次]，要重启才能好。
|| 耳机[左耳|右耳]没声音，另一边正常，[重置过了|重新配对了]也没用。
""",
        "en": """
App keeps crashing || {app} crashes as soon as I open it. I've already reinstalled it.
[Won't turn on|Device dead] || My {device} suddenly won't turn on, even after charging it overnight.
Can't connect to Wi-Fi || The {device} won't connect to my home Wi-Fi - setup fails halfway every time.
|| Since the last system update my {device} is stuck on the boot screen.
[Error code|Error message] || I keep getting error code {err} and it isn't listed anywhere in the manual.
|| Bluetooth pairing [with the {device}|] keeps failing. My phone can see [the device|it] but won't connect.
|| Pages in {app} never finish loading, on Wi-Fi or mobile data.
Firmware update failed || A firmware update failed halfway and now the light on my {device} just blinks red.
|| My {device} keeps rebooting by itself, several times a day.
|| The QR code won't scan when I try to add the {device} [in {app}|] - it just says "device offline".
|| The touchscreen on my {device} has stopped responding to taps[ since {date}|].
No sound || My {device} has no sound at all, even at full volume.
|| The remote won't pair with the [TV|TV box|air conditioner], even with new batteries.
|| The [camera's|security camera's] remote view in {app} is just a black screen, though the local view works.
|| I don't get any push notifications from {app} even though they're enabled.
|| My external monitor shows "no signal" when I connect [my laptop|it] through the docking station.
|| The [fingerprint reader|keypad|face recognition] on the smart lock barely works anymore.
|| The {device} won't charge, and I've tried a different charger.
|| The printer keeps reporting [a paper jam|error {err}] but there's no paper in it.
|| Since updating to the latest version, my data in {app} doesn't sync anymore.
Overheating || The {device} gets extremely hot after a few minutes and then shuts itself off.
|| The robot vacuum keeps [bumping into walls|spinning in circles] and no longer returns to its dock.
|| After logging in, {app} shows a blank white screen.
|| The voice assistant doesn't understand commands and always says "sorry, I didn't get that".
|| The device says it's connected, but it shows as offline in {app}.
|| The [router|Wi-Fi] drops the connection [several|{n}] times every evening until I restart it.
|| The [left|right] earbud has no sound, the other one is fine. [Resetting|Re-pairing] didn't help.
""",
        "mixed": """
{app}一打开就crash，重装了也没用
{device}连不上WiFi，setup到一半就fail
一直弹error code {err}，什么意思？
firmware update失败了，现在{device}开不了机
蓝牙pair不上，手机能搜到但是connect不了
{app}更新之后data不sync了
{device}一直auto reboot，一天好几次
登录[{app}|]以后是blank screen，什么都不显示
""",
    },
    "complaint": {
        "zh": """
投诉客服 || 我要投诉你们的客服{agent}，态度非常恶劣，说两句就挂我电话。
[服务太差|对服务不满] || 同一个问题我已经反映了{n}次了，每次都说会处理，结果一直没人管。
|| 你们的客服一直推来推去，售前说找售后，售后说找商家，到底谁负责？
要求主管处理 || 我对处理结果非常不满意，请让你们的主管或者经理来处理这件事。
|| 说好{time}前给我回电话，到现在都没人联系我，你们说话算数吗？
[虚假宣传|欺骗消费者] || 你们的活动页面写的和实际完全不一样，这就是虚假宣传，我要投诉。
|| 快递员态度极差，还骂人，你们必须给我一个说法。
|| 每次打客服电话都要等[半个小时|四十分钟|一个小时]，好不容易接通了又解决不了问题。
|| 你们的售后就是在敷衍我，发来的都是模板回复，根本没看我写了什么。
投诉升级 || 如果[今天|{future}前]还不给我解决，我就去[消费者协会|12315|市场监管局]投诉。
|| 客服答应给我的补偿到现在都没兑现，你们就是这么做生意的？
|| 我是你们十年的老客户了，这次的经历让我非常失望，以后不会再买了。
|| 你们的工作人员上门服务迟到了两个小时，连个道歉都没有。
|| [客服|{agent}]说话阴阳怪气的，一点都不尊重人。
|| 我的投诉已经提交{dur}了，到现在没有任何回复。
|| 电话里明明说可以，结果操作的时候又说不行，你们内部到底有没有沟通？
[强烈不满|非常愤怒] || 对你们这次的处理方式表示强烈不满，请正视问题。
|| [线下门店|{city}门店]的店员对顾客爱答不理，我问了[三遍|好几遍]都没人理我。
|| 你们频繁给我打营销电话、发短信，已经严重骚扰到我了。
|| 你们泄露了我的个人信息，我收到了好多诈骗电话，必须给我解释。
|| 你们客服的工号是多少？我要对她的服务进行投诉。
|| 转了{n}个部门，每个人都让我重新说一遍问题，太浪费时间了。
|| 出了问题就只会说系统原因，没有一个人愿意承担责任。
|| 我要在网上曝光你们这种不负责任的做法。
|| 说好的48小时内处理，已经过了一周了，这就是你们的服务承诺？
|| 我对你们的服务质量提出正式投诉，请给出书面答复。
|| [聊天窗口|{app}]的机器人什么都答不上来，想找人工也找不到。
""",
        "en": """
Complaint about your agent || I want to complain about {agent}, who was extremely rude and hung up on me.
[Terrible service|Unresolved issue] || I've reported the same issue {n} times. Every time I'm told it'll be handled and nothing happens.
|| Your team keeps passing me around - [sales|the store] tells me to contact support, support tells me to contact [the seller|the warehouse]. Who is responsible?
Escalation request || I'm very unhappy with how this has been handled. Please escalate this to a supervisor or manager.
|| I was promised a call back before {time} and nobody has contacted me. Do your promises mean anything?
[False advertising|Misleading promotion] || Your [promotion page|ad|newsletter] says one thing and you do something completely different. That's false advertising.
|| Your [delivery driver|technician|staff member] was [aggressive|rude] and swore at me. I expect an explanation.
|| Every time I call I wait [half an hour|40 minutes|an hour], and when I finally get through nobody can solve anything.
|| Your support [just sends me canned replies|copy-pastes the same answer]. Nobody actually reads what I write.
Formal complaint || If this isn't resolved today I'm filing a complaint with consumer protection.
|| The [compensation|{amount} voucher|refund] {agent} promised me never happened. Is this how you do business?
|| I've been a loyal customer for [ten|five|many] years and this experience has made me seriously reconsider.
|| Your [technician|installer|delivery team] turned up [two hours|half a day] late and didn't even apologise.
|| [{agent}|The agent] was [sarcastic|condescending|sarcastic and condescending] the whole time.
|| I submitted a complaint {dur} ago and have had no response at all.
|| On the phone I was told yes, then online I'm told no. Do your departments talk to each other?
Strongly dissatisfied || I'm extremely dissatisfied with how you've handled [this|my case|order {order}] and expect it to be taken seriously.
|| The staff in your [store|{city} store] ignored me completely - I asked [three times|several times] and nobody helped.
|| You keep [calling and texting|emailing and texting] me with marketing even after I opted out. It's harassment.
|| You leaked my [personal data|phone number and address] and now I'm getting scam calls. I want an explanation.
|| What's the employee ID of the person I spoke to? I want to file a complaint about her.
|| I was transferred between {n} departments and had to repeat my story every time.
|| Every problem is "[a system issue|a technical problem]" and nobody ever takes responsibility.
|| I'm going to post publicly about how irresponsible your company has been.
|| You promised a response within [48 hours|24 hours] and it's been {dur}. So much for your service guarantee.
|| Please treat this as a formal complaint about [your service|{agent}|how order {order} was handled] and reply in writing.
|| Your chatbot can't answer anything and there's no way to reach a human.
""",
        "mixed": """
我要complain你们的客服，态度太差了
同一个issue反映了{n}次都没人跟进
请escalate给你们的manager处理
说好的call back一直没人打
你们的customer service就是在敷衍人
我要file a formal complaint，[关于{agent}的态度|关于订单{order}的处理]
你们的chatbot什么都不懂，找不到真人
被transfer了{n}次，每次都要重新说一遍
""",
    },
    "general_inquiry": {
        "zh": """
营业时间咨询 || 请问你们客服的工作时间是几点到几点？周末有人吗？
门店地址 || 请问{city}有没有线下门店？具体地址在哪里？
|| 想问一下{product}有没有{color}的？什么时候补货？
保修政策 || {product}的保修期是多久？需要保留购买凭证吗？
|| 你们的会员有哪些权益？积分可以换什么？
产品咨询 || 请问这款{product}适合小户型用吗？功率是多少？
|| 你们支持企业批量采购吗？大概多少量起有优惠？
|| 请问{product}的使用说明在哪里可以下载？
|| 双十一有什么活动吗？现在买和活动时买价格一样吗？
|| 你们可以寄到海外吗？比如寄到{city}？
合作咨询 || 我们是一家做电商的公司，想和你们谈渠道合作，请问联系谁？
|| 请问{product}和上一代相比有什么区别？
|| 这款{product}有没有儿童款？
|| 我想送人，能不能帮忙包装成礼盒，附一张贺卡？
|| 请问你们的产品是在哪里生产的？有质检报告吗？
|| 新用户注册有什么优惠吗？
|| 你们招聘兼职客服吗？
|| 想咨询一下以旧换新怎么参加？
|| 这个{product}可以用{pay}付款吗？（只是问问，还没下单）
|| 你们的{app}在哪里下载？安卓手机能用吗？
|| 请问{product}配件可以单独买吗？
|| [线下门店|{city}的门店]和网上的价格一样吗？[比如{product}|]
|| 想了解一下你们的售后服务都包括哪些内容。
|| 请问有没有电话客服？号码是多少？
|| 这款{product}的尺寸是多少？放得进小车后备箱吗？
|| 学生有折扣吗？需要提供什么证明？
|| 下单前想确认一下，{product}带不带安装服务？
""",
        "en": """
Opening hours || What are your [customer service|phone support|store] hours? Is anyone available [at weekends|on public holidays]?
Store locations || Do you have a physical store in {city}? What's the address?
|| Is the {product} available in {color}? When will it be back in stock?
Warranty question || How long is the warranty on the {product}? Do I need to keep the receipt?
|| What benefits do [members|gold members|VIP members] get? What can I redeem points for?
Product question || Is this {product} suitable for a small apartment? What's the power rating?
|| Do you offer bulk discounts for business orders[ of {product}s|]?
|| Where can I download the user manual for the {product}?
|| Are you running any [Black Friday|holiday|summer] deals? Will the price of the {product} drop?
|| Do you ship internationally, for example to {city}?
Partnership enquiry || We're a [retailer|distributor] in {city} interested in a partnership. Who should we talk to?
|| What's the difference between the {product} and the previous model?
|| Is there a kids' version of this {product}?
|| It's a gift - can you gift-wrap it and add a card?
|| Where [are your products|is the {product}] made? Do you have quality certificates?
|| Are there any [discounts|welcome offers] for new customers[ on {app}|]?
|| Are you hiring [part-time support staff|warehouse staff] in {city}?
|| How does your trade-in programme work for [an old {product}|old devices]?
|| Can I pay for the {product} with {pay}? Just asking before I order.
|| Where can I download {app}? Does it work on Android?
|| Can I buy spare parts for the {product} separately?
|| Are [in-store|{city} store] prices the same as online[ for the {product}|]?
|| What exactly does your after-sales service cover for the {product}?
|| Do you have a phone number for customer service[ in {city}|]?
|| What are the dimensions of the {product}? Will it fit in a small car boot?
|| Do you offer a [student|senior|military] discount? What proof do you need?
|| Before I order: does the {product} come with installation?
""",
        "mixed": """
想问一下{product}有没有{color}的，什么时候restock？
你们有没有student discount？
{product}的warranty是多久？需要保留receipt吗
{city}有offline store吗？
[member|VIP member]有什么benefits？积分能换什么
你们ship international吗？可以寄到{city}吗
customer service的working hours是几点到几点？[周末|holiday]有人吗
{product}和上一代有什么difference？
""",
    },
}

_INTENT: dict[str, dict[str, str]] = {
    "order_status": {
        "zh": """
我想查一下我的订单
帮我查查订单{order}到哪了
我的快递现在到哪了
我买的{product}发货了没有
[我的|]订单现在是什么状态
我想问一下我的包裹[什么时候能到|大概哪天到]
[帮我|]查一下物流
我{date}下的单现在怎么样了
我的东西寄出来了吗
能帮我看看订单进度吗
我想知道我的订单发货没
订单号是{order}[帮我查一下|你看一下]
我那个{product}现在到哪一步了
我要查快递
请问我的货什么时候[到|能送到]
我的订单有没有发出去
查询订单状态
我想跟踪一下我的包裹
我的快递单号是多少
我{date}买的东西到哪里了
东西出库了吗
帮我看下[物流信息|快递信息]
我的订单是不是已经在路上了
我想确认一下[订单有没有下成功|我的单下成功没有]
能告诉我包裹现在在哪吗
我的单子处理了没有
我想问问{product}的配送进度
""",
        "en": """
where is my order
can you check my order status
i want to track my [package|parcel|order]
has my order shipped yet
what's the status of order {order}
i'm calling about my order {order}
when will my {product} arrive
i placed an order {date} and want to know where it is
track my parcel please
is my package on the way
can you tell me where my delivery is
i need an update on my order
did my order go through
has my {product} been dispatched
i want to check on a shipment
what's happening with my order
could you look up my order [for me|]
i'd like to know when my package will be delivered
order status [please|]
i'm trying to find out where my stuff is
can i get a tracking number
i want to know if my order has left the warehouse
[just|] checking on an order i made {date}
where's my parcel at
give me an update on my delivery
has my order been processed yet
when is my package coming
""",
        "mixed": """
我的order到哪了
帮我check一下order status
我的package发货了吗
tracking number是多少
订单{order}的status是什么
我想track一下我的快递
""",
    },
    "delivery_delay": {
        "zh": """
我的快递怎么还没到
都{dur}了还没收到货
说好{date}到的到现在还没来
物流好几天都没动了
怎么这么慢还没送到
我的包裹延误了
快递一直卡着不动
已经超过预计送达时间了
我等了{dur}了东西还没到
为什么我的订单[这么久|{dur}了]还没发货
配送太慢了我急着用
包裹是不是丢了一直没到
快递停在{city}好几天了
说是次日达结果{dur}了还没到
我的货迟迟没有送过来
物流一直显示运输中[好多天了|一直不更新]
你们发货怎么拖了这么久
今天应该到的怎么还没来
快递员一直不[送|派送]
显示派送中{dur}了还没送到
都过了承诺的时间了
我的{product}晚到了好几天
快递延迟了能不能帮我催一下
东西还没到我{future}就要用了
这个单一直没人派送
""",
        "en": """
my package is late
my order still hasn't arrived
it's been {dur} and i haven't received anything
my delivery was supposed to come {date} and it didn't
the tracking hasn't moved in days
why is my order taking so long
my parcel is delayed
it was supposed to be next day delivery and it's been {dur}
the package is stuck in {city}
i've been waiting {dur} for my {product}
my order is overdue
you promised delivery by {date} and it's not here
the courier keeps delaying my delivery
it's said out for delivery since {date}
my shipment is running late
i think my package is lost it never showed up
the estimated delivery date has passed
nothing has arrived yet and it's been ages
why hasn't my order shipped it's been {dur}
my delivery keeps getting pushed back
i was told it would arrive {date} [and still nothing|but nothing came]
the package is way overdue
my order is taking forever
can you chase up my late delivery
it's been sitting at the depot for {dur}
""",
        "mixed": """
我的package delay了好几天
order说好{date}到的还没到
tracking好几天没update了
都{dur}了delivery还没来
快递stuck在{city}不动了
""",
    },
    "return_refund": {
        "zh": """
我要退货
我想[退款|申请退款]
这个{product}我不想要了怎么退
退款什么时候到账
我申请的退款还没收到
怎么办理退换货
我想把{product}退了
能不能给我退钱
退货地址是哪里
我想换一个[尺码|颜色]
东西有问题我要退
退款{dur}了还没到
我要申请售后退款
七天无理由退货怎么弄
我的退货你们收到了没有
什么时候给我退款
你们还欠我{amount}的退款
这个能退吗
我想换货
退货运费谁出
我已经寄回去了钱呢
退款退到哪里了
我想申请仅退款
帮我办一下退货
商品不合适想退回去
""",
        "en": """
i want to return this
i'd like a refund
how do i send back my {product}
when will i get my refund
i still haven't received my refund
i want my money back
can i exchange it for a different size
i returned the item {dur} ago and [no refund yet|still nothing]
how do i start a return
i need a return label
the {product} doesn't fit i want to return it
refund please
i want to return an item
can i get a refund for order {order}
where is my refund
what's your return policy
i sent it back {date} did you get it
can i swap it for another colour
i'd like to exchange my {product}
i was promised a refund of {amount}
i need to return a damaged item
how long do refunds take
my refund hasn't shown up on my card
can you process a return for me
i want to send this back for a refund
""",
        "mixed": """
我要refund
refund什么时候到账
这个{product}我想return
能exchange一个吗
我的refund还没收到
return label在哪里拿
""",
    },
    "cancel_order": {
        "zh": """
我要取消订单
帮我把订单取消了
我不想要了能取消吗
订单{order}帮我取消一下
刚下的单想取消
我下错单了要取消
还没发货的话帮我取消
能不能撤销我的订单
我想取消{product}那个订单
把我{date}下的单取消掉
取消订单
我买重复了取消一个
这个单我不要了
不买了给我取消
我想撤回这个订单
可以取消预订吗
怎么取消订单
我要把订单作废
帮我把没发货的那单取消
我想取消其中一件商品
下单后悔了能退单吗
麻烦把我的订单关掉
我改主意了订单不要了
订单还能取消吗
我要撤单
""",
        "en": """
i want to cancel my order
please cancel order {order}
can i still cancel my order
i need to cancel an order
cancel it please
i ordered by mistake please cancel [it|that]
i'd like to cancel the {product}
i changed my mind cancel the order
can you stop my order before it ships
cancel my order from {date}
i placed a duplicate order cancel one of them
how do i cancel my order
is it too late to cancel
i don't want it anymore [cancel it|please cancel]
please void my order
i want to cancel my purchase
stop the shipment i want to cancel
cancel the whole order
i need to cancel one item from my order
i'd like to withdraw my order
cancel my pre order
take my order off please
i want to call off the order
scrap that order please
can you cancel it for me
""",
        "mixed": """
我要cancel这个order
帮我把order cancel掉
订单{order}能cancel吗
我下错了cancel一下
还没ship的话帮我cancel
""",
    },
    "change_address": {
        "zh": """
我要改收货地址
地址填错了能改吗
帮我把地址改成{city}的
我搬家了要换个地址
能修改配送地址吗
订单{order}的地址要改一下
收件地址写错了
我想改一下送货地址
把收货人电话改一下
改地址
我想换个地址收货
能送到我公司吗不送家里了
帮我把门牌号改一下
地址少写了一个楼号
我要把收件地址改到{city}
我想修改收货信息
快递能改派到别的地址吗
我填的是旧地址帮我改成新的
收货地址要变更
送到另一个地址可以吗
我人在{city}能改寄到这边吗
帮我更新一下地址
改一下我的默认地址
收件人名字和地址都要改
能不能改成送到驿站
""",
        "en": """
i need to change my delivery address
can i update my shipping address
i put the wrong address
please send it to a different address
i moved and need to change my address
change the address on order {order}
can you deliver to my office instead
i want to update my address to {city}
the apartment number is wrong
i need to fix my address
can i redirect my package
update my delivery address please
i entered my old address by mistake
can you change where it's being shipped
i want it sent to my work address
ship it to {city} instead
my zip code is wrong
i need to change the shipping details
can i change the recipient address
change my address
i'm not at home can it go to another address
can the courier deliver it somewhere else
i want to change the postcode on my order
i forgot to add my unit number
please correct my address
""",
        "mixed": """
我要change一下address
address填错了能改吗
帮我把shipping address改成{city}
能redirect到我公司吗
delivery address要update一下
""",
    },
    "account_problem": {
        "zh": """
我登录不上去
密码忘了怎么办
收不到验证码
我的账号被锁了
账号被封了
我想改绑手机号
账号登不进去一直提示密码错误
我要注销账号
[我的|]账号被盗了
怎么找回密码
我换手机号了登不上
会员账号有问题
我想改一下账号绑定的邮箱
登录的时候提示账号异常
帮我解冻一下账号
我注册不了
重置密码的链接打不开
我的账户被冻结了
有人登录了我的账号
我想改用户名
验证码一直发不过来
账号显示不存在
我想合并两个账号
我的会员积分没了
{app}登不进去
""",
        "en": """
i can't log in
i forgot my password
i'm not getting the verification code
my account is locked
my account has been suspended
i need to reset my password
i think my account was hacked
i want to delete my account
i can't sign in to {app}
i changed my phone number and can't log in
how do i change the email on my account
it says my password is wrong but it isn't
the password reset link doesn't work
someone else logged into my account
i can't create an account
my account says it doesn't exist
i need to unlock my account
i lost access to my account
i want to update the phone number on my account
my loyalty points disappeared
i can't get past the two factor [step|code]
my username isn't recognized
i have two accounts and want to merge them
i got locked out after too many attempts
the login page keeps giving me an error
""",
        "mixed": """
我的account登不上
password忘了怎么reset
收不到verification code
account被lock了
{app}一直login失败
""",
    },
    "payment_problem": {
        "zh": """
付款失败了
我被扣了两次钱
钱扣了订单没显示
[支付不了|付不了钱]
{pay}付不了款
我付款一直提示失败
多扣了我{amount}
信用卡付不了
扣款了但是显示未付款
优惠券用不了
我要开发票
价格不对多收了我钱
我没买东西怎么扣费了
自动续费我要关掉
付款页面一直转圈
银行卡绑不上
我付了钱订单却取消了
分期付款怎么弄
为什么我的卡被拒了
能不能换个支付方式
账单金额不对
付款的时候报错了
我被重复扣费了
扣了{amount}不知道是什么钱
发票抬头写错了
""",
        "en": """
my payment failed
i was charged twice
my card got declined
i paid but the order says unpaid
there's a charge i don't recognize
i was overcharged by {amount}
the checkout won't accept my {pay}
i can't pay with {pay}
my coupon code isn't working
i need an invoice
you charged me {amount} more than the price
i was charged for something i didn't buy
how do i cancel the auto renewal
i want to change my payment method
the money left my account but the order didn't go through
can i pay in installments
my bank card won't link
i got billed after i cancelled
the discount wasn't applied
why was my card charged again
the total at checkout is wrong
i need a receipt for my payment
my gift card balance is wrong
the transaction keeps getting rejected
there's a double charge on my statement
""",
        "mixed": """
payment一直失败
我被double charge了
用{pay}付款一直fail
credit card被decline了
coupon用不了
invoice怎么开
""",
    },
    "complaint": {
        "zh": """
我要投诉
你们的服务太差了
我要投诉你们的客服
你们怎么回事啊[一点都不负责|]
这个问题反映了好几次都没人管
我对你们的处理很不满意
态度太差了我要投诉
你们这是欺骗消费者
我要去消协投诉你们
每次打电话都解决不了问题
{agent}态度特别恶劣
你们太不负责任了
我要给差评
一直推来推去到底谁管
你们的快递员骂人
我非常生气
这是什么破服务
说好给我回电话的一直没人打
我要投诉你们的售后
你们的工作人员太不专业了
我已经打了{n}次电话了还没解决
等了这么久还没人处理
你们就是在敷衍我
我要曝光你们
我要反映一个服务问题
""",
        "en": """
i want to make a complaint
your service is terrible
i want to complain about one of your agents
this is ridiculous
i've called {n} times and nobody has fixed it
i'm very unhappy with how this was handled
{agent} was rude to me
i want to escalate my complaint
you promised to call me back and never did
this is the worst customer service ever
i'm going to leave a bad review
nobody takes responsibility
i'm fed up with your company
i want to file a formal complaint
your delivery driver was really rude
i keep getting passed around
you guys are scamming people
i'm really angry about this
nobody ever gets back to me
this is unacceptable
i'm going to report you to consumer protection
your staff are so unprofessional
i've been waiting weeks and nothing's been done
i want to lodge a complaint
you're just fobbing me off
""",
        "mixed": """
我要complain
你们的service太差了
我要file complaint
customer service态度太差
这个issue反映了好多次了没人管
""",
    },
    "talk_to_human": {
        "zh": """
转人工[服务|客服|]
我要人工[服务|客服|]
帮我转[人工客服|人工|客服]
我想跟[真人|人]说话
有没有人工[客服|]
找个客服跟我[说|聊]
别让机器人跟我说了
人工客服[呢|在哪]
我要跟你们[经理|主管|领导]说
接人工
能不能转接[工作人员|客服人员]
我不想跟机器[说话|聊]
给我转一下[客服|人工]
我要找{agent}
真人客服在哪
转接人工坐席
我要和客服代表通话
叫你们的人来接电话
[零|按零] 人工
帮我接通人工
我需要人工帮忙
你听不懂[我要找人|给我转人工]
转给专员
人呢我要人工
我要跟客服[聊|谈]
""",
        "en": """
agent
i want to talk to a [person|human|real person]
representative
can i speak to a [human|person|real person]
transfer me to an agent
let me talk to someone
i need a real person
get me a [human|person]
operator
customer service please
i want to speak to a [manager|supervisor]
put me through to someone
i don't want to talk to a [robot|machine|bot]
can i talk to a live agent
speak to an advisor
connect me to a representative
i'd like to speak with someone
is there a human i can talk to
talk to agent
human please
you're not understanding me just get me a person
i need to speak to {agent}
let me speak to customer service
real person please
transfer me
""",
        "mixed": """
转human agent
我要talk to a person
帮我transfer人工
要real person
转customer service
""",
    },
    "yes": {
        "zh": """
[是的|是|是啊|是呀|是滴]
[对|对的|对啊|对呀|对头]
没错[没错|的|啊|]
嗯[对|是的|对的|是|好]
[好的|好|好啊|行|行啊|好嘞|OK]
可以[的|啊|呀|]
[确认|确定][一下|无误|是这个|]
对对[对|]
是这样[的|没错|子]
[没问题|没毛病]
[就是这个|就是它|就这个]
要[的|啊]
[对|是][我是本人|本人]
嗯嗯[好|可以|对|是的]
[对|是的|嗯][就是|]这个[订单|单子|号码]
[我|]同意
""",
        "en": """
yes
[yeah|yep|yup|yes|ya] [please|thanks|]
that's [right|correct|it|the one]
correct
[sure|absolutely|definitely|certainly|of course]
uh huh
exactly
yes [that's correct|that's right|it is|that's me|i am]
[okay|ok|alright] [yes|yeah|sure]
sounds [good|great|fine]
go ahead
affirmative
[yeah|yes] [sure|of course|go ahead]
[yes|yeah] i [do|did|have]
[yep|yes|yeah] that one
[right|yes] that's what i [said|meant]
""",
        "mixed": """
yes 对的
ok 可以
[yes|yeah]是的
嗯ok
""",
    },
    "no": {
        "zh": """
不[是|是的|是啊|是呀]
不对[啊|呀|]
不用[了|了吧|啦]
[没有|没|没有啊]
[不要|不需要|不用][了|]
不
不是这个[订单|号码|]
[错了|说错了|你说错了]
算了不用[了|]
[不行|不可以|不能]
不对不对[不对|]
没有了[吧|]
[不是我|不是本人]
[暂时|先|现在]不用
[我|]不同意
[那|]不是[我要的|我说的]
""",
        "en": """
no
[nope|nah|no no]
no [thanks|thank you]
that's [wrong|not right|incorrect]
not really
no that's not [right|it|correct]
incorrect
no it [isn't|is not|wasn't]
not that one
no i [don't|didn't|haven't]
negative
i don't think so
[no|nope] not [that|this one]
[definitely|absolutely|certainly] not
no [that's not me|wrong person]
[no|nah] i [said|meant] something else
""",
        "mixed": """
no 不是
no 不用了
不是 not that one
[nope|no]不对
""",
    },
    "repeat": {
        "zh": """
[再说一遍|再讲一遍|再说一次]
你[说|讲]什么
[没听清|没听清楚|我没听清]
能[重复|再说]一下吗
请[再说一次|重复一遍|再讲一下]
刚才[说的|讲的][什么|是什么|啥]
[听不清楚|听不清|声音太小了]
麻烦再[讲|说]一遍
什么[啊|]
你再[说|讲]一下
[慢一点说|说慢一点|说慢点]
没听懂[能|可以]再说一遍吗
重复一遍[好吗|吧|]
[刚才那个|那几个]选项再说一下
""",
        "en": """
can you repeat that [please|again|]
say that again
sorry what
i didn't [catch|get|hear] that
pardon [me|]
come again
what did you [say|just say]
could you repeat [please|that please|yourself]
one more time [please|]
sorry i didn't hear you
can you say it [slower|again|more slowly]
what was that
[repeat|go over] the options [again|]
[huh|what] i missed that
""",
        "mixed": """
sorry再说一遍
pardon你说什么
能repeat一下吗
""",
    },
    "goodbye": {
        "zh": """
再见[啦|了|]
[拜拜|拜|拜了]
好了就这样[吧|了]
没[别的|其他]事了
[谢谢|谢了|多谢][再见|拜拜]
我[挂了|先挂了]
不用了谢谢[再见|拜拜]
就这些了[谢谢|]
好的[拜拜|再见]
那先这样吧
没有其他问题了
辛苦了[再见|拜拜]
好了谢谢你[啊|了|]
[行|好]那就这样[再见|拜拜|]
""",
        "en": """
goodbye
bye [bye|now|]
[thanks|thank you|cheers] bye
that's all
that's everything [thanks|thank you]
have a [nice|good|great] day
i'm [done|all set|good]
nothing else
see [you|ya]
talk to you later
[ok|okay] thank you goodbye
that's all i needed
[alright|ok] i'm hanging up now
that will be all [thanks|]
""",
        "mixed": """
ok bye 拜拜
thank you再见
好的bye
""",
    },
    "out_of_scope": {
        "zh": """
今天天气怎么样
明天{city}会下雨吗
给我讲个笑话
帮我订一张去{city}的机票
我想订{future}去{city}的火车票
附近有什么好吃的
红烧肉怎么做
{city}有什么好玩的地方
现在几点了
帮我查一下[股票|今天大盘]
人民币兑美元汇率多少
我想办一张信用卡
房贷利率是多少
我的话费怎么扣这么多
帮我叫个出租车
播放一首周杰伦的歌
你多大了
你是男的还是女的
你叫什么名字
今天星期几
一加一等于几
谢谢用英语怎么说
世界杯谁赢了
帮我预约挂号
我想点个外卖
附近的加油站在哪
帮我设个明天七点的闹钟
讲个故事吧
你喜欢吃什么
我好无聊啊
水电费怎么交
社保怎么查
我的公积金能取出来吗
比特币现在多少钱
帮我查一下违章
推荐一部电影
今晚有什么球赛
怎么减肥比较快
猫一直掉毛怎么办
帮我写一首诗
最近有什么新闻
银行几点下班
我想开个银行账户
你们招人吗
酒店还有空房吗
帮我订个餐厅
我的航班延误了怎么办
高铁票怎么改签
香蕉 火车 蓝色 星期八
我家狗不吃饭了
宽带怎么又断了
帮我算一下房贷每个月还多少
我想买基金
去机场怎么走
珠穆朗玛峰有多高
澳大利亚的首都是哪里
你是机器人吗
我想学做蛋糕
给{contact}打个电话
发短信给{contact}说我晚点到
打开[微信|抖音|地图|相机|计算器]
我想听[周杰伦的歌|相声|有声小说|广播]
播放[新闻联播|动画片|天气预报|电视剧]
导航到最近的[地铁站|医院|超市]
{thing}
{thing}[怎么画|是什么|好吃吗]
二十八乘以十七等于多少
床前明月光下一句是什么
给我出个脑筋急转弯
彩票开奖号码是多少
发邮件给{contact}
帮我翻译一下[早上好|我爱你]
我头疼该吃什么药
明天几点日出
把音量调大一点
打开客厅的灯
你会唱歌吗
你有男朋友吗
我今天心情不好
谁是[李白|姚明|马斯克]
帮我记一下明天要开会
几路公交车到{city}火车站
""",
        "en": """
what's the weather like today
will it rain in {city} tomorrow
tell me a joke
book me a flight to {city}
i need a train ticket to {city}
what's a good recipe for lasagna
how do i make pancakes
what time is it
what's the stock price of [apple|tesla]
what's the exchange rate for euros
i want to open a bank account
what are your mortgage rates
how much is my phone bill
call me a taxi
play some music
how old are you
are you a robot
what's your name
what day is it today
what's two plus two
how do you say thank you in french
who won the game last night
i need a doctor's appointment
order me a pizza
where's the nearest gas station
set an alarm for seven am
tell me a story
what's your favorite color
i'm bored
how do i pay my electricity bill
what's bitcoin worth right now
recommend a [movie|good book]
what's on tv tonight
how do i lose weight fast
my cat keeps throwing up
write me a poem
what's in the news today
is the bank open on sunday
my flight got delayed what do i do
are you hiring
do you have rooms available for tonight
book a table for two at eight
banana telephone purple monday
how tall is mount everest
what's the capital of australia
i want to transfer money to my savings
can you help me with my taxes
what's the meaning of life
i need to renew my passport
my internet provider keeps cutting out
how do i get to the airport
should i buy bitcoin
my dog won't eat
how do i change a flat tire
what's the score of the lakers game
call {contact}
text {contact} that i'm running late
open [spotify|the camera|instagram|maps]
play [some jazz|the news|a podcast|taylor swift]
navigate to the nearest [hospital|train station|supermarket]
{thing}
how do you [spell|pronounce] {thing}
what's twenty eight times seventeen
finish this line to be or not to be
give me a riddle
what are tonight's lottery numbers
email {contact} about dinner
translate good morning into spanish
what should i take for a headache
what time is sunrise tomorrow
turn the volume up
turn on the living room lights
can you sing
do you have a girlfriend
i'm feeling a bit down today
what is a {thing}
who is [taylor swift|elon musk|lebron james]
remind me to call {contact} tomorrow
which bus goes to the {city} train station
""",
        "mixed": """
今天weather怎么样
帮我book一张去{city}的flight
tell me a joke 讲个笑话
我想open一个bank account
stock market今天怎么样
帮我order个pizza
给{contact} call一下
play一首周杰伦的歌
帮我navigate到最近的地铁站
""",
    },
}

_SENTIMENT: dict[str, dict[str, str]] = {
    "negative": {
        "zh": """
你们这什么垃圾服务，{dur}了还没解决！[{emo_neg}|]
太失望了，{product}用了{dur}就坏了。
客服态度极差，问三句回一句，再也不会买了。
骗子[公司|商家]！钱扣了[货不发|{dur}了还不发货]！
等了{dur}，一个回复都没有，你们是不是都下班了？
我已经忍了很久了，今天必须给我一个说法，不然我就去12315投诉。
真是服了，又把我的订单弄丢了。
有点失望，包装很简陋，跟图片差距挺大的。
发货速度有点慢，希望[改进一下|以后能快点]。
东西一般般吧，不太满意。
呵呵，真是“高效”啊，一个退款拖了{dur}。
太棒了，第三次收到坏的了，你们可真厉害。
你们的{app}烂透了，天天闪退。
这是我买过最差的{product}，没有之一。
说好的{date}到，结果放我鸽子，耽误了我的事谁负责？
气死我了！打了{n}次电话都没人接！[{emo_neg}|]
你们就是在糊弄人，别再给我发模板回复了。
退款到现在都没到账，你们到底想怎样？
质量太差了，洗了一次就缩水变形。
再不处理我就去网上曝光你们。
不推荐，踩雷了。
有点不开心，说好的[赠品|优惠券|小礼物]没有送。
{agent}一直推卸责任，非常不专业。
简直无语，同一个问题问了{n}遍。
价格比别家贵还这么慢，真是醉了。
我对这次的购物体验很不满意。
你们的售后形同虚设。
烂透了，退钱！
[快递员|{courier}的快递员]态度恶劣，还把我的包裹扔在[门口|楼下]。
第一次买就遇到这种事，以后不会再来了。
这质量也好意思卖{amount}？
一直说在处理在处理，处理了{dur}了！
不想多说了，很失望。
我{date}买的{product}，[收到就是坏的|用了两天就不行了]，[太让人失望了|真的很生气]。
[屏幕有坏点|外壳有裂缝|按键松动]，做工也粗糙，这个价位真不值。
物流慢得离谱，东西到了包装还破了，差评。
你们客服是机器人吗？每次都答非所问。
说实话有点后悔买了，[完全不值这个价|还不如买别家的]。
拿我们[消费者|顾客]当傻子是吧？
一天到晚打电话推销，烦死了！
什么玩意儿，[{product}|这东西]跟宣传的完全是两码事。
跟你们沟通真累，每次都要从头解释一遍。
电池不耐用，半天就没电了，失望。
我真的很无语，退个货比登天还难。
差评！[{emo_neg}|]下次再也不来了。
你们再这样下去迟早要倒闭。
原本挺信任你们的，这次真的寒心了。
货不对板，要求[退款|退货|换货]还推三阻四。
我的耐心已经被你们耗光了。
[质量|做工|手感|音质|味道][一般|很差|太差了|不行]，[物流也慢|发货还慢|包装还破了]，[不会再买了|差评|失望]。
[东西|宝贝|{product}]收到了，[很一般|不怎么样|挺差的]，[不推荐|后悔买了|差评]。
[下单|付款]{dur}了才[发货|到货]，[太慢了|慢死了|等得花都谢了]。
价格比[商场|别家]还贵，[质量|东西]却[一般|很差]，[不值|亏了]。
[用了|穿了|放了]{dur}就[坏了|起球了|不新鲜了]，[太失望了|垃圾|不会再买了]。
包装[很简陋|破了|被压扁了]，[里面的东西也有划痕|东西都漏出来了]，[差评|很不满意]。
{product}[噪音很大|太重了|续航很短|发热严重]，[不推荐|失望|后悔]。
有点[卡|慢|小|薄]，[不太满意|跟描述不符|一般般吧]。
[你们的|这次的][服务|售后|体验|质量]{neg_adj}。
说实话{neg_adj}，[我要退款|再也不来了|赶紧处理吧]。
这次{product}的订单处理得{neg_adj}。
[整个过程|从下单到收货][都|]{neg_adj}。
想跟你们说一下，[配送|包装|客服]{neg_adj}。
""",
        "en": """
This is absolutely ridiculous. {dur} and still no answer! [{emo_neg}|]
Worst [customer service|support|company] I have ever dealt with[, hands down|].
I'm really disappointed, the {product} broke after {dur}.
You people are [scammers|crooks]. You took my [money|{amount}] and sent nothing.
{agent} was rude and hung up on me.
I've had enough. Fix this today or I'm disputing the charge with my bank.
Unbelievable. You lost my [order|parcel|{product}] AGAIN.
A bit disappointed, the packaging was flimsy and the {product} looks nothing like the photos.
[Shipping|Delivery] was slower than I expected[, {dur}|], not great.
It's okay I guess, but not really what I hoped for.
Oh great, another {dur} of waiting. Thanks so much.
Wow, [third|second] broken {product} in a row. Amazing quality control.
[Your app|{app}] is garbage, it crashes every single time.
Worst {product} I have ever bought. Total waste of {amount}.
You promised delivery by {date} and now I've missed my event. Who's going to fix that?
I'm furious! I've called {n} times and nobody picks up! [{emo_neg}|]
Stop sending me [copy-paste|automated] replies and actually read my [message|email].
Still no refund[ after {dur}|]. What exactly are you doing over there?
Terrible quality, [it fell apart|the {product} fell apart] after [one wash|{dur}].
If this isn't sorted by tomorrow I'm posting about it everywhere.
Would not recommend [the {product}|this shop|]. Save your money.
Slightly annoyed that the [free gift|voucher|promised sample] was missing.
Nobody seems to take responsibility for anything here.
I've explained this {n} times already. Are you even listening?
More expensive than [elsewhere|other shops] and twice as slow. Great job.
I'm not happy with this purchase at all.
Your [after-sales support|returns team|helpline] is useless.
Pathetic. Just give me my [money|{amount}] back.
The driver threw my parcel over the [fence|gate] and broke the {product}.
[First|My very first] order and already a nightmare. Never again.
This is a joke, {dur} for a simple refund.
I am sick and tired of being ignored[ by {agent}|].
Honestly pretty let down by how [this|my complaint|order {order}] was handled.
I bought the {product} {date} and [it arrived broken|it stopped working within days]. [Really disappointing.|I'm so annoyed.]
The [screen has dead pixels|case is cracked|buttons are loose] and the build feels cheap. Not worth the money.
Delivery took [forever|{dur}] and the box was smashed when it finally came. Thumbs down.
Are your [agents|support staff] bots? Every answer misses the point.
Honestly regret buying this, [not worth the price at all|should have gone elsewhere].
Do you think your [customers|buyers] are stupid?
Stop calling me with sales pitches, it's driving me mad!
What a load of rubbish, [the {product}|it] is nothing like the ad.
Talking to you people is exhausting, I have to [start from scratch|explain everything again] every time.
[Battery|The {product}'s battery] barely lasts half a day. Disappointed.
Returning [something|the {product}] here is harder than climbing Everest.
Zero stars if I could[ for the {product}|]. [{emo_neg}|]
Keep treating [customers|people] like this and you'll be out of business[ soon|].
I used to trust [you|this brand]. Not anymore.
Not as described, and now you're dodging my refund.
My patience has completely run out[ after {dur}|].
Meh. Expected much better for {amount}.
The [quality|fit|sound|taste|build] is [poor|awful|mediocre], [shipping was slow too|and the box was damaged], [won't buy again|thumbs down|disappointed].
[Got|Received] the [item|{product}], [pretty average|not great|quite bad], [wouldn't recommend|regret buying it].
Took {dur} to [ship|arrive], [way too slow|ridiculously slow|painfully slow].
Pricier than [in stores|elsewhere] and the quality is [mediocre|poor], [not worth it|waste of money].
[It broke|It started pilling|It went stale] after {dur}, [so disappointing|rubbish|never again].
Packaging was [flimsy|torn|crushed] and the item [was scratched|leaked everywhere], [very unhappy|not acceptable].
The {product} is [noisy|heavy|short on battery|prone to overheating], [do not recommend|disappointed|regret it].
A bit [laggy|small|thin|slow], [not quite what I hoped|not as described|so-so].
[Your|The] [service|support|experience|quality] [is|was] {neg_adj}.
Honestly {neg_adj}. [I want a refund.|Never again.|Sort it out.]
The way you handled my {product} order was {neg_adj}.
Everything about this order has been {neg_adj}.
Just wanted to say the [delivery|packaging|support] was {neg_adj}.
""",
        "mixed": """
你们的service真的太差了，{dur}了还没解决
refund到现在还没到，what the hell
{product}用了{dur}就坏了，quality太烂
客服态度terrible，再也不买了
又delay了，真是服了你们
这个app天天crash，烂透了
说好的call back呢？没人理我，很disappointed
quality太差了，完全不值这个price
你们的customer service像bot一样，答非所问
package到的时候都压坏了，差评，thumbs down
delivery太慢了，quality也一般，不推荐
{product}噪音很大，battery也不行，后悔买了
""",
    },
    "neutral": {
        "zh": """
请问订单{order}什么时候发货？
我想修改一下收货地址，新地址在{city}。
你好，想咨询一下{product}的保修期是多久。
麻烦帮我开一张发票，抬头是个人。
我的包裹还没到，能帮忙查一下物流吗？
请问{pay}可以分期吗？
我需要退货，请告诉我退货地址。
订单号{order}，申请取消。
请问你们周末有人工客服吗？
我的账号需要换绑手机号，原来的号码已经停用了。
想了解一下会员积分怎么使用。
收到，我明天再试一下。
好的，我知道了。
请问{product}有{color}的吗？
我在{date}提交了退款申请，想确认一下进度。
登录时提示验证码错误，请问怎么处理？
{product}的说明书在哪里可以下载？
请把电子发票发到{email}。
我想确认一下这个订单的金额是{amount}对吗？
快递显示在{city}，预计什么时候派送？
请问支持{courier}配送吗？
我换了新手机，需要重新绑定账号吗？
订单里的{product}数量改成{n}个可以吗？
我已经按照提示重启了设备，现在显示错误码{err}。
{time}之后我都在家，可以送货。
这是我的联系方式{phone}，有问题请联系我。
请问退款一般几个工作日到账？
请帮我查询一下上个月的账单明细。
我想预约上门安装{product}，时间定在{future}。
附件是[商品|{product}|包装]照片，请查看。
麻烦转告一下技术人员，我{time}后方便接电话。
我的订单拆成了两个包裹，其中一个已经收到了。
我{date}买的{product}，想问一下[怎么连接手机|能不能在车上用]。
包裹已经签收了，发票还没开，麻烦补开一下。
我想把订单里的{product}换成{color}的。
麻烦确认一下我的会员什么时候到期。
我这边显示订单已取消，想确认一下是不是已经退款了。
快递员说明天送，我知道了。
这个问题我已经在{app}里提交了，单号是{order}。
请问可以开专票吗？公司信息稍后发给你们。
收货人改成{name}，电话{phone}。
我在{city}，想问一下附近有没有售后网点。
明天[上午|中午]我不在家，请[下午|{time}以后]再送。
设备背面贴纸上的型号是{err}，固件已经是最新版本。
已经按你们说的把照片上传了。
我查了一下，订单状态是“已发货”。
请问现在下单，什么时候能发货？
""",
        "en": """
When will [order {order}|the {product}] ship?
I'd like to change my delivery address to {city}.
How long is the warranty on the {product}?
Could you send me an invoice for order {order}?
My package hasn't arrived yet. Could you check the tracking?
Do you accept {pay}?
I need to return an item. What's the return address?
Please cancel order {order}.
Are your support lines open [on weekends|on public holidays|after {time}]?
I need to update the phone number on my account.
How do [loyalty points|member points] work[ on {app}|]?
Got it, I'll try again [tomorrow|later|after {time}].
[Okay|OK|Alright], noted[ - order {order}|].
Is the {product} available in {color}?
I submitted a refund request {date}. Could you confirm the status?
The login page [in {app}|] says my verification code is invalid. What should I do?
Where can I download the manual for the {product}?
Please send the receipt to {email}.
Can you confirm the order total is {amount}?
Tracking shows it's in {city}. When will it be delivered?
Do you ship with {courier}?
I got a new phone. Do I need to log in again?
Can I change the quantity of the {product} to {n}?
I restarted the device as suggested and it now shows error {err}.
I'm home after {time} if the courier wants to deliver then.
My number is {phone} in case you need to reach me.
How many business days does a refund[ to {pay}|] take?
Could you send me last month's statement?
I'd like to book installation for the {product} {future}.
Photos of the [item|{product}|packaging] are attached.
The technician can call me after {time}.
Half of my order arrived, the second parcel is still in transit.
I bought the {product} {date} and wanted to ask [how to pair it with my phone|whether it works in a car].
The parcel has been delivered but I haven't had the invoice yet, could you send it?
I'd like to swap the {product} in my order for the {color} one.
Could you confirm when my membership expires?
My order shows as cancelled. Just checking whether the refund has been issued.
The courier says tomorrow, that's fine.
I've already submitted this in {app}, reference {order}.
Can you issue a VAT invoice? I'll send the company details separately.
Please change the recipient to {name}, phone {phone}.
I'm in {city}. Is there a service centre nearby?
I'm out tomorrow morning, so afternoon delivery would be better.
The model number on the sticker is {err} and the firmware is up to date.
I've uploaded the photos as requested.
I checked [{app}|] and the order status says "shipped".
If I order [today|the {product} today], when would it ship[ to {city}|]?
""",
        "mixed": """
请问order {order}什么时候ship？
我想update一下delivery address
invoice可以发到{email}吗
{product}的warranty是多久？
refund一般几个working days到账？用的{pay}
tracking显示在{city}，什么时候派送？
ok，我明天再try一下
收货人改成{name}，phone是{phone}
我已经upload了照片，请check一下
这个order现在的status是shipped吗？
""",
    },
    "positive": {
        "zh": """
谢谢你们，问题解决了，效率很高！
{agent}非常耐心，给你们点个赞[{emo_pos}|]
东西收到了，质量超出预期，很满意。
发货很快，包装也很用心，下次还会再来。
退款已经到账了，谢谢处理得这么及时。
{product}很好用，家里人都说不错。
[服务态度|客服态度]特别好，五星好评！[{emo_pos}|]
太感谢了，帮了我大忙。
第二次购买了，一如既往的好。
没想到{dur}就送到了，太惊喜了。
问题终于解决了，辛苦你们了，谢谢！
售后很给力，换货很顺利。
非常满意的一次购物体验。
你们的{app}新版本好用多了，点赞。
谢谢{name}的帮助，讲解得很清楚。
性价比很高，已经推荐给朋友了。
快递小哥很负责，还帮我搬上楼了。
虽然中间有点小插曲，但最后处理得很好，谢谢。
客服回复很快，赞一个。
完美！[{product}|东西]和描述的一模一样。
很喜欢，已经回购了。
感谢你们的耐心，祝你们工作顺利。
这次的体验真的很好，会继续支持的。
给你们的服务打满分。
收到补发的{product}了，很满意，谢谢！
原本以为要很久，结果当天就解决了，厉害。
安装师傅很专业，非常感谢。
操作很简单，{app}体验很棒。
很贴心，还送了小礼物。
谢谢，已经可以正常登录了。
我{date}买的{product}，[今天到了|已经用了一周]，[非常好用|特别满意]。
屏幕清晰，音质也不错，这个价格很值。
物流超快，包装严实，东西完好无损，好评！
客服小姐姐说话温柔又专业，问题一下就解决了。
说实话本来没抱太大希望，结果惊喜到我了。
你们的售后真的没得说，必须夸一下。
回复及时，处理迅速，以后就认准你们家了。
用了一段时间了，没有任何问题，推荐购买。
这次的问题处理得特别好，给你们点赞[{emo_pos}|]。
东西很实用，家里老人也会用，很开心。
谢谢你们一直耐心帮我处理，真的很感动。
比我想象的还要好，下次还来。
换了新的以后完全正常了，太感谢了！
整个过程很顺利，体验满分。
质量很好，做工精细，没有异味。
[质量|做工|版型|手感|音质|味道][不错|很好|挺好的|没得说]，[物流|发货|送货][很快|挺快的|神速]，[价格也实惠|很划算|性价比很高|会回购的]。
[东西|宝贝|{product}]收到了，[还不错|挺好的|很不错|还可以]，[满意|好评|推荐]。
[昨天|前天|早上]下单，[今天|下午]就到了，[速度真快|太方便了|效率很高]。
[一直在你们家买|买了好几回了|老顾客了]，[质量稳定|从来没让我失望过|放心]。
价格比[商场|实体店|别家]便宜[不少|一半]，[东西|质量]也[不错|没问题]，[划算|值了]。
[穿着|用着|吃着]很[舒服|顺手|香]，[家里人|朋友|同事]都说好。
还行吧，[挺好用的|效果不错|跟描述的一样]，[给个好评|五分]。
包装很[严实|用心]，一点磕碰都没有，[赞|好评]。
第一次买[这个牌子|你们家的]，[感觉不错|没想到这么好]，[下次还来|会推荐给朋友]。
{product}[颜值很高|很轻便|声音很小|续航很长]，[很喜欢|超满意|爱了]。
[你们的|这次的][服务|售后|体验|质量]{pos_adj}。
说实话{pos_adj}，[谢谢你们|继续保持|会推荐给朋友]。
这次{product}的订单处理得{pos_adj}。
[整个过程|从下单到收货][都|]{pos_adj}。
想跟你们说一下，[配送|包装|客服]{pos_adj}。
""",
        "en": """
Thank you so much, the [issue|problem with my {product}] is fixed!
{agent} was incredibly patient and helpful. Great service! [{emo_pos}|]
The {product} arrived and it's even better than I expected.
Fast shipping and lovely packaging, will definitely [order again|buy another {product}].
Refund received, thanks for sorting it so quickly.
Love the {product}, works perfectly.
Five stars, excellent [customer service|support]! [{emo_pos}|]
Thanks a lot, you really saved my day.
[Second|Third] time buying from you and still impressed.
Arrived in just {dur}, what a nice surprise.
Finally resolved, thanks for all your effort!
The replacement process was smooth, very happy.
Great shopping experience overall[ with {app}|].
The new version of {app} is so much better, well done.
Thanks {name}, your explanation was really clear.
Great value for money, already recommended [it|the {product}] to friends.
The delivery driver was super friendly and carried [it|the {product}] upstairs.
There was a small hiccup with [my order|the {product}], but you handled it brilliantly. Thank you.
Super quick reply[ from {agent}|], appreciate it.
Perfect, [the {product} is|it's] exactly as described.
Really happy with it, just ordered another one.
Thanks for your patience, have a great day!
Really good experience this time, keep it up.
Ten out of ten for your [support team|delivery team|{agent}].
Got the replacement {product}, all good now. Thanks!
I expected this to take ages but [it|my {product}] was fixed the same day. Impressive.
The installer was very professional, many thanks.
Setup was easy and {app} is a joy to use.
Such a thoughtful touch including a little [gift|note|sample].
Thanks, I can log in again now.
I bought the {product} {date} and [it arrived today|I've used it for a week now] - [works brilliantly|really pleased with it].
Sharp screen, great sound, excellent value for [the price|{amount}].
Super fast delivery, well packed, [arrived|the {product} arrived] in perfect condition. Five stars!
[Your support agent|{agent}] was kind and professional and sorted it out in minutes.
Honestly didn't expect much, but I'm pleasantly surprised.
Your [after-sales service|returns team] deserves a shout-out.
Quick replies, quick fix. You've got a [customer|fan] for life.
Been using [it|the {product}] for [a while|{dur}] with zero issues, highly recommend.
You handled this really well, thank you[ {emo_pos}|].
Really practical, even my parents can use it. Very happy.
Thank you for being so patient with me, it means a lot.
[Better than I imagined|Even better than the photos], will be back.
The replacement [works|{product} works] perfectly, thank you so much!
The whole [process|return|exchange] was smooth from start to finish.
Excellent build quality and no [weird smell|loose parts] at all.
The [quality|fit|sound|taste|build] is [great|really good|excellent], [shipping|delivery] was [fast|quick|super quick], [great price too|great value|will buy again].
[Got|Received] the [item|{product}] - [pretty good|really nice|not bad at all], [happy with it|recommended|five stars].
Ordered [yesterday|on Monday] and it arrived [today|the next day], [so fast|impressive|very convenient].
[Been buying from you for years|Repeat customer here|My third order], [consistently good|never disappointed|always reliable].
[Way|Much] cheaper than [in stores|elsewhere] and the quality is [fine|great], [bargain|totally worth it].
[Really comfortable|Easy to use|Tastes great], [my family|my friends|everyone at work] loves it.
Does what it says, [works well|no complaints|as described], [good buy|happy customer].
Packaging was [solid|careful|neat], not a single scratch, [nice|thumbs up].
First time buying this brand and [I'm impressed|it's better than I expected], [will be back|will recommend it].
The {product} is [lightweight|quiet|stylish|long-lasting], [love it|super happy|couldn't be happier].
[Your|The] [service|support|experience|quality] [is|was] {pos_adj}.
Honestly {pos_adj}. [Thank you!|Keep it up.|Will recommend.]
The way you handled my {product} order was {pos_adj}.
Everything about this order has been {pos_adj}.
Just wanted to say the [delivery|packaging|support] was {pos_adj}.
""",
        "mixed": """
thank you！问题解决了，效率很高
{product}很好用，five stars
客服很nice，很耐心
refund已经收到了，thanks
delivery超快，{product}下次还会买
service真的很棒，点赞
谢谢{name}，very helpful
quality很好，value for money
after-sales服务很给力，点个like
换了新的以后work得很好，太感谢了
delivery很快，quality也不错，会回购
价格比store便宜，东西也OK，很划算
""",
    },
}


def _lines(block: str) -> tuple[str, ...]:
    return tuple(s for s in (line.strip() for line in block.strip().splitlines()) if s and not s.startswith("#"))


TEMPLATES: Mapping[str, Mapping[str, Mapping[str, tuple[str, ...]]]] = MappingProxyType({
    task: MappingProxyType({
        label: MappingProxyType({lang: _lines(block) for lang, block in blocks.items()})
        for label, blocks in source.items()
    })
    for task, source in (("category", _CATEGORY), ("intent", _INTENT), ("sentiment", _SENTIMENT))
})
