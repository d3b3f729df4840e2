"""Transcripts for the speech model: what callers say to the IVR, spelled the
way it is spoken (no digits, no punctuation, lowercase English).

The same spelled text is both the transcript and what espeak-ng reads: were
espeak given "123" it would say 一百二十三 while the transcript said 一二三.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard_training.generate import generate, split_by_template

KINDS: tuple[str, ...] = ("intent", "problem", "digits", "phone", "date", "yesno")

ZH_DIGITS = "零一二三四五六七八九"
EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Characters every model knows even if the training texts lack one of them:
# digits as spoken in numbers, phone numbers (幺) and dates.
NUMBER_CHARS = ZH_DIGITS + "十百千万两幺月号日"

_EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
             "eighteen", "nineteen")
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
              "october", "november", "december")
_EN_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
                "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
                "seventeenth", "eighteenth", "nineteenth", "twentieth")

YES_NO: dict[str, tuple[str, ...]] = {
    "zh": ("是的", "是", "对", "对的", "对对对", "不是", "没有", "好的", "好", "可以", "不用了", "不要",
           "嗯", "嗯对", "是的没错", "不对", "没错", "行", "不行", "算了"),
    "en": ("yes", "no", "yeah", "nope", "yes please", "no thanks", "correct", "that's right", "not really",
           "sure", "okay", "no it isn't", "yep", "absolutely", "no thank you", "right"),
}

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z']+")
_ZH_PREFIX = ("订单号", "我的订单号是", "单号", "订单号码是", "")
_EN_PREFIX = ("order number", "my order number is", "the number is", "it's", "")
_ZH_PHONE_PREFIX = ("我的电话是", "手机号", "电话号码是", "")
_EN_PHONE_PREFIX = ("my number is", "call me on", "phone number", "")


def is_cjk(ch: str) -> bool:
    """is_cjk reports whether ch is a Chinese character (a token of its own)."""
    return bool(_CJK.fullmatch(ch))


def zh_number(n: int) -> str:
    """zh_number reads 0 <= n < 100000 as a Chinese number: 12 -> 十二, 305 -> 三百零五."""
    if not 0 <= n < 100000:
        raise ValueError(f"zh_number: {n} out of range")
    if n == 0:
        return "零"
    units = ((10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, ""))
    out, zero = [], False
    for value, unit in units:
        d = n // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        # 十二, not 一十二, when the number starts with the tens.
        out.append(("" if value == 10 and not out and d == 1 else ZH_DIGITS[d]) + unit)
    return "".join(out)


def en_number(n: int) -> str:
    """en_number reads 0 <= n < 100000 in words: 305 -> three hundred five."""
    if not 0 <= n < 100000:
        raise ValueError(f"en_number: {n} out of range")
    if n == 0:
        return "zero"
    words: list[str] = []
    if n >= 1000:
        words += [en_number(n // 1000), "thousand"]
        n %= 1000
    if n >= 100:
        words += [EN_DIGITS[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_EN_TENS[n // 10])
        n %= 10
        if n:
            words.append(EN_DIGITS[n])
    elif n >= 10:
        words.append(_EN_TEENS[n - 10])
    elif n:
        words.append(EN_DIGITS[n])
    return " ".join(words)


def spell_digits(digits: str, lang: str, rng: random.Random, phone: bool = False) -> str:
    """spell_digits reads a digit string digit by digit: Chinese (幺 for 1 in
    phone numbers, as operators say it) or English (zero, sometimes "oh")."""
    if not digits.isdigit():
        raise ValueError(f"spell_digits: not a digit string: {digits!r}")
    if lang == "en":
        oh = rng.random() < 0.4
        return " ".join("oh" if d == "0" and oh else EN_DIGITS[int(d)] for d in digits)
    yao = phone and rng.random() < 0.85
    return "".join("幺" if d == "1" and yao else ZH_DIGITS[int(d)] for d in digits)


def _en_ordinal(day: int) -> str:
    if day <= 20:
        return _EN_ORDINALS[day - 1]
    if day == 30:
        return "thirtieth"
    tens = "twenty" if day < 30 else "thirty"
    return f"{tens} {_EN_ORDINALS[day % 10 - 1]}"


def date_text(month: int, day: int, lang: str, rng: random.Random) -> str:
    """date_text reads a date: 十一月三号 / november third / the third of november."""
    if lang == "en":
        if rng.random() < 0.3:
            return f"the {_en_ordinal(day)} of {_EN_MONTHS[month - 1]}"
        return f"{_EN_MONTHS[month - 1]} {_en_ordinal(day)}"
    return f"{zh_number(month)}月{zh_number(day)}{rng.choice('号号号日')}"


def normalize(text: str, lang: str, rng: random.Random) -> str:
    """normalize turns a written text into its spoken transcript: lowercase,
    no punctuation, numbers spelled (short ones as numbers, long ones digit
    by digit), one space between English words and at Chinese/English
    switches, none between Chinese characters."""
    text = unicodedata.normalize("NFKC", text).lower()
    zh_context = lang != "en"

    def number(m: re.Match[str]) -> str:
        s = m.group(0)
        if len(s) <= 4 and not s.startswith("0"):
            return f" {zh_number(int(s)) if zh_context else en_number(int(s))} "
        return f" {spell_digits(s, 'zh' if zh_context else 'en', rng)} "

    if not zh_context:
        text = re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)\b",
                      lambda m: f" {_en_ordinal(int(m.group(1)))} " if 1 <= int(m.group(1)) <= 31 else m.group(0), text)
    text = re.sub(r"\d+", number, text)
    text = text.replace("’", "'").replace("-", " ")
    # Anything that is neither a Chinese character, a Latin letter nor an
    # apostrophe is punctuation or a symbol nobody reads aloud.
    text = "".join(ch if is_cjk(ch) or "a" <= ch <= "z" or ch == "'" else " " for ch in text)
    return join_units(units(text))


def units(text: str) -> list[str]:
    """units splits a transcript into Chinese characters and English words."""
    out: list[str] = []
    for part in text.split():
        for m in re.finditer(r"[\u3400-\u9fff]|[a-z']+", part):
            w = m.group(0).strip("'")
            if w:
                out.append(w)
    return out


def join_units(us: Sequence[str]) -> str:
    """join_units is the canonical transcript of units: spaces only around English words."""
    out = ""
    for u in us:
        if out and not (is_cjk(u) and is_cjk(out[-1])):
            out += " "
        out += u
    return out


@dataclass(frozen=True)
class Utterance:
    """Utterance is one transcript to synthesise, with what evaluation groups by."""

    text: str
    lang: str  # zh | en | mixed
    kind: str  # one of KINDS
    intent: str = ""
    digits: str = ""


def _lang_of(text: str) -> str:
    has_zh = bool(_CJK.search(text))
    has_en = bool(re.search(r"[a-z]", text))
    return "mixed" if has_zh and has_en else ("zh" if has_zh else "en")


def problem_clause(text: str, lang: str, rng: random.Random, zh_max: int = 20, en_max: int = 14) -> str:
    """problem_clause cuts a short spoken problem description out of a written
    ticket text: a run of whole clauses within zh_max Chinese characters or
    en_max English words; "" when no clause fits (addresses, e-mails)."""
    body = text.split("\n", 1)[1] if "\n" in text and rng.random() < 0.8 else text
    clauses = [c for c in re.split(r"[，。！？；,.!?;：:\n()（）]+", body) if c.strip()]
    clauses = [c for c in clauses if not re.search(r"[@#*/\\]|http|www", c)]
    if not clauses:
        return ""
    start = rng.randrange(len(clauses))
    out = ""
    for c in clauses[start:]:
        cand = normalize(f"{out} {c}" if out else c, lang, rng)
        us = units(cand)
        zh = sum(1 for u in us if is_cjk(u))
        en = len(us) - zh
        if zh > zh_max or en > en_max or zh + en > max(zh_max, en_max) + 4:
            break
        out = cand
    return out


def intent_utterances(rows: Sequence[dict[str, str]], rng: random.Random) -> list[Utterance]:
    """intent_utterances spells the generator's IVR intent rows."""
    out = []
    for r in rows:
        t = normalize(r["text"], r["lang"], rng)
        if t:
            out.append(Utterance(t, _lang_of(t), "intent", intent=r["label"]))
    return out


