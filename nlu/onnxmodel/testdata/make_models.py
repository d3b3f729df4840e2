"""Builds the small real ONNX models the Go tests of nlu/onnxmodel and nlu/ort load.

Writes, next to this file:

    models/category/test.1/   a tiny TextCNN classifier over the 8 categories
    models/embed/test.1/      a tiny mean-pooling embedder (32 dims, L2-normalised)
    golden/category.jsonl     {"text", "ids", "output"}: Python onnxruntime results
    golden/embed.jsonl          for single, unbatched texts (the Go parity check)

and ../../ort/testdata/tiny.onnx (input_ids/attention_mask -> logits [-1, 3],
vocabulary 16) with tiny.golden.json (its outputs for one batch) for the
runtime's own tests.

Each model directory follows docs/models.md. Run once with the training
environment (torch, tokenizers, onnxruntime) and commit the outputs:

    python nlu/onnxmodel/testdata/make_models.py
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer
from torch import nn

HERE = Path(__file__).resolve().parent
TOKENIZER = HERE.parent.parent / "tokenize" / "testdata" / "test.tokenizer.json"
VERSION = "test.1"
MAX_LENGTH = 128
MIN_LENGTH = 5
PAD_ID = 0
CATEGORIES = [
    "logistics", "returns_refunds", "account_login", "billing_payment",
    "product_quality", "technical_fault", "complaint", "general_inquiry",
]
# Keywords per category for a few seconds of training, so the test
# classifier gives sensible answers, not just random numbers.
KEYWORDS = {
    "logistics": ["物流", "快递", "包裹", "delivery", "package", "tracking", "顺丰"],
    "returns_refunds": ["退款", "退货", "refund", "return"],
    "account_login": ["账号", "登录", "密码", "验证码", "login", "password", "account"],
    "billing_payment": ["支付", "付款", "发票", "扣款", "payment", "invoice", "charged", "信用卡"],
    "product_quality": ["质量", "破损", "broken", "screen", "屏幕"],
    "technical_fault": ["故障", "维修", "not working", "wi-fi", "充电器"],
    "complaint": ["投诉", "不满意", "很生气", "complaint", "disappointed", "太慢了"],
    "general_inquiry": ["请问", "你好", "hello", "please", "什么时候", "谢谢"],
}
GOLDEN_TEXTS = [
    "",
    "我的快递还没到 where is my package?",
    "I want a refund 我要退款",
    "忘记密码了 cannot login to my account",
    "信用卡被扣款两次 charged twice",
    "屏幕破损 the screen is broken",
    "充电器故障 not working",
    "我要投诉 very disappointed 😡",
    "你好 请问 hello",
    "😀😀😀",
    "Café crème İstanbul ΣΊΣΥΦΟΣ",
    "\u0000\u200b\ufeff",
    "订" * 300,
    " ".join(["refund"] * 200),
]


class TinyTextCNN(nn.Module):
    """Embedding -> conv(k=3) -> masked max-pool -> linear.

    Padding embeddings are zeroed with the mask, so a padded position looks
    exactly like the convolution's own zero padding and the result of a row
    does not depend on how long the batch is padded.
    """

    def __init__(self, vocab: int, labels: int, dim: int = 16, channels: int = 24) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, channels, kernel_size=3, padding=1)
        self.out = nn.Linear(channels, labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).to(torch.float32)
        x = self.emb(input_ids) * m
        h = torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)
        h = h * m - (1.0 - m) * 1e4
        return self.out(h.max(dim=1).values)


class TinyEmbedder(nn.Module):
    """Embedding -> masked mean -> linear -> L2 normalise."""

    def __init__(self, vocab: int, dim: int = 32) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).to(torch.float32)
        mean = (self.emb(input_ids) * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        y = self.proj(mean)
        return y / y.norm(dim=-1, keepdim=True).clamp(min=1e-6)


class TinySum(nn.Module):
    """The runtime tests' model: masked embedding sum -> 3 logits, vocabulary 16."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(16, 4)
        self.out = nn.Linear(4, 3)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).to(torch.float32)
        return self.out((self.emb(input_ids) * m).sum(dim=1))


