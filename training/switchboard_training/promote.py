"""Promotion and rollback: edits to models/manifest.json (docs/models.md).

A running server hot-reloads the manifest, so it is always replaced
atomically (write a temporary file beside it, then rename) and a version is
only ever named after its directory has been checked.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx

from switchboard_training import data, evaluate


class PromoteError(ValueError):
    """PromoteError is a promotion or rollback that must not happen; the message says why."""


@dataclass
class Decision:
    """Decision is what promote did and why."""

    promoted: bool
    reason: str
    candidate: dict[str, object] | None = None
    production: dict[str, object] | None = None
    manifest: dict | None = None


def read_manifest(models: Path) -> dict:
    """read_manifest returns the manifest, or an empty one when the file does not exist."""
    p = models / "manifest.json"
    if not p.exists():
        return {"tasks": {}}
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise PromoteError(f"{p}: bad JSON: {e}") from e
    if not isinstance(m, dict) or not isinstance(m.setdefault("tasks", {}), dict):
        raise PromoteError(f"{p}: want an object with a \"tasks\" object")
    return m


def write_manifest(models: Path, manifest: dict) -> None:
    """write_manifest replaces models/manifest.json atomically."""
    models.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=models)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, models / "manifest.json")
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_dir(models: Path, task: str, version: str) -> dict:
    """check_dir applies Go's load-time checks that need no inference and returns the card."""
    d = models / task / version
    if not d.is_dir():
        raise PromoteError(f"{d}: no such model directory")
    for f in evaluate.REQUIRED_FILES:
        if not (d / f).is_file():
            raise PromoteError(f"{d}: missing {f}")
    try:
        c = evaluate.read_json(d / "card.json")
        labels = evaluate.read_json(d / "labels.json")
    except evaluate.ModelDirError as e:
        raise PromoteError(str(e)) from e
    if not isinstance(c, dict) or c.get("task") != task or c.get("version") != version:
        raise PromoteError(f"{d}/card.json: task/version {c.get('task')!r}/{c.get('version')!r} "
                           f"do not match the directory {task}/{version}")
    try:
        g = onnx.load(str(d / "model.onnx"), load_external_data=False).graph
    except Exception as e:  # onnx raises DecodeError and friends
        raise PromoteError(f"{d}/model.onnx: not an ONNX model: {e}") from e
    names = [i.name for i in g.input if i.name not in {x.name for x in g.initializer}]
    if names != [i["name"] for i in c.get("inputs", [])]:
        raise PromoteError(f"{d}: ONNX inputs {names} differ from card.inputs")
    dims = g.output[0].type.tensor_type.shape.dim if g.output else []
    last = dims[-1].dim_value if dims and dims[-1].HasField("dim_value") else None
    if c.get("kind", "classifier") == "classifier":
        if not isinstance(labels, list) or len(labels) != last:
            raise PromoteError(f"{d}: {len(labels) if isinstance(labels, list) else '?'} labels but the model "
                               f"outputs {last} columns")
    elif last != c.get("embedding_dim"):
        raise PromoteError(f"{d}: embedding_dim {c.get('embedding_dim')} but the model outputs {last}")
    return c


def _metric(result: dict, metric: str, where: str) -> float:
    v = result.get(metric)
    if not isinstance(v, (int, float)):
        raise PromoteError(f"{where} has no numeric {metric!r}")
    return float(v)


def promote(
    models: Path,
    task: str,
    version: str,
    log: logging.Logger,
    data_file: Path | None = None,
    metric: str = "macro_f1",
    margin: float = 0.005,
    force: bool = False,
    as_candidate: bool = False,
    text_col: str | None = None,
    label_col: str | None = None,
) -> Decision:
    """promote makes version the task's production (or, with as_candidate, its
    shadow candidate) when it beats production by margin on metric."""
    cand_card = check_dir(models, task, version)
    m = read_manifest(models)
    entry = m["tasks"].setdefault(task, {})
    prod = entry.get("production")
    if as_candidate:
        if prod == version:
            raise PromoteError(f"{task} {version} is already production")
        entry["candidate"] = version
        write_manifest(models, m)
        return Decision(True, f"{task} candidate (shadow) is now {version}", manifest=m)
    if prod == version:
        raise PromoteError(f"{task} {version} is already production")
    c_res = p_res = None
    if prod and not force:
        check_dir(models, task, prod)
        if data_file:
            rows, _ = data.clean(data.load(data_file, text_col, label_col))
            c_res = evaluate.evaluate_dir(models / task / version, rows)
            p_res = evaluate.evaluate_dir(models / task / prod, rows)
            where = f"evaluation on {data_file}"
        else:
            prod_card = evaluate.read_json(models / task / prod / "card.json")
            a = cand_card.get("data", {}).get("test_sha256")
            b = prod_card.get("data", {}).get("test_sha256") if isinstance(prod_card, dict) else None
            if not a or a != b:
                raise PromoteError(f"{task} {version} and production {prod} were tested on different data; "
                                   "pass --data FILE to evaluate both on the same rows")
            c_res, p_res = cand_card.get("metrics", {}), prod_card.get("metrics", {})
            where = "the cards' metrics (same test data)"
        cv, pv = _metric(c_res, metric, f"{version} ({where})"), _metric(p_res, metric, f"{prod} ({where})")
        if cv < pv + margin:
            return Decision(False, f"not promoted: {metric} {cv:.4f} vs production {pv:.4f} on {where}; "
                                   f"needs +{margin} (use --force to override)", c_res, p_res, m)
        reason = f"{metric} {cv:.4f} beats production {pv:.4f} by >= {margin} on {where}"
    elif prod:
        reason = "forced"
    else:
        reason = f"{task} had no production version"
    previous = [v for v in entry.get("previous", []) if v != version]
    if prod:
        previous.insert(0, prod)
    entry["production"] = version
    entry["previous"] = previous
    if entry.get("candidate") == version:
        del entry["candidate"]
    write_manifest(models, m)
    log.info("promoted %s %s (%s)", task, version, reason)
    return Decision(True, f"{task} production is now {version}: {reason}", c_res, p_res, m)


def rollback(models: Path, task: str, log: logging.Logger) -> Decision:
    """rollback makes previous[0] production again.

    The rolled-back version leaves the manifest (it is the one found wanting);
    its directory stays, so `promote --force` can bring it back.
    """
    m = read_manifest(models)
    entry = m["tasks"].get(task)
    if not entry or not entry.get("previous"):
        raise PromoteError(f"{task}: no previous version to roll back to")
    prev: Sequence[str] = entry["previous"]
    target = prev[0]
    check_dir(models, task, target)
    old = entry.get("production")
    entry["production"] = target
    entry["previous"] = list(prev[1:])
    write_manifest(models, m)
    log.info("rolled back %s from %s to %s", task, old, target)
    return Decision(True, f"{task} production is now {target} (was {old})", manifest=m)
