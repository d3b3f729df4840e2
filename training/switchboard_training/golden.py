"""Golden token ids: the reference the Go tokenizer (nlu/tokenize) must reproduce.

`golden-tokens` encodes a deterministic set of awkward texts (mixed Chinese and
English, emoji, numbers, punctuation, odd whitespace, accents, full-width
forms, control characters, over-long words and texts) with the Hugging Face
`tokenizers` library and writes one JSON object per line:

    {"text": "...", "ids": [2, ...]}

The ids are what serving must feed the model: special tokens added, padding
off, truncated to ``--max-length`` tokens keeping the final [SEP] (the card's
``max_length``). A Unicode sweep (every BMP code point and the interesting
supplementary ranges, each between two letters) is appended unless ``--no-sweep`` is given,
so table differences (control, punctuation, CJK, case, accents) show up.

``--make-tokenizer`` first trains a small WordPiece tokenizer (BERT
normalizer/pre-tokenizer, [CLS] $A [SEP]) from a generated mixed zh/en corpus
and writes it to ``--tokenizer``; nlu/tokenize/testdata uses one. The corpus
is deterministic but the trained vocabulary is not bit-reproducible (the
`tokenizers` trainer breaks count ties in hash order), so commit the
tokenizer together with the golden written from it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

ZH_WORDS: tuple[str, ...] = (
    "订单", "退款", "退货", "物流", "快递", "包裹", "账号", "登录", "密码", "验证码",
    "支付", "付款", "发票", "扣款", "质量", "破损", "故障", "维修", "投诉", "客服",
    "你好", "谢谢", "请问", "什么时候", "还没", "收到", "已经", "三天", "为什么", "怎么办",
    "地址", "修改", "取消", "人工", "转接", "不满意", "很生气", "太慢了", "可以吗", "没问题",
    "信用卡", "微信", "支付宝", "京东", "淘宝", "顺丰", "耳机", "手机", "充电器", "屏幕",
    "龘", "靐", "齉", "爨", "㐀", "䶵", "鿏", "鿿", "兀", "﨩",
)
EN_WORDS: tuple[str, ...] = (
    "order", "refund", "return", "delivery", "package", "account", "login", "password",
    "payment", "invoice", "charged", "twice", "broken", "screen", "warranty", "complaint",
    "hello", "thanks", "please", "where", "is", "my", "the", "not", "working", "cancel",
    "address", "change", "human", "agent", "yes", "no", "repeat", "goodbye", "tracking",
    "number", "unbelievable", "disappointed", "customer", "service", "wi-fi", "e-mail",
    "iPhone", "AirPods", "PayPal", "SF-Express", "can't", "won't", "I'm", "it's",
    "antidisestablishmentarianism", "supercalifragilisticexpialidocious",
)
ACCENTED: tuple[str, ...] = (
    "café", "naïve", "résumé", "Ångström", "Ørsted", "Straße", "İstanbul", "Iİıi",
    "ΣΊΣΥΦΟΣ", "Ελληνικά", "Привет", "ПРИВЕТ", "Zürich", "São Paulo", "façade",
    "crème brûlée", "Dvořák", "Łódź", "ǅemal", "ﬁnance", "e\u0301", "n\u0303o",
    "Ⅻ", "ǈ", "ẞ", "ΐ", "ŉ", "Ǆ", "ϐ", "ꭰ", "ᏸ",
)
EMOJI: tuple[str, ...] = (
    "😀", "😡", "👍", "👍🏽", "🙏", "❤️", "💔", "🤬", "🥺", "🫠", "🫶🏻", "👨‍👩‍👧", "🏳️‍🌈",
    "🇨🇳", "🇺🇸", "📦", "🚚", "💳", "⭐", "✅", "❌", "☎️", "🔥", "🤖", "🧾", "🪫",
)
NUMBERS: tuple[str, ...] = (
    "0", "7", "42", "123456", "3.14", "1,000", "¥199", "$5.99", "€20", "100%", "2026-11-24",
    "15:30", "13800138000", "+86 138-0013-8000", "SO20261124001", "#A-1029", "1e9", "½",
    "²", "①", "٣", "१२३", "〇", "一百二十", "ⅷ", "0x1F",
)
PUNCT: tuple[str, ...] = (
    ".", ",", "!", "?", "...", "!!!", "?!", "，", "。", "！", "？", "、", "；", "：", "“", "”",
    "‘", "’", "《", "》", "【", "】", "（", "）", "…", "——", "-", "_", "(", ")", "[", "]",
    "{", "}", "<", ">", "/", "\\", "@", "#", "$", "%", "^", "&", "*", "+", "=", "~", "`",
    "|", "'", '"', "·", "•", "¿", "¡", "«", "»", "§", "¶", "†", "‰", "′", "※", "〜", "～",
    "©", "®", "™", "°", "±", "×", "÷", "→", "√", "∞", "♥", "★", "☆", "♪",
)
FULL_WIDTH: tuple[str, ...] = (
    "ＡＢＣ", "ａｂｃ", "１２３", "ｏｒｄｅｒ", "ＯＫ", "！", "＃１", "ｶﾀｶﾅ", "ｱｲｳ",
)
OTHER_SCRIPTS: tuple[str, ...] = (
    "こんにちは", "ありがとう", "カタカナ", "한국어", "안녕하세요", "مرحبا", "שלום", "สวัสดี",
    "नमस्ते", "ქართული", "Հայերեն", "ትግርኛ", "ᠮᠣᠩᠭᠣᠯ", "ꦧꦱꦗꦮ", "𝐁𝐨𝐥𝐝", "𝒮𝒸𝓇𝒾𝓅𝓉",
)
SPACES: tuple[str, ...] = (
    " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2002", "\u2009", "\u202f",
    "\u2028", "\u0085", "\u000b", "\u000c", "\u200b", "\u200d", "\ufeff", "\u00ad",
)
CONTROLS: tuple[str, ...] = (
    "\u0000", "\u0001", "\u0007", "\u001b", "\u007f", "\u0080", "\u009f", "\ufffd",
    "\u200e", "\u202e", "\u2066", "\ue000", "\U000f0000", "\U000e0001", "\ufe0f", "\u0378",
)
SPECIAL_LITERALS: tuple[str, ...] = (
    "[CLS]", "[SEP]", "[UNK]", "[MASK]", "[PAD]", "[cls]", "[ SEP ]", "[SEP][CLS]", "x[SEP]y",
)

# Fixed cases every golden file starts with: the edge cases the Go side
# promises defined results for.
EDGE_CASES: tuple[str, ...] = (
    "",
    " ",
    "\n\t ",
    "\u3000\u00a0",
    "\u0000\u0001\ufffd",
    "😀😀😀",
    "👨‍👩‍👧🇨🇳❤️",
    "我的订单还没到 where is my order?",
    "Hello，世界！",
    "ＨＥＬＬＯ　ｗｏｒｌｄ",
    "a" * 100,
    "a" * 101,
    "é" * 101,
    "订" * 200,
    " ".join(["refund"] * 200),
    "Café crème İstanbul ΣΊΣΥΦΟΣ",
    "[CLS] hello [SEP]",
    "hello[MASK]world",
)

# Unicode sweep ranges (inclusive): the whole BMP except surrogates, the
# emoji/symbol planes, the CJK extension edges that BERT's "Chinese character"
# ranges cut at, tags and variation selectors, private use and the end of
# the code space.
SWEEP_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0xD7FF),
    (0xE000, 0xFFFF),
    (0x10000, 0x1013F),
    (0x1D400, 0x1D4FF),
    (0x1F000, 0x1FAFF),
    (0x20000, 0x2003F),
    (0x2A6C0, 0x2A73F),
    (0x2B700, 0x2B83F),
    (0x2B900, 0x2B93F),
    (0x2CE80, 0x2CEBF),
    (0x2EBE0, 0x2EBFF),
    (0x2F800, 0x2F83F),
    (0x2FA00, 0x2FA3F),
    (0x30000, 0x3003F),
    (0xE0000, 0xE007F),
    (0xE0100, 0xE01EF),
    (0xF0000, 0xF003F),
    (0x10FFC0, 0x10FFFF),
)
SWEEP_PER_LINE = 32


def random_piece(rng: random.Random) -> str:
    """Returns one random fragment drawn from the pools, weighted towards zh/en."""
    roll = rng.random()
    if roll < 0.25:
        return rng.choice(ZH_WORDS)
    if roll < 0.30:
        return chr(rng.randint(0x4E00, 0x9FFF))
    if roll < 0.50:
        word = rng.choice(EN_WORDS)
        style = rng.random()
        if style < 0.15:
            return word.upper()
        if style < 0.30:
            return word.title()
        return word
    if roll < 0.55:
        return rng.choice(ACCENTED)
    if roll < 0.62:
        return rng.choice(EMOJI)
    if roll < 0.70:
        return rng.choice(NUMBERS)
    if roll < 0.80:
        return rng.choice(PUNCT)
    if roll < 0.84:
        return rng.choice(FULL_WIDTH)
    if roll < 0.88:
        return rng.choice(OTHER_SCRIPTS)
    if roll < 0.94:
        return rng.choice(SPACES)
    if roll < 0.97:
        return rng.choice(CONTROLS)
    return rng.choice(SPECIAL_LITERALS)


def random_text(rng: random.Random) -> str:
    """Returns one text: mostly short utterances, some long enough to truncate."""
    shape = rng.random()
    if shape < 0.70:
        n = rng.randint(1, 12)
    elif shape < 0.92:
        n = rng.randint(13, 60)
    else:
        n = rng.randint(61, 260)
    parts: list[str] = []
    for _ in range(n):
        parts.append(random_piece(rng))
        # Code-switching without spaces is common in Chinese support chats,
        # so only sometimes separate fragments.
        if rng.random() < 0.55:
            parts.append(" ")
    if rng.random() < 0.03:
        # An over-long "word" (pasted URL or hash) exercises
        # max_input_chars_per_word.
        parts.append("".join(rng.choice("abcdef0123456789") for _ in range(rng.randint(95, 130))))
    return "".join(parts)


def generate_texts(n: int, seed: int) -> list[str]:
    """Returns the edge cases followed by n deterministic random texts."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    return list(EDGE_CASES) + [random_text(rng) for _ in range(n)]


