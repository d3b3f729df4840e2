"""Error rates for transcripts: CER for Chinese, WER for English, and the mixed
error rate (Chinese characters and English words) for code-switched speech."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard_training.asr.texts import units


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> tuple[int, int, int, int]:
    """edit_distance is (errors, substitutions, deletions, insertions) of the
    minimum-edit alignment of hyp to ref (Levenshtein, all costs 1)."""
    # Each cell holds (cost, subs, dels, ins); ties prefer substitutions, as sclite does.
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i in range(1, len(ref) + 1):
        cur = [(i, 0, i, 0)]
        for j in range(1, len(hyp) + 1):
            if ref[i - 1] == hyp[j - 1]:
                best = prev[j - 1]
            else:
                s, d, n = prev[j - 1], prev[j], cur[j - 1]
                best = min((s[0] + 1, s[1] + 1, s[2], s[3]), (d[0] + 1, d[1], d[2] + 1, d[3]),
                           (n[0] + 1, n[1], n[2], n[3] + 1))
            cur.append(best)
        prev = cur
    return prev[-1]


def score_units(text: str, lang: str) -> list[str]:
    """score_units is what errors are counted over: characters for Chinese
    (spaces ignored), words for English, Chinese characters and English words
    for mixed speech."""
    if lang == "zh":
        return [c for c in text if not c.isspace()]
    if lang == "en":
        return text.split()
    return units(text)


def chars(text: str) -> list[str]:
    """chars is a transcript's characters, spaces ignored (the dev CER's units)."""
    return [c for c in text if not c.isspace()]


def error_rate(pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> dict[str, float]:
    """error_rate is the pooled rate sum(errors) / sum(reference units) over (ref, hyp) pairs."""
    n = e = s = d = i = 0
    for ref, hyp in pairs:
        ee, ss, dd, ii = edit_distance(ref, hyp)
        n += len(ref)
        e, s, d, i = e + ee, s + ss, d + dd, i + ii
    return {"rate": e / n if n else 0.0, "errors": e, "ref_units": n, "sub": s, "del": d, "ins": i,
            "utterances": len(pairs)}
