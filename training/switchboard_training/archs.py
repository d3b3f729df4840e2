"""Classifier architectures: TextCNN, a small Transformer, and fine-tuned MiniLM.

Every model maps (input_ids int64 [B,T], attention_mask int64 [B,T]) to
logits float32 [B,C], and its output for a row does not depend on how much
padding the batch added: Go may batch differently from training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ARCHITECTURES: tuple[str, ...] = ("textcnn", "transformer", "minilm", "ngrams")

# A large negative instead of -inf: masked max over a row that is all
# padding stays finite, and ONNX Runtime and PyTorch agree on it.
_NEG = -1e4


@dataclass
class ArchConfig:
    """ArchConfig holds every architecture's size knobs; each uses its own."""

    embed_dim: int = 128
    filters: int = 128
    kernel_sizes: Sequence[int] = field(default_factory=lambda: (1, 2, 3, 4, 5))
    dropout: float = 0.5
    embed_dropout: float = 0.1
    d_model: int = 160
    layers: int = 2
    heads: int = 4
    ff_mult: int = 4
    buckets: int = 32749  # ngrams: hashed bigram/trigram embeddings (a prime)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["kernel_sizes"] = list(self.kernel_sizes)
        return d


class TextCNN(nn.Module):
    """TextCNN is Kim (2014): parallel 1-D convolutions, masked max over time.

    The embedded sequence is zeroed at padding and padded on the right by
    max(kernel)-1 zeros inside the model, so every real position starts a
    window whatever the batch's padding; windows starting on padding are
    masked out of the max.
    """

    def __init__(self, vocab_size: int, num_labels: int, pad_id: int, cfg: ArchConfig) -> None:
        super().__init__()
        self.kernel_sizes = tuple(int(k) for k in cfg.kernel_sizes)
        self.embed = nn.Embedding(vocab_size, cfg.embed_dim, padding_idx=pad_id)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.embed_dim, cfg.filters, k) for k in self.kernel_sizes)
        self.dropout = nn.Dropout(cfg.dropout)
        self.embed_dropout = nn.Dropout(cfg.embed_dropout)
        self.out = nn.Linear(cfg.filters * len(self.kernel_sizes), num_labels)
        self.min_length = max(self.kernel_sizes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.to(torch.float32)
        x = self.embed(input_ids) * m.unsqueeze(-1)  # [B,T,E]
        x = self.embed_dropout(x)
        x = x.transpose(1, 2)  # [B,E,T]
        x = F.pad(x, (0, max(self.kernel_sizes) - 1))
        valid = m.unsqueeze(1) > 0  # [B,1,T]
        t = input_ids.shape[1]
        pooled = []
        for conv in self.convs:
            h = F.relu(conv(x))[:, :, :t]  # window starts 0..T-1
            h = torch.where(valid, h, torch.full_like(h, _NEG))
            pooled.append(h.max(dim=2).values)
        return self.out(self.dropout(torch.cat(pooled, dim=1)))


class _Block(nn.Module):
    """_Block is a pre-norm Transformer layer with explicit attention.

    Written out rather than nn.TransformerEncoderLayer so the exported graph
    is plain MatMul/Softmax (no fused fast path that differs between train,
    eval and ONNX).
    """

    def __init__(self, d: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        if d % heads:
            raise ValueError(f"d_model {d} is not divisible by heads {heads}")
        self.heads, self.dh = heads, d // heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4).unbind(0)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.dh) + bias  # [B,H,T,T]
        att = self.drop(att.softmax(dim=-1))
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.ff(self.ln2(x)))


class TinyTransformer(nn.Module):
    """TinyTransformer is a small encoder trained from scratch: learned positions,
    pre-norm layers, masked mean pooling."""

    def __init__(self, vocab_size: int, num_labels: int, pad_id: int, max_length: int, cfg: ArchConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.embed = nn.Embedding(vocab_size, d, padding_idx=pad_id)
        self.pos = nn.Parameter(torch.zeros(max_length, d))
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList(_Block(d, cfg.heads, cfg.ff_mult * d, cfg.dropout) for _ in range(cfg.layers))
        self.ln = nn.LayerNorm(d)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(d, num_labels)
        self.min_length = 1

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        t = input_ids.shape[1]
        m = attention_mask.to(torch.float32)
        x = self.drop(self.embed(input_ids) + self.pos[:t].unsqueeze(0))
        bias = ((1.0 - m) * _NEG)[:, None, None, :]  # keys on padding get no attention
        for blk in self.blocks:
            x = blk(x, bias)
        x = self.ln(x)
        pooled = (x * m.unsqueeze(-1)).sum(dim=1) / m.sum(dim=1, keepdim=True).clamp(min=1.0)
        return self.out(self.drop(pooled))


class Ensemble(nn.Module):
    """Ensemble averages its members' logits: one ONNX graph, one card.

    Members share the tokenizer; min_length is the largest any member needs.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.min_length = max(int(getattr(m, "min_length", 1)) for m in members)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.members[0](input_ids, attention_mask)
        for m in self.members[1:]:
            out = out + m(input_ids, attention_mask)
        return out / len(self.members)


class NgramBag(nn.Module):
    """NgramBag is fastText-style: the mean embedding of the tokens and of their
    hashed bigrams and trigrams, then a linear layer.

    Word order only counts within three tokens, which is what lets it carry a
    phrasing it never saw ("package hasn't come" after "parcel has not
    arrived") better than a convolution that learned whole templates. The
    n-gram hash is int64 arithmetic inside the graph, so Go feeds token ids
    only, as for every other architecture.
    """

    _P = 1_000_003  # ids are < 2^20, so id*P^2 + ... stays far below 2^63

    def __init__(self, vocab_size: int, num_labels: int, pad_id: int, cfg: ArchConfig) -> None:
        super().__init__()
        self.buckets = int(cfg.buckets)
        self.tokens = nn.Embedding(vocab_size, cfg.embed_dim)
        self.ngrams = nn.Embedding(self.buckets, cfg.embed_dim)
        nn.init.normal_(self.ngrams.weight, std=0.02)
        self.dropout = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.embed_dim, num_labels)
        self.min_length = 3  # a trigram window exists in every batch

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.to(torch.float32)
        a, b, c = input_ids[:, :-2], input_ids[:, 1:-1], input_ids[:, 2:]
        m2 = m[:, :-1] * m[:, 1:]
        m3 = m2[:, :-1] * m[:, 2:]
        h2 = torch.remainder(input_ids[:, :-1] * self._P + input_ids[:, 1:], self.buckets)
        h3 = torch.remainder((a * self._P + b) * self._P + c + 7, self.buckets)
        total = (
            (self.tokens(input_ids) * m.unsqueeze(-1)).sum(1)
            + (self.ngrams(h2) * m2.unsqueeze(-1)).sum(1)
            + (self.ngrams(h3) * m3.unsqueeze(-1)).sum(1)
        )
        n = (m.sum(1) + m2.sum(1) + m3.sum(1)).clamp(min=1.0)
        return self.out(self.dropout(total / n.unsqueeze(-1)))


def build(
    arch: str,
    vocab_size: int,
    num_labels: int,
    pad_id: int,
    max_length: int,
    cfg: ArchConfig,
    backbone_dir: Path | None = None,
) -> nn.Module:
    """build returns a freshly initialised model; its min_length attribute is
    the card's min_length (the shortest batch the network accepts)."""
    if arch == "textcnn":
        return TextCNN(vocab_size, num_labels, pad_id, cfg)
    if arch == "ngrams":
        return NgramBag(vocab_size, num_labels, pad_id, cfg)
    if arch == "transformer":
        return TinyTransformer(vocab_size, num_labels, pad_id, max_length, cfg)
    if arch == "minilm":
        from switchboard_training import pretrained  # heavy; only for this arch

        model = pretrained.MiniLMClassifier(num_labels, backbone_dir or pretrained.backbone_dir(), dropout=cfg.dropout)
        if not hasattr(model, "min_length"):
            model.min_length = 1
        return model
    raise ValueError(f"unknown architecture {arch!r} (want one of {', '.join(ARCHITECTURES)})")