def sweep_texts() -> Iterator[str]:
    """Yields the Unicode sweep lines: SWEEP_PER_LINE groups "x<c>x" joined by spaces.

    Wrapping each code point in letters shows what the pipeline does with it:
    dropped ("xx"), whitespace or punctuation or CJK (splits the x's apart),
    or part of a word (lowercased, accents stripped, or [UNK]).
    """
    for lo, hi in SWEEP_RANGES:
        for start in range(lo, hi + 1, SWEEP_PER_LINE):
            end = min(start + SWEEP_PER_LINE, hi + 1)
            yield " ".join(f"x{chr(c)}x" for c in range(start, end))


def train_test_tokenizer(out: Path, vocab_size: int, seed: int) -> Tokenizer:
    """Trains a small BERT-style WordPiece tokenizer on a generated zh/en corpus and saves it."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        limit_alphabet=1200,
        continuing_subword_prefix="##",
        show_progress=False,
    )
    # A different seed from the golden texts, so the goldens also contain
    # words the vocabulary has never seen.
    rng = random.Random(seed + 1000)
    corpus = [random_text(rng) for _ in range(20000)]
    tok.train_from_iterator(corpus, trainer=trainer)
    for i, name in enumerate(SPECIAL_TOKENS):
        got = tok.token_to_id(name)
        if got != i:
            raise RuntimeError(f"special token {name} got id {got}, want {i}")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(out))
    return tok


def encode_golden(tok: Tokenizer, texts: Sequence[str], max_length: int) -> list[dict[str, object]]:
    """Encodes texts the way serving does: specials on, no padding, truncated to max_length."""
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    encs = tok.encode_batch(list(texts), add_special_tokens=True)
    return [{"text": t, "ids": e.ids} for t, e in zip(texts, encs)]


def write_jsonl(path: Path, rows: Sequence[dict[str, object]]) -> None:
    """Writes rows as UTF-8 JSON lines (non-ASCII kept literal to keep the file small)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="golden-tokens",
        description="Write golden token ids (Python tokenizers) for the Go tokenizer parity test.",
    )
    p.add_argument("--tokenizer", required=True, type=Path, help="tokenizer.json to encode with")
    p.add_argument("--out", required=True, type=Path, help="output .jsonl file")
    p.add_argument("--n", type=int, default=3000, help="number of random texts (default 3000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--max-length", type=int, default=128, help="card max_length incl. [CLS]/[SEP] (default 128)")
    p.add_argument("--no-sweep", action="store_true", help="leave out the Unicode sweep lines")
    p.add_argument(
        "--make-tokenizer",
        action="store_true",
        help="first train a small test WordPiece tokenizer and write it to --tokenizer",
    )
    p.add_argument("--vocab-size", type=int, default=3000, help="vocabulary size for --make-tokenizer")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the golden-tokens CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error(f"--n must be >= 0, got {args.n}")
    if args.max_length < 3:
        parser.error(f"--max-length must be >= 3 ([CLS] x [SEP]), got {args.max_length}")
    if args.vocab_size < len(SPECIAL_TOKENS) + 100:
        parser.error(f"--vocab-size too small: {args.vocab_size}")

    if args.make_tokenizer:
        tok = train_test_tokenizer(args.tokenizer, args.vocab_size, args.seed)
    else:
        if not args.tokenizer.is_file():
            parser.error(f"--tokenizer {args.tokenizer}: no such file")
        try:
            tok = Tokenizer.from_file(str(args.tokenizer))
        except Exception as e:  # tokenizers raises a bare Exception on bad JSON
            parser.error(f"--tokenizer {args.tokenizer}: cannot load: {e}")

    texts = generate_texts(args.n, args.seed)
    if not args.no_sweep:
        texts.extend(sweep_texts())
    rows = encode_golden(tok, texts, args.max_length)
    write_jsonl(args.out, rows)
    print(f"golden-tokens: wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