def encode(tok: Tokenizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pads to the longest row and at least MIN_LENGTH (docs/models.md)."""
    rows = [e.ids for e in tok.encode_batch(texts)]
    width = max(MIN_LENGTH, max(len(r) for r in rows))
    ids = np.full((len(rows), width), PAD_ID, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


def export(model: nn.Module, path: Path, output: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((2, 7), dtype=torch.int64)
    mask = torch.ones((2, 7), dtype=torch.int64)
    torch.onnx.export(
        model,
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=[output],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            output: {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )


def train_classifier(model: TinyTextCNN, tok: Tokenizer, seed: int) -> tuple[float, int]:
    rng = random.Random(seed)
    fillers = ["我的", "the", "my", "please", "还没", "已经", "is", "怎么办", "😀", "?"]
    texts: list[str] = []
    labels: list[int] = []
    for _ in range(800):
        y = rng.randrange(len(CATEGORIES))
        words = [rng.choice(KEYWORDS[CATEGORIES[y]])] + [rng.choice(fillers) for _ in range(rng.randint(0, 5))]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(y)
    ids, mask = encode(tok, texts)
    x, m, y = torch.from_numpy(ids), torch.from_numpy(mask), torch.tensor(labels)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x, m), y)
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = float((model(x, m).argmax(-1) == y).float().mean())
    return acc, len(texts)


def card(task: str, kind: str, arch: str, output: str, dim: int, extra: dict[str, object]) -> dict[str, object]:
    c: dict[str, object] = {
        "task": task,
        "version": VERSION,
        "kind": kind,
        "architecture": arch,
        "created_at": "2026-11-24T15:00:00Z",
        "inputs": [
            {"name": "input_ids", "dtype": "int64", "shape": [-1, -1]},
            {"name": "attention_mask", "dtype": "int64", "shape": [-1, -1]},
        ],
        "outputs": [{"name": output, "dtype": "float32", "shape": [-1, dim]}],
        "max_length": MAX_LENGTH,
        "min_length": MIN_LENGTH,
        "pad_id": PAD_ID,
        "license": "test fixture, no third-party weights",
        "notes": "tiny model for nlu/onnxmodel tests; built by testdata/make_models.py",
        "x_fixture": {"kept": "unknown fields must survive ReadCard"},
    }
    c.update(extra)
    return c


def write_dir(d: Path, model: nn.Module, output: str, labels: list[str], c: dict[str, object], tok: Tokenizer) -> None:
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    export(model, d / "model.onnx", output)
    shutil.copy(TOKENIZER, d / "tokenizer.json")
    (d / "labels.json").write_text(json.dumps(labels, ensure_ascii=False) + "\n", encoding="utf-8")
    # Parity between torch and ONNX Runtime, recorded in the card like a real export.
    ids, mask = encode(tok, GOLDEN_TEXTS)
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run([output], {"input_ids": ids, "attention_mask": mask})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    c["onnx"] = {"opset": 17, "parity_max_abs_diff": float(np.abs(got - want).max()), "quantized": False}
    (d / "card.json").write_text(json.dumps(c, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_golden(path: Path, model_path: Path, output: str, tok: Tokenizer) -> None:
    """One unbatched run per text, as the Go side's Model.Run does it."""
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for text in GOLDEN_TEXTS:
            ids, mask = encode(tok, [text])
            out = sess.run([output], {"input_ids": ids, "attention_mask": mask})[0][0]
            row = {"text": text, "ids": ids[0][mask[0] == 1].tolist(), "output": [float(v) for v in out]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_tiny(d: Path) -> None:
    """The runtime tests' model plus its outputs for one fixed batch."""
    export(TinySum().eval(), d / "tiny.onnx", "logits")
    ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0], [15, 15, 15, 15]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    sess = ort.InferenceSession(str(d / "tiny.onnx"), providers=["CPUExecutionProvider"])
    logits = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    golden = {
        "shape": list(ids.shape),
        "input_ids": ids.ravel().tolist(),
        "attention_mask": mask.ravel().tolist(),
        "logits_shape": list(logits.shape),
        "logits": [float(v) for v in logits.ravel()],
    }
    (d / "tiny.golden.json").write_text(json.dumps(golden) + "\n", encoding="utf-8")


def main() -> int:
    torch.manual_seed(13)
    torch.set_num_threads(1)
    tok = Tokenizer.from_file(str(TOKENIZER))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LENGTH)
    vocab = tok.get_vocab_size()

    clf = TinyTextCNN(vocab, len(CATEGORIES))
    acc, rows = train_classifier(clf, tok, seed=13)
    clf.eval()
    cat_dir = HERE / "models" / "category" / VERSION
    write_dir(
        cat_dir, clf, "logits", CATEGORIES,
        card("category", "classifier", "textcnn", "logits", len(CATEGORIES), {
            "calibration": {"temperature": 1.5},
            "thresholds": {"confidence": 0.55},
            "data": {"source": "generated keywords", "train_rows": rows, "test_rows": 0, "split": "none"},
            "training": {"seed": 13, "epochs": 150, "lr": 0.02, "batch_size": rows},
            "metrics": {"accuracy": acc, "macro_f1": 0.0, "ece": 0.0, "per_class": {}, "confusion": [], "latency_ms": {"p50": 0.0, "p99": 0.0}},
        }),
        tok,
    )
    write_golden(HERE / "golden" / "category.jsonl", cat_dir / "model.onnx", "logits", tok)

    emb = TinyEmbedder(vocab).eval()
    emb_dir = HERE / "models" / "embed" / VERSION
    write_dir(
        emb_dir, emb, "embedding", [],
        card("embed", "embedder", "meanpool", "embedding", 32, {
            "embedding_dim": 32,
            "data": {"source": "none (random weights)", "train_rows": 0, "test_rows": 0, "split": "none"},
            "training": {"seed": 13},
        }),
        tok,
    )
    write_golden(HERE / "golden" / "embed.jsonl", emb_dir / "model.onnx", "embedding", tok)

    write_tiny(HERE.parent.parent / "ort" / "testdata")
    print(f"make_models: classifier train accuracy {acc:.3f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
