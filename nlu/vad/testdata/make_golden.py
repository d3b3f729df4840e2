"""Writes golden.json: Silero VAD speech probabilities, window by window, as
the silero-vad wheel's OnnxWrapper computes them, for nlu/vad's parity test.

Each case is a committed clip padded with 1.0 s of digital silence before and
1.5 s after (as the Go test builds it), at 8 kHz, and the Chinese clip also
upsampled to 16 kHz by the test's linear interpolation. The last partial
window is zero-padded, like OnnxWrapper.audio_forward and Stream.Flush.

    .venv/bin/python nlu/vad/testdata/make_golden.py models/vad/silero-v6.2.3/model.onnx
"""

import json
import sys
import wave
from pathlib import Path

import numpy as np
import onnxruntime

HERE = Path(__file__).parent


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 8000
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / np.float32(32768)


def upsample2(x: np.ndarray) -> np.ndarray:
    # Same as the Go test: even samples copy, odd samples average neighbours.
    y = np.empty(2 * len(x), dtype=np.float32)
    y[0::2] = x
    nxt = np.append(x[1:], x[-1])
    y[1::2] = (x + nxt) * np.float32(0.5)
    return y


def probs(sess: onnxruntime.InferenceSession, x: np.ndarray, sr: int) -> list[float]:
    # OnnxWrapper.__call__, one window at a time, batch 1.
    window, context = (256, 32) if sr == 8000 else (512, 64)
    if len(x) % window:
        x = np.pad(x, (0, window - len(x) % window))
    state = np.zeros((2, 1, 128), dtype=np.float32)
    ctx = np.zeros((1, context), dtype=np.float32)
    out = []
    for i in range(0, len(x), window):
        inp = np.concatenate([ctx, x[None, i : i + window]], axis=1)
        p, state = sess.run(None, {"input": inp, "state": state, "sr": np.array(sr, dtype=np.int64)})
        ctx = inp[:, -context:]
        out.append(round(float(p[0, 0]), 6))
    return out


def main() -> None:
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = onnxruntime.InferenceSession(sys.argv[1], sess_options=opts, providers=["CPUExecutionProvider"])
    cases = []
    for clip in ["speech_zh_8k.wav", "speech_en_8k.wav"]:
        x = read_wav(HERE / clip)
        padded = np.concatenate([np.zeros(8000, np.float32), x, np.zeros(12000, np.float32)])
        cases.append({"clip": clip, "sample_rate": 8000, "probs": probs(sess, padded, 8000)})
        if clip == "speech_zh_8k.wav":
            cases.append({"clip": clip, "sample_rate": 16000, "probs": probs(sess, upsample2(padded), 16000)})
    (HERE / "golden.json").write_text(json.dumps({"lead_s": 1.0, "trail_s": 1.5, "cases": cases}) + "\n")


if __name__ == "__main__":
    main()
