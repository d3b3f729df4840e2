"""Model cards (card.json) and confusion-matrix plots, per docs/models.md.

The card's inputs/outputs are read back from the exported ONNX graph, not
assumed, so they are exactly what Go's load-time validation compares.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import onnx

_DTYPES = {
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.DOUBLE: "float64",
}


def graph_io(path: Path) -> tuple[list[dict], list[dict]]:
    """graph_io returns the ONNX model's inputs and outputs as card entries
    (name, dtype, shape with -1 for dynamic dimensions)."""
    g = onnx.load(str(path), load_external_data=False).graph
    init = {i.name for i in g.initializer}

    def entry(v: onnx.ValueInfoProto) -> dict:
        t = v.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        return {"name": v.name, "dtype": _DTYPES.get(t.elem_type, str(t.elem_type)), "shape": shape}

    return [entry(v) for v in g.input if v.name not in init], [entry(v) for v in g.output]


def git_commit(start: Path | None = None) -> str | None:
    """git_commit is the commit of the repository holding this package, with
    "+dirty" when it has uncommitted changes; None outside a repository."""
    cwd = start or Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def utc_iso(t: datetime) -> str:
    """utc_iso formats t as 2026-11-24T15:00:00Z."""
    return t.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_json(path: Path, obj: object) -> None:
    """write_json writes indented UTF-8 JSON ending in a newline."""
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def build(
    *,
    task: str,
    version: str,
    architecture: str,
    created_at: datetime,
    onnx_path: Path,
    max_length: int,
    min_length: int,
    pad_id: int,
    temperature: float,
    thresholds: dict[str, float],
    oos_label: str | None,
    data: dict,
    training: dict,
    metrics: dict,
    onnx_info: dict,
    license: str | None = None,
    notes: str | None = None,
) -> dict:
    """build assembles a classifier card in the docs/models.md field order."""
    inputs, outputs = graph_io(onnx_path)
    card: dict = {
        "task": task,
        "version": version,
        "kind": "classifier",
        "architecture": architecture,
        "created_at": utc_iso(created_at),
        "inputs": inputs,
        "outputs": outputs,
        "max_length": max_length,
        "min_length": min_length,
        "pad_id": pad_id,
        "calibration": {"temperature": round(float(temperature), 6)},
        "thresholds": {k: round(float(v), 6) for k, v in thresholds.items()},
    }
    if oos_label:
        card["out_of_scope_label"] = oos_label
    card["data"] = data
    card["training"] = training
    card["metrics"] = metrics
    card["onnx"] = onnx_info
    if license:
        card["license"] = license
    if notes:
        card["notes"] = notes
    return card


def confusion_png(path: Path, matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> None:
    """confusion_png draws the confusion matrix (rows: true, columns: predicted)
    with label names, row-normalised colours and raw counts."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    n = len(labels)
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    # Cells get a fixed size and long label names their own margin, so the
    # matrix stays readable from 3 to 80 labels.
    cell = 0.4 if n <= 30 else 0.22
    margin = 0.065 * max((len(x) for x in labels), default=1) + 0.8
    side = max(3.0, cell * n)
    fig, ax = plt.subplots(figsize=(side + margin, side + margin), dpi=100)
    try:
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(n), labels, rotation=90, fontsize=8 if n <= 30 else 5)
        ax.set_yticks(range(n), labels, fontsize=8 if n <= 30 else 5)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title)
        if n <= 30:
            for i in range(n):
                for j in range(n):
                    if m[i, j]:
                        ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=7,
                                color="white" if norm[i, j] > 0.5 else "black")
        fig.savefig(path, bbox_inches="tight")
    finally:
        plt.close(fig)
