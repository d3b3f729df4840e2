"""WordPiece tokenizers and the batch encoding that Go's serving reproduces.

:class:`Encoder` is the single place where texts become model inputs during
training, evaluation and export, and it follows docs/models.md ("Inputs and
outputs") exactly: [CLS] ... [SEP], truncated to max_length keeping the final
[SEP], right-padded with pad_id to the batch's longest row and at least
min_length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
DEFAULT_VOCAB_SIZE = 8000
DEFAULT_MAX_LENGTH = 128


class TokenizerError(ValueError):
    """TokenizerError is a tokenizer that cannot serve: missing special tokens, unreadable JSON."""


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int = DEFAULT_VOCAB_SIZE,
    min_frequency: int = 2,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> Tokenizer:
    """train_tokenizer learns a BERT-style WordPiece vocabulary from texts.

    Lower-cased, accents kept (strip_accents=False keeps Chinese-adjacent
    scripts and café intact), every CJK character its own word, so Chinese
    needs no segmenter. Special tokens take ids 0..4 in SPECIAL_TOKENS order.
    """
    if vocab_size < len(SPECIAL_TOKENS) + 1:
        raise TokenizerError(f"vocab size {vocab_size} is too small")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        continuing_subword_prefix="##",
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return prepare(tok, max_length)


def prepare(tok: Tokenizer, max_length: int) -> Tokenizer:
    """prepare sets truncation at max_length and turns padding off, as saved for Go.

    Padding is the Encoder's job (batch-dependent), never the JSON's: a
    padding section in tokenizer.json would make Go pad every text to it.
    """
    if max_length < 3:
        raise TokenizerError(f"max_length {max_length} leaves no room for text between [CLS] and [SEP]")
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return tok


def load_tokenizer(path: str | Path, max_length: int = DEFAULT_MAX_LENGTH) -> Tokenizer:
    """load_tokenizer reads a tokenizer.json (e.g. --tokenizer or a model dir's) and prepares it."""
    p = Path(path)
    if p.is_dir():
        p = p / "tokenizer.json"
    if not p.exists():
        raise TokenizerError(f"{p}: no such tokenizer file")
    try:
        tok = Tokenizer.from_file(str(p))
    except Exception as e:  # the tokenizers library raises plain Exception
        raise TokenizerError(f"{p}: not a tokenizers JSON file: {e}") from e
    return prepare(tok, max_length)


@dataclass(frozen=True)
class Batch:
    """Batch is one encoded batch: int64 arrays [batch, seq]."""

    input_ids: np.ndarray
    attention_mask: np.ndarray


class Encoder:
    """Encoder turns texts into the model's inputs exactly as Go serving does."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, min_length: int = 1) -> None:
        self.tokenizer = prepare(tokenizer, max_length)
        self.max_length = max_length
        self.min_length = max(1, min_length)
        pad = tokenizer.token_to_id("[PAD]")
        if pad is None:
            raise TokenizerError("tokenizer has no [PAD] token")
        self.pad_id = int(pad)

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """ids returns each text's token ids, truncated, unpadded."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def pad(self, rows: Sequence[Sequence[int]]) -> Batch:
        """pad right-pads rows to the longest row and at least min_length."""
        width = max(self.min_length, max((len(r) for r in rows), default=0))
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return Batch(ids, mask)

    def encode(self, texts: Sequence[str]) -> Batch:
        """encode is pad(ids(texts))."""
        return self.pad(self.ids(texts))