def problem_utterances(rows: Sequence[dict[str, str]], rng: random.Random) -> list[Utterance]:
    """problem_utterances cuts short spoken problem descriptions out of ticket texts."""
    out = []
    for r in rows:
        t = problem_clause(r["text"], r["lang"], rng)
        if len(units(t)) >= 2:
            out.append(Utterance(t, _lang_of(t), "problem"))
    return out


def _pick_lang(rng: random.Random) -> str:
    return "zh" if rng.random() < 0.55 else "en"


def digit_utterance(rng: random.Random, min_len: int = 4, max_len: int = 12, prefix: bool = True) -> Utterance:
    """digit_utterance is a digit string (or an order number) read digit by digit."""
    lang = _pick_lang(rng)
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(min_len, max_len)))
    spoken = spell_digits(digits, lang, rng)
    if prefix and rng.random() < 0.5:
        p = rng.choice(_ZH_PREFIX if lang == "zh" else _EN_PREFIX)
        spoken = join_units(units(f"{p} {spoken}"))
    return Utterance(spoken, lang, "digits", digits=digits)


def phone_utterance(rng: random.Random) -> Utterance:
    """phone_utterance is a Chinese mobile or an English-style phone number, digit by digit."""
    lang = _pick_lang(rng)
    if lang == "zh":
        digits = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    else:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((7, 10, 11))))
    spoken = spell_digits(digits, lang, rng, phone=True)
    if rng.random() < 0.5:
        p = rng.choice(_ZH_PHONE_PREFIX if lang == "zh" else _EN_PHONE_PREFIX)
        spoken = join_units(units(f"{p} {spoken}"))
    return Utterance(spoken, lang, "phone", digits=digits)


