"""The CTC acoustic model: a QuartzNet-style stack of depthwise-separable 1-D
convolutions, and its token table.

Every convolution is symmetric ('same' padding, no attention, no recurrence),
so each output frame sees a finite window of input frames: receptive_field()
gives it exactly, and the Go recognizer uses it to stream in chunks. Frames
past an utterance's length are zeroed after every layer, so a padded batch
gives every row the output it would get alone (and the ONNX graph agrees
with itself at any batch size).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from switchboard_training.asr.texts import NUMBER_CHARS, is_cjk, join_units, units

BLANK = "<blk>"
WORD = "\u2581"  # ▁: a word boundary between English words and at zh/en switches
LATIN = "abcdefghijklmnopqrstuvwxyz'"


class TokenError(ValueError):
    """TokenError is a malformed tokens.txt."""


@dataclass(frozen=True)
class Tokens:
    """Tokens is the model's output vocabulary: id i is symbols[i]; 0 is the CTC blank."""

    symbols: tuple[str, ...]

    @classmethod
    def build(cls, texts: Iterable[str]) -> Tokens:
        """build makes the vocabulary of texts: blank, ▁, a-z and ', then every
        Chinese character of texts and the number characters, in code-point order
        (stable: the same texts always give the same ids)."""
        chars = set(NUMBER_CHARS)
        for t in texts:
            chars.update(c for c in t if is_cjk(c))
        return cls((BLANK, WORD, *LATIN, *sorted(chars)))

    @classmethod
    def load(cls, path: Path) -> Tokens:
        """load reads tokens.txt (`symbol id` per line, ids dense from 0)."""
        syms: dict[int, str] = {}
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            parts = line.rstrip("\n").split(" ")
            if len(parts) != 2 or not parts[1].isdigit():
                raise TokenError(f"{path}:{n}: want `symbol id`, got {line.rstrip()!r}")
            syms[int(parts[1])] = parts[0]
        if sorted(syms) != list(range(len(syms))):
            raise TokenError(f"{path}: ids are not dense 0..{len(syms) - 1}")
        return cls(tuple(syms[i] for i in range(len(syms))))

    def save(self, path: Path) -> None:
        """save writes tokens.txt."""
        path.write_text("".join(f"{s} {i}\n" for i, s in enumerate(self.symbols)), encoding="utf-8")

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    def encode(self, text: str) -> tuple[list[int], int]:
        """encode maps a transcript to token ids; returns (ids, characters
        dropped because the vocabulary lacks them)."""
        idx = self.index
        ids: list[int] = []
        dropped = 0
        prev = ""
        for u in units(text):
            if prev and not (is_cjk(u) and is_cjk(prev)):
                ids.append(idx[WORD])
            for ch in u:
                if ch in idx:
                    ids.append(idx[ch])
                else:
                    dropped += 1
            prev = u
        return ids, dropped

    def decode(self, ids: Sequence[int]) -> str:
        """decode turns token ids (already collapsed, no blanks) into a transcript."""
        s = "".join(" " if self.symbols[i] == WORD else self.symbols[i] for i in ids)
        return join_units(units(s))


def greedy(log_probs: torch.Tensor, length: int, blank: int = 0) -> list[int]:
    """greedy is best-path CTC decoding of one [T', V] row: argmax, collapse repeats, drop blanks."""
    best = log_probs[:length].argmax(-1).tolist()
    out, prev = [], blank
    for t in best:
        if t != prev and t != blank:
            out.append(t)
        prev = t
    return out


@dataclass
class ModelConfig:
    """ModelConfig is the network's shape (recorded in card.json)."""

    channels: int = 256
    kernels: tuple[int, ...] = (5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15)
    subsample_kernel: int = 5
    head: int = 384
    dropout: float = 0.1

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kernels"] = list(self.kernels)
        return d


