"""Writes the small models nlu/asr's tests load (run from the repository root
with the training venv: .venv/bin/python nlu/asr/testdata/make_models.py).

tiny/       a randomly initialised model of the shipped architecture (so the
            Go chunked encoder can be checked against one whole run, and the
            contract checks against a real file), plus golden.json: its
            PyTorch output on features of a fixed pseudo-random signal.
bad-*/      the same model broken one way each; Load must refuse every one
            with an error naming the problem.
"""
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper

from switchboard_training.asr.export import export_onnx
from switchboard_training.asr.model import CTCModel, ModelConfig, Tokens

OUT = Path(__file__).parent
torch.manual_seed(7)

tokens = Tokens.build(["你好我的快递订单一二三四五六七八九零幺两"])
cfg = ModelConfig(channels=16, kernels=(3, 5), subsample_kernel=5, head=16, dropout=0.0)
model = CTCModel(len(tokens.symbols), cfg).eval()
# Random BatchNorm statistics so the folded graph is not an identity.
for m in model.modules():
    if isinstance(m, torch.nn.BatchNorm1d):
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 2.0)
with torch.no_grad():
    model.mean.uniform_(5, 10)


def write_model(d: Path, m: CTCModel, toks: Tokens) -> None:
    d.mkdir(parents=True, exist_ok=True)
    export_onnx(m, toks, d / "model.onnx", d.name)
    (d / "tokens.txt").write_text("".join(f"{s} {i}\n" for i, s in enumerate(toks.symbols)), encoding="utf-8")


tiny = OUT / "tiny"
write_model(tiny, model, tokens)

# Golden: 300 frames of features, the model's log-probs for the whole run.
rng = np.random.default_rng(3)
feats = (rng.standard_normal((300, 80)) * 3 + 8).astype(np.float32)
with torch.no_grad():
    lp, n = model(torch.from_numpy(feats)[None], torch.tensor([300]))
golden = {"frames": 300, "feats": feats.ravel().round(4).tolist(),
          "log_probs": lp[0, : int(n[0])].numpy().ravel().tolist(), "out_frames": int(n[0])}
# features were rounded for the file: recompute the reference from them
feats = np.array(golden["feats"], dtype=np.float32).reshape(300, 80)
with torch.no_grad():
    lp, n = model(torch.from_numpy(feats)[None], torch.tensor([300]))
golden["log_probs"] = [round(v, 6) for v in lp[0, : int(n[0])].numpy().ravel().tolist()]
(tiny / "golden.json").write_text(json.dumps(golden))


def variant(name: str, edit) -> None:
    d = OUT / name
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(tiny, d, ignore=shutil.ignore_patterns("golden.json"))
    edit(d)


def set_meta(key: str, value: str):
    def edit(d: Path) -> None:
        m = onnx.load(str(d / "model.onnx"))
        for p in m.metadata_props:
            if p.key == key:
                p.value = value
        onnx.save(m, str(d / "model.onnx"))
    return edit


# The graph takes 80 features; the metadata claims 40.
variant("bad-featdim", set_meta("feat_dim", "40"))
# tokens.txt lost its last line: the model outputs one token too many.
variant("bad-tokens", lambda d: (d / "tokens.txt").write_text(
    "".join((d / "tokens.txt").read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8"))
# Metadata that is not a number.
variant("bad-meta", set_meta("subsampling_factor", "four"))
# Not an ONNX file at all.
variant("bad-corrupt", lambda d: (d / "model.onnx").write_bytes(b"this is not a model"))


def logits_only(d: Path) -> None:
    # Drop the final LogSoftmax: the model then outputs logits.
    m = onnx.load(str(d / "model.onnx"))
    g = m.graph
    node = next(n for n in g.node if n.op_type == "LogSoftmax")
    for n in g.node:
        for i, name in enumerate(n.output):
            pass
    out = node.output[0]
    src = node.input[0]
    g.node.remove(node)
    g.node.append(helper.make_node("Identity", [src], [out]))
    onnx.save(m, str(d / "model.onnx"))


variant("bad-logits", logits_only)
print("wrote", sorted(p.name for p in OUT.iterdir() if p.is_dir()))
