#!/usr/bin/env python3
"""Regenerate the torchaudio fbank goldens that TestFbankMatchesTorchaudio reads.

This is a development step, not part of `go test`: the Go test only reads the
committed outputs. Run it from the repository root with the project venv
(torch 2.9.1 / torchaudio 2.9.1):

    .venv/bin/python nlu/audio/testdata/gen_fbank_golden.py

Inputs (committed next to this script):
  speech8k.wav, speech16k.wav  espeak-ng speech, made with
      espeak-ng -v cmn -s 230 "你好，我的快递三天了还没到" --stdout |
        sox - -r 8000 -b 16 speech8k.wav silence 1 0.01 0.5% trim 0 1.5
      (and -r 16000 ... trim 0 1.0 for the 16 kHz clip)
  tone_noise8k.wav  written by this script when missing: 0.1 s of digital
      silence (exercises the log floor), 0.15 s of a 1 kHz tone, 0.15 s of
      seeded white noise.

Outputs: fbank_golden.json (index: case name, wav, torchaudio keyword
arguments, frame count, dim, golden files) and per case <case>.torch64.f32.gz
(torchaudio run on float64 input) plus, for the model-contract cases,
<case>.torch32.f32.gz (run on float32 input); each is a gzip of
little-endian float32, frames x dim, row-major.
"""

import gzip
import json
import pathlib
import wave

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

HERE = pathlib.Path(__file__).resolve().parent


def write_tone_noise(path: pathlib.Path) -> None:
    rate = 8000
    rng = np.random.default_rng(20240611)
    silence = np.zeros(int(0.10 * rate))
    t = np.arange(int(0.15 * rate)) / rate
    tone = 0.5 * np.sin(2 * np.pi * 1000.0 * t)
    noise = 0.05 * rng.standard_normal(int(0.15 * rate))
    x = np.concatenate([silence, tone, noise])
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def read_pcm16(path: pathlib.Path) -> tuple[torch.Tensor, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    # int16 values as float32: the same numbers the Go side gets from
    # DecodeWAV (s/32768) times Scale (32768), both exact in float32.
    return torch.from_numpy(pcm.astype(np.float32)).unsqueeze(0), rate


MODEL = dict(
    num_mel_bins=80,
    frame_length=25.0,
    frame_shift=10.0,
    low_freq=20.0,
    high_freq=-400.0,
    dither=0.0,
    snip_edges=False,
    window_type="povey",
    preemphasis_coefficient=0.97,
    remove_dc_offset=True,
)

CASES = [
    # Our model's settings (docs/asr.md) on 8 kHz telephone speech.
    ("model8k", "speech8k.wav", dict(MODEL)),
    # Same settings on silence / tone / noise: the log floor and pure tones.
    ("model8k_tone_noise", "tone_noise8k.wav", dict(MODEL)),
    # sherpa-onnx's default front end (16 kHz, 80 bins).
    ("sherpa16k", "speech16k.wav", dict(MODEL)),
    # Kaldi's other defaults: hamming, snip_edges, no preemphasis, no DC removal.
    (
        "hamming8k_snip",
        "speech8k.wav",
        dict(MODEL, window_type="hamming", snip_edges=True, preemphasis_coefficient=0.0, remove_dc_offset=False, _keep_frames=50),
    ),
    ("mel40_16k", "speech16k.wav", dict(MODEL, num_mel_bins=40, high_freq=7600.0)),
    ("magnitude8k", "speech8k.wav", dict(MODEL, use_power=False, _keep_frames=50)),
    # Energy column, blackman window, no power-of-two rounding.
    (
        "energy16k_blackman",
        "speech16k.wav",
        dict(
            MODEL,
            num_mel_bins=64,
            window_type="blackman",
            round_to_power_of_two=False,
            use_energy=True,
            raw_energy=True,
            energy_floor=1.0,
            _keep_frames=50,
        ),
    ),
    ("hanning8k_linear", "speech8k.wav", dict(MODEL, window_type="hanning", use_log_fbank=False, num_mel_bins=23, _keep_frames=50)),
]


FLOAT32_CASES = {"model8k", "model8k_tone_noise", "sherpa16k"}


def main() -> None:
    tn = HERE / "tone_noise8k.wav"
    if not tn.exists():
        write_tone_noise(tn)
    index = {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "cases": []}
    for name, wav, kw in CASES:
        x, rate = read_pcm16(HERE / wav)
        kw = dict(kw)
        keep = kw.pop("_keep_frames", None)
        total = None
        entry = dict(name=name, wav=wav, options=kw)
        # torchaudio's fbank in float64 is the reference the Go test holds
        # tightly (we compute in float64 too); in float32 (what a training
        # pipeline normally runs) it differs from that by float32 FFT
        # rounding, up to ~1e-2 in the log of bins far below a frame's peak.
        # The float32 output is kept for the model-contract cases so the
        # test can report the distance to it.
        for prec, dtype in (("64", torch.float64), ("32", torch.float32)):
            if prec == "32" and name not in FLOAT32_CASES:
                continue
            feats = kaldi.fbank(x.to(dtype), sample_frequency=float(rate), **kw)
            total = feats.shape[0]
            # Secondary cases keep only their first frames to keep testdata
            # small; the Go test compares that prefix (frames_total checks
            # the count).
            feats = feats[:keep].numpy().astype("<f4")
            out = f"{name}.torch{prec}.f32.gz"
            with gzip.GzipFile(HERE / out, "wb", mtime=0) as f:
                f.write(feats.tobytes())
            entry["file" + prec] = out
        entry.update(frames_total=total, frames=feats.shape[0], dim=feats.shape[1])
        index["cases"].append(entry)
        print(f"{name}: {tuple(feats.shape)} of {total} frames")
    (HERE / "fbank_golden.json").write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    main()