def receptive_field(cfg: ModelConfig) -> tuple[int, int]:
    """receptive_field is (left, right) in input frames: output frame j depends
    only on input frames 4j-left .. 4j+right (inclusive).

    A stride-2 convolution of kernel k centres output i on input 2i and
    reaches k//2 either side; after both subsampling convolutions one output
    frame is 4 input frames, so each block's k//2 costs 4 input frames."""
    p = cfg.subsample_kernel // 2
    half = 4 * sum(k // 2 for k in cfg.kernels) + 2 * p + p
    return half, half


def out_lengths(x_lens: torch.Tensor) -> torch.Tensor:
    """out_lengths is the valid output frames of x_lens input frames: ceil(ceil(T/2)/2)."""
    return torch.div(torch.div(x_lens + 1, 2, rounding_mode="floor") + 1, 2, rounding_mode="floor")


def _mask(x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    t = torch.arange(x.shape[2], device=x.device).unsqueeze(0)
    return x * (t < lens.unsqueeze(1)).unsqueeze(1).to(x.dtype)


class _Block(nn.Module):
    """_Block is depthwise conv -> pointwise conv -> BatchNorm, added to its
    input, then ReLU and dropout (QuartzNet's residual block with one repeat)."""

    def __init__(self, channels: int, kernel: int, dropout: float) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"kernel sizes must be odd (symmetric 'same' padding), got {kernel}")
        self.dw = nn.Conv1d(channels, channels, kernel, padding=kernel // 2, groups=channels, bias=False)
        self.pw = nn.Conv1d(channels, channels, 1, bias=False)
        self.bn = nn.BatchNorm1d(channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(torch.relu(x + self.bn(self.pw(self.dw(x)))))


class CTCModel(nn.Module):
    """CTCModel maps log-mel frames x [N, T, 80] with lengths x_lens [N] to
    (log_probs [N, T', V], log_probs_len [N]), T' = ceil(T / 4)."""

    def __init__(self, vocab: int, cfg: ModelConfig, mean: torch.Tensor | None = None,
                 std: torch.Tensor | None = None, feat_dim: int = 80) -> None:
        super().__init__()
        self.cfg = cfg
        # Global mean/variance normalisation lives in the graph: the Go side
        # feeds raw fbank frames (docs/asr.md).
        self.register_buffer("mean", torch.zeros(feat_dim) if mean is None else mean.float().clone())
        self.register_buffer("inv_std", torch.ones(feat_dim) if std is None else 1.0 / std.float().clamp_min(1e-3))
        c, k = cfg.channels, cfg.subsample_kernel
        self.sub1 = nn.Conv1d(feat_dim, c, k, stride=2, padding=k // 2, bias=False)
        self.bn1 = nn.BatchNorm1d(c)
        self.sub2 = nn.Conv1d(c, c, k, stride=2, padding=k // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(c)
        self.blocks = nn.ModuleList(_Block(c, kk, cfg.dropout) for kk in cfg.kernels)
        self.head = nn.Conv1d(c, cfg.head, 1, bias=False)
        self.bn_head = nn.BatchNorm1d(cfg.head)
        self.out = nn.Linear(cfg.head, vocab)

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = ((x - self.mean) * self.inv_std).transpose(1, 2)
        x = _mask(x, x_lens)
        len1 = torch.div(x_lens + 1, 2, rounding_mode="floor")
        x = _mask(torch.relu(self.bn1(self.sub1(x))), len1)
        len2 = out_lengths(x_lens)
        x = _mask(torch.relu(self.bn2(self.sub2(x))), len2)
        for b in self.blocks:
            x = _mask(b(x), len2)
        x = torch.relu(self.bn_head(self.head(x)))
        return torch.log_softmax(self.out(x.transpose(1, 2)), dim=-1), len2


def count_params(m: nn.Module) -> int:
    """count_params is the number of trainable parameters."""
    return sum(p.numel() for p in m.parameters() if p.requires_grad)
