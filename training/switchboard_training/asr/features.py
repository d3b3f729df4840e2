"""Log-mel filterbank features exactly as docs/asr.md specifies (the Go
recognizer computes the same), and their precomputed store for training."""

from __future__ import annotations

import json
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchaudio

SAMPLE_RATE = 8000
FEAT_DIM = 80
FRAME_LENGTH_MS = 25
FRAME_SHIFT_MS = 10
# The options written into the ONNX metadata (docs/asr.md, Model contract):
# the Go side reads them, so they must be the ones fbank() uses.
FBANK_OPTIONS: dict[str, object] = {
    "sample_rate": SAMPLE_RATE, "feat_dim": FEAT_DIM, "frame_length_ms": FRAME_LENGTH_MS,
    "frame_shift_ms": FRAME_SHIFT_MS, "low_freq": 20, "high_freq": -400, "dither": 0,
    "snip_edges": "false", "window_type": "povey", "preemphasis": 0.97, "remove_dc_offset": "true",
}


class AudioError(ValueError):
    """AudioError is an audio file that cannot be read or has the wrong format."""


def read_wav(path: Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """read_wav returns a mono WAV's samples as float32 in [-1, 1] at rate Hz;
    other rates are resampled (torchaudio), multi-channel audio is averaged."""
    try:
        with wave.open(str(path), "rb") as w:
            sr, ch, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise AudioError(f"{path}: not a PCM WAV file ({e})") from None
    if width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
    elif width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    else:
        raise AudioError(f"{path}: {8 * width}-bit samples are not supported")
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    if sr != rate:
        x = torchaudio.functional.resample(torch.from_numpy(x), sr, rate).numpy()
    return x


def num_frames(num_samples: int) -> int:
    """num_frames is fbank's frame count with snip_edges=False: one frame per
    shift, rounded to nearest (Kaldi: (n + shift/2) // shift)."""
    shift = SAMPLE_RATE * FRAME_SHIFT_MS // 1000
    return (num_samples + shift // 2) // shift


def fbank(samples: np.ndarray) -> np.ndarray:
    """fbank is the [T, 80] float32 log-mel filterbank of 8 kHz float samples in [-1, 1]."""
    wav = torch.from_numpy(np.asarray(samples, dtype=np.float32) * 32768.0).unsqueeze(0)
    with torch.no_grad():
        f = torchaudio.compliance.kaldi.fbank(
            wav, sample_frequency=SAMPLE_RATE, num_mel_bins=FEAT_DIM, frame_length=FRAME_LENGTH_MS,
            frame_shift=FRAME_SHIFT_MS, dither=0.0, snip_edges=False, low_freq=20, high_freq=-400,
            window_type="povey", preemphasis_coefficient=0.97, remove_dc_offset=True,
        )
    return f.numpy()


def read_manifest(path: Path) -> list[dict]:
    """read_manifest loads a manifest.jsonl; relative audio paths are resolved
    against the manifest's directory."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such manifest")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e})") from None
            if "audio" not in r or "text" not in r:
                raise ValueError(f"{path}:{n}: want fields audio and text")
            a = Path(r["audio"])
            r["audio"] = str(a if a.is_absolute() else path.parent / a)
            r.setdefault("id", f"{path.parent.name}-{n:06d}")
            rows.append(r)
    if not rows:
        raise ValueError(f"{path}: empty manifest")
    return rows


@dataclass
class FeatureStore:
    """FeatureStore is a split's features: all frames in one float16 array,
    utterance i being frames[offsets[i]:offsets[i+1]]."""

    frames: np.ndarray
    offsets: np.ndarray
    rows: list[dict]

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, i: int) -> np.ndarray:
        return self.frames[self.offsets[i] : self.offsets[i + 1]]

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def compute_store(rows: Sequence[dict], out_dir: Path, progress: bool = True) -> FeatureStore:
    """compute_store computes the features of rows into out_dir/{feats.npy,offsets.npy,rows.jsonl}."""
    from tqdm import tqdm

    torch.set_num_threads(1)  # tiny FFTs: threads only add overhead
    feats, offsets = [], [0]
    for r in tqdm(rows, desc=f"fbank {out_dir.name}", disable=not progress, mininterval=5):
        f = fbank(read_wav(Path(r["audio"])))
        feats.append(f.astype(np.float16))
        offsets.append(offsets[-1] + f.shape[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = np.concatenate(feats) if feats else np.zeros((0, FEAT_DIM), np.float16)
    np.save(out_dir / "feats.npy", frames)
    np.save(out_dir / "offsets.npy", np.asarray(offsets, dtype=np.int64))
    with open(out_dir / "rows.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return FeatureStore(frames, np.asarray(offsets, dtype=np.int64), list(rows))


def load_store(out_dir: Path) -> FeatureStore:
    """load_store opens what compute_store wrote."""
    if not (out_dir / "feats.npy").is_file():
        raise FileNotFoundError(f"{out_dir}: no features (run `switchboard-train asr features`)")
    rows = [json.loads(line) for line in open(out_dir / "rows.jsonl", encoding="utf-8")]
    return FeatureStore(np.load(out_dir / "feats.npy", mmap_mode="r"), np.load(out_dir / "offsets.npy"), rows)
