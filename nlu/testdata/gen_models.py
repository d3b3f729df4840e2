"""Writes the tiny model directories the nlu package's tests serve.

Run from the repository root:  /tmp/tv/bin/python nlu/testdata/gen_models.py

Each model is a bag-of-embeddings network over tokenizer.json (a 3000-word
WordPiece vocabulary), trained for a few seconds on templated sentences so
that its answers mean something, exported to ONNX opset 17 with a card that
follows docs/models.md. golden.jsonl records what PyTorch computes for a few
texts, so the Go tests check the whole path (tokenizer, ONNX, calibration)
against an independent implementation. Seeds are fixed: re-running writes
the same files.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch
from tokenizers import Tokenizer
from torch import nn

HERE = Path(__file__).resolve().parent
MAX_LENGTH = 32
MIN_LENGTH = 3

CATEGORY = {
    "logistics": ["where is my parcel", "my delivery is late", "the package has not arrived", "tracking shows no update"],
    "returns_refunds": ["i want a refund", "how do i return this item", "money back please", "refund my order"],
    "account_login": ["i cannot log in", "reset my password", "my account is locked", "login fails every time"],
    "billing_payment": ["i was charged twice", "my card payment failed", "wrong amount on the invoice", "billing error on my card"],
    "product_quality": ["the product is broken", "the item arrived damaged", "poor quality material", "it stopped working after a day"],
    "technical_fault": ["the app crashes", "the website shows an error", "the device will not turn on", "bluetooth does not connect"],
    "complaint": ["this service is terrible", "i want to complain about the staff", "very disappointed with you", "worst experience ever"],
    "general_inquiry": ["what are your opening hours", "do you ship abroad", "how can i contact you", "is this available in blue"],
}
INTENT = {
    "order_status": ["where is my order", "order status please", "has my order shipped"],
    "delivery_delay": ["my delivery is late", "the parcel is delayed", "why is it taking so long"],
    "return_refund": ["i want a refund", "return the item", "money back"],
    "cancel_order": ["cancel my order", "i want to cancel", "stop the order"],
    "change_address": ["change my address", "new delivery address", "update the address"],
    "account_problem": ["cannot log in", "password reset", "account locked"],
    "payment_problem": ["payment failed", "charged twice", "card declined"],
    "complaint": ["i want to complain", "terrible service", "very unhappy"],
    "talk_to_human": ["talk to a person", "human agent please", "operator"],
    "yes": ["yes", "yes please", "correct"],
    "no": ["no", "no thanks", "wrong"],
    "repeat": ["say that again", "repeat please", "pardon"],
    "goodbye": ["goodbye", "bye", "that is all thanks"],
    "out_of_scope": ["what is the weather", "tell me a joke", "who won the football", "play some music"],
}
SENTIMENT = {
    "negative": ["this is terrible", "i am very angry", "worst service ever", "awful and useless", "i hate this"],
    "neutral": ["my order number is 42", "i have a question", "the parcel arrived today", "please check the status"],
    "positive": ["thank you so much", "great service", "i love it", "excellent and fast", "very happy"],
}


class Classifier(nn.Module):
    """Masked mean of token embeddings, one hidden layer, logits."""

    def __init__(self, vocab: int, labels: int, dim: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0)
        self.hidden = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).to(torch.float32)
        pooled = (self.emb(input_ids) * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.out(torch.tanh(self.hidden(pooled)))


class Embedder(nn.Module):
    """Masked mean of token embeddings, L2-normalised."""

    def __init__(self, vocab: int, dim: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).to(torch.float32)
        pooled = (self.emb(input_ids) * m).sum(1) / m.sum(1).clamp(min=1.0)
        return nn.functional.normalize(pooled, dim=-1)


def encode(tok: Tokenizer, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenizes like docs/models.md: truncate keeping [SEP], right-pad."""
    rows = []
    for t in texts:
        ids = tok.encode(t).ids
        if len(ids) > MAX_LENGTH:
            ids = ids[: MAX_LENGTH - 1] + [ids[-1]]
        rows.append(ids)
    width = max(MIN_LENGTH, max(len(r) for r in rows))
    ids = torch.zeros((len(rows), width), dtype=torch.int64)
    mask = torch.zeros((len(rows), width), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def train(tok: Tokenizer, data: dict[str, list[str]], seed: int, epochs: int) -> tuple[Classifier, list[str]]:
    torch.manual_seed(seed)
    labels = list(data)
    texts = [t for lab in labels for t in data[lab]]
    ys = torch.tensor([i for i, lab in enumerate(labels) for _ in data[lab]])
    model = Classifier(tok.get_vocab_size(), len(labels))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    ids, mask = encode(tok, texts)
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(ids, mask), ys)
        loss.backward()
        opt.step()
    return model.eval(), labels


