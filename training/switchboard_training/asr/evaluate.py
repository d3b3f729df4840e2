"""Evaluation of an exported model directory (ONNX Runtime, greedy CTC
decoding, i.e. what the Go recognizer's greedy mode does) on manifests:
CER for Chinese, WER for English, mixed error rate for code-switched speech,
per kind and per noise condition, cross-checked with NIST sclite."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from switchboard_training.asr.export import session
from switchboard_training.asr.features import fbank, read_manifest, read_wav
from switchboard_training.asr.metrics import chars, error_rate, score_units
from switchboard_training.asr.model import Tokens, greedy
from switchboard_training.asr.texts import EN_DIGITS, ZH_DIGITS

LANGS = ("zh", "en", "mixed")
METRIC_NAME = {"zh": "cer", "en": "wer", "mixed": "mer"}
SCLITE_PATHS = ("/usr/lib/sctk/bin/sclite", "/usr/local/bin/sclite")


def transcribe(model_dir: Path, rows: Sequence[dict], threads: int = 2, batch_seconds: float = 120.0) -> list[str]:
    """transcribe runs the model directory's model.onnx over the rows' audio
    (batched by length) and returns greedy transcripts in row order."""
    tokens = Tokens.load(model_dir / "tokens.txt")
    sess = session(model_dir / "model.onnx", threads)
    feats = [fbank(read_wav(Path(r["audio"]))) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: feats[i].shape[0])
    out = [""] * len(rows)
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and (j - i + 1) * feats[order[j]].shape[0] <= batch_seconds * 100:
            j += 1
        j = max(j, i + 1)
        idx = order[i:j]
        t = max(feats[k].shape[0] for k in idx)
        x = np.zeros((len(idx), t, feats[idx[0]].shape[1]), np.float32)
        for n, k in enumerate(idx):
            x[n, : feats[k].shape[0]] = feats[k]
        xl = np.array([feats[k].shape[0] for k in idx], np.int64)
        lp, ll = sess.run(None, {"x": x, "x_lens": xl})
        for n, k in enumerate(idx):
            out[k] = tokens.decode(greedy(torch.from_numpy(lp[n]), int(ll[n])))
        i = j
    return out


_SPOKEN_DIGIT = {**{c: str(i) for i, c in enumerate(ZH_DIGITS)}, "幺": "1", "两": "2", "oh": "0", "o": "0",
                 **{w: str(i) for i, w in enumerate(EN_DIGITS)}}


def spoken_digits(text: str) -> str:
    """spoken_digits is the digit string a transcript reads out (other words ignored)."""
    out = []
    for tok in re.findall(r"[a-z']+|\S", text):
        if tok in _SPOKEN_DIGIT:
            out.append(_SPOKEN_DIGIT[tok])
    return "".join(out)


def _rate(rows: Sequence[dict], hyps: Sequence[str]) -> dict:
    pairs = [(score_units(r["text"], r.get("lang", "zh")), score_units(h, r.get("lang", "zh")))
             for r, h in zip(rows, hyps)]
    return error_rate(pairs)


def _by_lang(rows: Sequence[dict], hyps: Sequence[str]) -> dict:
    out = {}
    for lang in LANGS:
        sel = [(r, h) for r, h in zip(rows, hyps) if r.get("lang", "zh") == lang]
        if sel:
            res = _rate([r for r, _ in sel], [h for _, h in sel])
            out[f"{lang}_{METRIC_NAME[lang]}"] = round(res["rate"], 4)
            out[f"{lang}_units"] = res["ref_units"]
    out["cer_all_chars"] = round(error_rate([(chars(r["text"]), chars(h)) for r, h in zip(rows, hyps)])["rate"], 4)
    out["utterances"] = len(rows)
    return out


def score(rows: Sequence[dict], hyps: Sequence[str]) -> dict:
    """score is the metrics of hyps against rows: per language (zh CER, en WER,
    mixed MER), all-character CER, and the same per kind and per condition;
    digit-string accuracy where rows carry digits."""
    res: dict = {"overall": _by_lang(rows, hyps)}
    for key in ("kind", "condition"):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            groups[str(r.get(key, "-"))].append(i)
        if len(groups) > 1 or key == "condition":
            res[f"by_{key}"] = {g: _by_lang([rows[i] for i in ix], [hyps[i] for i in ix])
                                for g, ix in sorted(groups.items())}
    dig = [(r["digits"], spoken_digits(h)) for r, h in zip(rows, hyps) if r.get("digits")]
    if dig:
        res["digits"] = {"utterances": len(dig), "string_accuracy": round(sum(a == b for a, b in dig) / len(dig), 4),
                         "digit_error_rate": round(error_rate([(list(a), list(b)) for a, b in dig])["rate"], 4)}
    return res


def trn_line(text: str, lang: str, utt_id: str) -> str:
    """trn_line is one NIST trn line: space-separated scoring units and the (utterance id)."""
    return f"{' '.join(score_units(text, lang))} ({utt_id})\n"


def write_trn(out_dir: Path, rows: Sequence[dict], hyps: Sequence[str]) -> dict[str, tuple[Path, Path]]:
    """write_trn writes <out_dir>/<lang>/{ref,hyp}.trn per language; returns the paths."""
    paths = {}
    for lang in LANGS:
        sel = [(r, h) for r, h in zip(rows, hyps) if r.get("lang", "zh") == lang]
        if not sel:
            continue
        d = out_dir / lang
        d.mkdir(parents=True, exist_ok=True)
        # sclite takes the speaker from the id's prefix before '-'; one speaker is fine.
        with open(d / "ref.trn", "w", encoding="utf-8") as fr, open(d / "hyp.trn", "w", encoding="utf-8") as fh:
            for r, h in sel:
                uid = f"spk-{r['id']}"
                fr.write(trn_line(r["text"], lang, uid))
                fh.write(trn_line(h, lang, uid))
        paths[lang] = (d / "ref.trn", d / "hyp.trn")
    return paths


def sclite_error_rate(ref: Path, hyp: Path) -> float | None:
    """sclite_error_rate is sclite's total error rate (Sum/Avg Err, as a
    fraction) for a pair of trn files; None when sclite is not installed."""
    # Debian's sctk puts sclite behind its `sctk` front end, off PATH.
    exe = shutil.which("sclite") or next((p for p in SCLITE_PATHS if Path(p).is_file()), None)
    if exe is None:
        return None
    p = subprocess.run([exe, "-r", str(ref), "trn", "-h", str(hyp), "trn", "-i", "rm", "-e", "utf-8",
                        "-o", "sum", "stdout"], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"sclite failed ({p.returncode}): {p.stderr.strip() or p.stdout[-500:]}")
    for line in p.stdout.splitlines():
        if "Sum/Avg" in line:
            nums = re.findall(r"\d+(?:\.\d+)?", line)
            # | Sum/Avg | #Snt #Wrd | Corr Sub Del Ins Err S.Err |
            return float(nums[6]) / 100
    raise RuntimeError(f"sclite: no Sum/Avg line in its output:\n{p.stdout[-800:]}")


def evaluate_split(model_dir: Path, manifest: Path, out_dir: Path, log: logging.Logger) -> dict:
    """evaluate_split scores the model on one manifest, writes trn files and
    hypotheses under out_dir, and cross-checks every language's rate with sclite."""
    rows = read_manifest(manifest)
    hyps = transcribe(model_dir, rows)
    res = score(rows, hyps)
    res["manifest"] = str(manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "hyp.tsv", "w", encoding="utf-8") as f:
        for r, h in zip(rows, hyps):
            f.write(f"{r['id']}\t{r['text']}\t{h}\n")
    sc = {}
    for lang, (ref, hyp) in write_trn(out_dir, rows, hyps).items():
        ours = res["overall"][f"{lang}_{METRIC_NAME[lang]}"]
        theirs = sclite_error_rate(ref, hyp)
        sc[lang] = {"ours": ours, "sclite": None if theirs is None else round(theirs, 4),
                    "ref_trn": str(ref), "hyp_trn": str(hyp)}
        if theirs is None:
            log.warning("sclite is not installed (apt-get install sctk): no cross-check")
        elif abs(theirs - ours) > 0.0015:  # sclite prints percentages with one decimal
            raise RuntimeError(f"{manifest} {lang}: our error rate {ours:.4f} disagrees with sclite's {theirs:.4f}")
    res["sclite"] = sc
    return res