def date_utterance(rng: random.Random) -> Utterance:
    """date_utterance is a spoken date."""
    lang = _pick_lang(rng)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    return Utterance(join_units(units(date_text(month, day, lang, rng))), lang, "date")


def yesno_utterance(rng: random.Random) -> Utterance:
    """yesno_utterance is a short answer to a yes/no question."""
    lang = _pick_lang(rng)
    return Utterance(join_units(units(rng.choice(YES_NO[lang]))), lang, "yesno")


# Share of each kind in the train/dev/test sets.
KIND_SHARES: dict[str, float] = {
    "intent": 0.42, "problem": 0.22, "digits": 0.10, "phone": 0.09, "date": 0.09, "yesno": 0.08,
}


@dataclass
class TextSets:
    """TextSets are the transcripts of every split, before synthesis."""

    train: list[Utterance]
    dev: list[Utterance]
    test: list[Utterance]
    intent_test: list[Utterance]
    digits_test: list[Utterance]

    def splits(self) -> dict[str, list[Utterance]]:
        return {"train": self.train, "dev": self.dev, "test": self.test,
                "intent_test": self.intent_test, "digits_test": self.digits_test}


def _take(pool: list[Utterance], n: int, rng: random.Random, what: str) -> list[Utterance]:
    if not pool:
        raise ValueError(f"texts: no {what} texts to draw from")
    if n <= len(pool):
        picked = rng.sample(pool, n)
    else:  # fewer texts than wanted: repeat them (each gets another voice and noise)
        picked = [pool[i % len(pool)] for i in range(n)]
        rng.shuffle(picked)
    return picked


def _mix(n: int, sentences: dict[str, list[Utterance]], rng: random.Random) -> list[Utterance]:
    counts = {k: round(n * s) for k, s in KIND_SHARES.items()}
    out: list[Utterance] = []
    out += _take(sentences["intent"], counts["intent"], rng, "intent")
    out += _take(sentences["problem"], counts["problem"], rng, "problem")
    out += [digit_utterance(rng) for _ in range(counts["digits"])]
    out += [phone_utterance(rng) for _ in range(counts["phone"])]
    out += [date_utterance(rng) for _ in range(counts["date"])]
    out += [yesno_utterance(rng) for _ in range(counts["yesno"])]
    rng.shuffle(out)
    return out


def build(n_train: int, n_dev: int, n_test: int, n_intent_test: int, n_digits_test: int,
          seed: int = 13) -> TextSets:
    """build draws every split's transcripts. Test, intent_test and the test
    share of problem texts come from generator templates that train and dev
    never see (split_by_template); digits, phones and dates are random."""
    rng = random.Random(f"asr-texts/{seed}")
    per_template = max(8, min(40, n_train // 600))
    intent_rows = generate("intent", seed, per_template)
    cat_rows = generate("category", seed, max(4, per_template // 2))
    i_train, i_test = split_by_template(intent_rows, 0.22, seed)
    c_train, c_test = split_by_template(cat_rows, 0.22, seed)
    train_pool = {"intent": intent_utterances(i_train, rng), "problem": problem_utterances(c_train, rng)}
    test_pool = {"intent": intent_utterances(i_test, rng), "problem": problem_utterances(c_test, rng)}
    # Dev sentences are from training templates but never training sentences:
    # early stopping should reward generalising to new sentences, not voices.
    dev_pool: dict[str, list[Utterance]] = {}
    for k, pool in train_pool.items():
        uniq = sorted(set(pool), key=lambda u: u.text)
        rng.shuffle(uniq)
        cut = max(1, round(n_dev * KIND_SHARES[k] * 1.5))
        dev_pool[k], train_pool[k] = uniq[:cut], uniq[cut:]
    # intent_test and test share the held-out templates but not sentences.
    held = sorted(set(test_pool["intent"]), key=lambda u: u.text)
    rng.shuffle(held)
    intent_test = held[:n_intent_test]
    test_pool["intent"] = held[n_intent_test:] or held
    digits_test = [digit_utterance(rng, 4, 11, prefix=False) for _ in range(n_digits_test)]
    return TextSets(
        train=_mix(n_train, train_pool, rng), dev=_mix(n_dev, dev_pool, rng), test=_mix(n_test, test_pool, rng),
        intent_test=intent_test, digits_test=digits_test,
    )