def export(model: nn.Module, out: Path, output: str, width: int) -> None:
    ids, mask = torch.ones((2, 5), dtype=torch.int64), torch.ones((2, 5), dtype=torch.int64)
    torch.onnx.export(
        model, (ids, mask), str(out / "model.onnx"), dynamo=False, opset_version=17,
        input_names=["input_ids", "attention_mask"], output_names=[output],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, output: {0: "batch"}},
    )


def write_dir(root: Path, task: str, version: str, model: nn.Module, labels: list[str], card_extra: dict) -> Path:
    out = root / task / version
    out.mkdir(parents=True, exist_ok=True)
    embedder = not labels
    output = "embedding" if embedder else "logits"
    width = card_extra.get("embedding_dim", len(labels))
    export(model, out, output, width)
    (out / "tokenizer.json").write_bytes((HERE / "tokenizer.json").read_bytes())
    (out / "labels.json").write_text(json.dumps(labels) + "\n")
    card = {
        "task": task, "version": version,
        "kind": "embedder" if embedder else "classifier",
        "architecture": "bag-of-embeddings",
        "created_at": "2026-01-01T00:00:00Z",
        "inputs": [{"name": "input_ids", "dtype": "int64", "shape": [-1, -1]},
                   {"name": "attention_mask", "dtype": "int64", "shape": [-1, -1]}],
        "outputs": [{"name": output, "dtype": "float32", "shape": [-1, width]}],
        "max_length": MAX_LENGTH, "min_length": MIN_LENGTH, "pad_id": 0,
        "calibration": {"temperature": 1.0}, "thresholds": {},
        "data": {"source": "nlu/testdata/gen_models.py templates", "train_rows": 0, "test_rows": 0, "split": "none"},
        "onnx": {"opset": 17, "quantized": False},
        "notes": "tiny test model; meaningless outside the nlu tests",
    }
    card.update(card_extra)
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return out


GOLDEN_TEXTS = ["where is my parcel", "i want a refund", "this is terrible", "cancel my order",
                "what is the weather", "我的订单还没到 where is my order?", "😀😀😀"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "models", help="models directory to write")
    args = ap.parse_args()
    torch.set_num_threads(1)
    random.seed(0)
    tok = Tokenizer.from_file(str(HERE / "tokenizer.json"))
    golden = []

    def record(task: str, version: str, model: nn.Module, kind: str) -> None:
        with torch.no_grad():
            for t in GOLDEN_TEXTS:
                ids, mask = encode(tok, [t])
                golden.append({"task": task, "version": version, "text": t, kind: model(ids, mask)[0].tolist()})

    cat1, labels = train(tok, CATEGORY, seed=1, epochs=150)
    write_dir(args.out, "category", "2026-01-01.1", cat1, labels,
              {"calibration": {"temperature": 1.5}, "thresholds": {"confidence": 0.55}})
    record("category", "2026-01-01.1", cat1, "logits")
    # A second version: other seed, undertrained, so it disagrees sometimes.
    cat2, labels = train(tok, CATEGORY, seed=2, epochs=8)
    write_dir(args.out, "category", "2026-02-01.1", cat2, labels,
              {"calibration": {"temperature": 1.0}, "thresholds": {"confidence": 0.55}})
    record("category", "2026-02-01.1", cat2, "logits")

    intent, labels = train(tok, INTENT, seed=3, epochs=150)
    write_dir(args.out, "intent", "2026-01-01.1", intent, labels,
              {"calibration": {"temperature": 1.2}, "thresholds": {"confidence": 0.6, "out_of_scope": 0.5},
               "out_of_scope_label": "out_of_scope"})
    record("intent", "2026-01-01.1", intent, "logits")

    sent, labels = train(tok, SENTIMENT, seed=4, epochs=150)
    write_dir(args.out, "sentiment", "2026-01-01.1", sent, labels,
              {"calibration": {"temperature": 1.0}, "thresholds": {"escalation": 0.8}})
    record("sentiment", "2026-01-01.1", sent, "logits")

    torch.manual_seed(5)
    emb = Embedder(tok.get_vocab_size(), 32).eval()
    write_dir(args.out, "embed", "tiny-embed.1", emb, [], {"embedding_dim": 32})
    record("embed", "tiny-embed.1", emb, "embedding")

    with open(HERE / "golden.jsonl", "w") as f:
        for g in golden:
            f.write(json.dumps(g, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
