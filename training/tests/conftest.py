"""Shared fixtures: a small synthetic zh/en intent dataset and models trained on it once per session."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from switchboard_training import cli

# Four labels, two templates each per language, fillers drawn at random:
# enough signal for a tiny TextCNN to learn in a few epochs, and template_id
# and created_at for the template and time splits.
TEMPLATES: dict[str, list[str]] = {
    "order_status": ["where is my order {n}", "has order {n} shipped yet", "我的订单{n}到哪里了", "订单{n}什么时候发货"],
    "return_refund": ["i want a refund for {thing}", "how do i return the {thing}", "我要退款{thing}", "{thing}怎么退货"],
    "account_problem": ["i cannot log in to account {n}", "reset my password please {n}", "账号{n}登录不上去", "密码忘了{n}怎么办"],
    "out_of_scope": ["what is the weather like {n}", "tell me a joke about {thing}", "今天天气怎么样{n}", "给我讲个{thing}笑话"],
}
THINGS = ["shoes", "phone", "charger", "headphones", "jacket", "耳机", "手机", "充电器", "外套", "鞋子"]
PER_LABEL = 40


def make_rows(seed: int = 7, per_label: int = PER_LABEL) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    rows = []
    for label, temps in TEMPLATES.items():
        for i in range(per_label):
            t = i % len(temps)
            text = temps[t].format(n=rng.randint(1000, 99999), thing=rng.choice(THINGS))
            created = start + timedelta(hours=rng.randint(0, 24 * 70))
            rows.append({"id": f"{label}-{i}", "text": text, "label": label, "template_id": f"{label}/{t}",
                         "created_at": created.isoformat().replace("+00:00", "Z"), "lang": "zh" if t >= 2 else "en",
                         "source": "agent"})
    rng.shuffle(rows)
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Without template_id: validation is then a random share of rows (with it,
    # whole templates are held out, which four templates per label cannot spare).
    rows = [{k: v for k, v in r.items() if k != "template_id"} for r in make_rows()]
    return write_jsonl(tmp_path_factory.mktemp("data") / "intent.jsonl", rows)


TRAIN_ARGS = ["--task", "intent", "--oos-label", "out_of_scope", "--threads", "1", "--quiet",
              "--embed-dim", "32", "--filters", "32", "--vocab-size", "400", "--parity-batches", "60",
              "--batch-size", "16", "--lr", "0.005"]


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory, dataset: Path) -> Path:
    """models holds intent/v1 (one epoch: weak) and intent/v2 (trained properly),
    both tested on the same split, trained through the CLI."""
    out = tmp_path_factory.mktemp("models")
    for version, extra in (("v1", ["--epochs", "1", "--no-latency", "--lr", "0.0005"]),
                           ("v2", ["--epochs", "12", "--patience", "12", "--quantize", "--keep", "fp32"])):
        rc = cli.main(["train", "--data", str(dataset), "--out", str(out), "--version", version, *TRAIN_ARGS, *extra])
        assert rc == 0, f"train {version} exited {rc}"
    return out
