"""Synthesised telephone speech: espeak-ng voices through a simulated phone
line (sox), written as 16-bit mono 8 kHz WAVs with a manifest.jsonl per split.

Hold-outs, so the test sets measure generalisation rather than memory:
- voices: TEST_VARIANTS (about 20% of the espeak-ng variants) speak only in
  test, intent_test and digits_test; TRAIN_VARIANTS only in train and dev;
- noise: brown noise, SNRs below 10 dB and strong reverberation occur only in
  the test split (conditions `brown`, `low_snr`, `strong_reverb`); train sees
  `clean`, `white`, `pink` and `babble` at 10-30 dB with mild reverberation;
- sentences: test and intent_test come from generator templates train never
  sees (texts.build).
"""

from __future__ import annotations

import json
import multiprocessing
import random
import subprocess
import wave
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from switchboard_training.asr.texts import TextSets, Utterance

SAMPLE_RATE = 8000
# espeak-ng voice variants (`espeak-ng --voices=variant`), chosen for
# human-sounding voices (whisper, "Demonic" and robot voices left out).
TRAIN_VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m5", "m6", "m7", "m8", "f1", "f2", "f4", "f5", "klatt", "klatt2", "klatt4", "klatt5",
    "klatt6", "adam", "Alex", "Alicia", "Andy", "Annie", "antonio", "aunty", "belinda", "boris", "caleb",
    "david", "Denis", "ed", "edward", "Gene", "Henrique", "Hugo", "iven", "iven3", "Jacky", "john", "Lee",
    "marcelo", "Mario", "max", "Michael", "michel", "Mike", "Nguyen", "pablo", "pedro", "quincy", "robert",
    "steph", "steph2", "Storm", "zac", "anika", "grandpa", "norbert", "sandro", "travis",
)
# Never used for train or dev: the test sets' voices (about 20%).
TEST_VARIANTS: tuple[str, ...] = (
    "m4", "f3", "klatt3", "Andrea", "benjamin", "Diogo", "gustave", "iven2", "linda", "Marco", "miguel",
    "paul", "rob", "shelby", "victor", "grandma",
)
TRAIN_CONDITIONS: tuple[str, ...] = ("clean", "white", "pink", "babble")
TEST_CONDITIONS: tuple[str, ...] = ("clean", "brown", "low_snr", "strong_reverb")
# Splits and the voices/conditions they are drawn from.
SPLIT_VOICES = {"train": TRAIN_VARIANTS, "dev": TRAIN_VARIANTS, "test": TEST_VARIANTS,
                "intent_test": TEST_VARIANTS, "digits_test": TEST_VARIANTS}
SPLIT_CONDITIONS = {"train": TRAIN_CONDITIONS, "dev": TRAIN_CONDITIONS, "test": TEST_CONDITIONS,
                    "intent_test": TRAIN_CONDITIONS, "digits_test": TRAIN_CONDITIONS}


class SynthError(RuntimeError):
    """SynthError is a failed espeak-ng or sox run."""


@dataclass
class Job:
    """Job is one utterance to synthesise, with every random choice made up front
    (in the parent, seeded), so the output does not depend on worker scheduling."""

    split: str
    utt_id: str
    out: str
    utt: Utterance
    voice: str  # espeak-ng voice+variant, e.g. cmn+m3
    rate: int
    pitch: int
    speed: float
    reverb: tuple[float, float, float, float] | None  # reverberance, room scale, pre-delay ms, wet gain dB
    condition: str
    noise: str  # none | white | pink | brown | babble
    snr_db: float | None
    peak_dbfs: float
    pad_s: tuple[float, float]
    babble: list[tuple[str, str]] = field(default_factory=list)  # (voice, text) of the crowd
    seed: int = 0


def _run(cmd: Sequence[str], data: bytes | None = None) -> bytes:
    try:
        p = subprocess.run(cmd, input=data, capture_output=True, check=False)
    except FileNotFoundError:
        raise SynthError(f"{cmd[0]} not found: install espeak-ng and sox (apt-get install espeak-ng sox)") from None
    if p.returncode != 0:
        raise SynthError(f"{' '.join(cmd[:6])} ...: exit {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def speak(voice: str, text: str, rate: int, pitch: int, speed: float = 1.0,
          reverb: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """speak returns espeak-ng's reading of text at 8 kHz as float32 in [-1, 1],
    speed-perturbed (tempo and pitch, like sox `speed`) and optionally reverberated."""
    wav = _run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", text])
    effects = ["speed", f"{speed:.3f}"]
    if reverb is not None:
        rev, room, pre, wet = reverb
        effects += ["reverb", f"{rev:.0f}", "50", f"{room:.0f}", "100", f"{pre:.0f}", f"{wet:.1f}"]
    raw = _run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1",
                "-r", str(SAMPLE_RATE), "-", *effects, "rate", str(SAMPLE_RATE)], wav)
    x = np.frombuffer(raw, dtype=np.float32).copy()
    if x.size < SAMPLE_RATE // 10:
        raise SynthError(f"espeak-ng {voice} produced {x.size} samples for {text!r}")
    return x


def colored_noise(n: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """colored_noise is n samples of unit-power white, pink (1/f) or brown (1/f^2) noise."""
    w = rng.standard_normal(n)
    if color != "white":
        spec = np.fft.rfft(w)
        f = np.arange(spec.size, dtype=np.float64)
        f[0] = 1.0
        spec /= f ** (0.5 if color == "pink" else 1.0)
        w = np.fft.irfft(spec, n)
    return (w / (np.sqrt(np.mean(w**2)) + 1e-12)).astype(np.float32)


def telephone(x: np.ndarray) -> np.ndarray:
    """telephone passes 8 kHz float audio through a phone line with sox: band
    limited to 300-3400 Hz and µ-law encoded and decoded (G.711), returned as int16."""
    ulaw = _run(["sox", "-q", "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", str(SAMPLE_RATE), "-",
                 "-t", "raw", "-e", "mu-law", "-b", "8", "-", "sinc", "300-3400"], x.astype(np.float32).tobytes())
    pcm = _run(["sox", "-q", "-t", "raw", "-e", "mu-law", "-b", "8", "-c", "1", "-r", str(SAMPLE_RATE), "-",
                "-t", "raw", "-e", "signed", "-b", "16", "-"], ulaw)
    return np.frombuffer(pcm, dtype=np.int16)


def write_wav(path: Path, pcm: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """write_wav writes 16-bit mono PCM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


def render(job: Job) -> dict[str, object]:
    """render synthesises one job into its WAV and returns its manifest row."""
    rng = np.random.default_rng(job.seed)
    speech = speak(job.voice, job.utt.text, job.rate, job.pitch, job.speed, job.reverb)
    speech /= np.sqrt(np.mean(speech**2)) + 1e-9  # unit speech power: SNR is then the noise level
    pad = [int(s * SAMPLE_RATE) for s in job.pad_s]
    x = np.concatenate([np.zeros(pad[0], np.float32), speech, np.zeros(pad[1], np.float32)])
    if job.noise != "none" and job.snr_db is not None:
        if job.noise == "babble":
            noise = np.zeros_like(x)
            for voice, text in job.babble:
                b = speak(voice, text, 175, 50)
                b /= np.sqrt(np.mean(b**2)) + 1e-9
                b = np.tile(b, int(np.ceil(x.size / b.size)) + 1)
                off = int(rng.integers(0, b.size - x.size + 1))
                noise += b[off : off + x.size]
            noise /= np.sqrt(np.mean(noise**2)) + 1e-9
        else:
            noise = colored_noise(x.size, job.noise, rng)
        x = x + noise * np.float32(10 ** (-job.snr_db / 20))
    x *= np.float32(10 ** (job.peak_dbfs / 20) / (np.abs(x).max() + 1e-9))
    pcm = telephone(np.clip(x, -1.0, 1.0))
    write_wav(Path(job.out), pcm)
    u = job.utt
    return {
        "id": job.utt_id, "audio": job.out, "text": u.text, "lang": u.lang,
        "kind": u.kind, "voice": job.voice,
        # `noise` is the condition (what results are grouped by, here and in
        # `switchboard asr-eval`); `noise_type` is the noise actually mixed in.
        "noise": job.condition, "condition": job.condition, "noise_type": job.noise,
        "snr_db": None if job.snr_db is None else round(job.snr_db, 1), "reverb": job.reverb is not None,
        "intent": u.intent, "digits": u.digits, "duration": round(pcm.size / SAMPLE_RATE, 3),
    }


def _voice_for(lang: str, variant: str, rng: random.Random) -> str:
    if lang == "en":
        # Some English from the Mandarin voice: Chinese callers speaking English.
        base = rng.choices(("en-us", "en", "cmn"), weights=(0.5, 0.35, 0.15))[0]
    else:
        base = "cmn"  # reads Latin-script words in mixed texts as English
    return f"{base}+{variant}"


def plan(split: str, utts: Sequence[Utterance], root: Path, seed: int,
         babble_texts: Sequence[Utterance]) -> list[Job]:
    """plan draws voice, prosody, channel and noise for every utterance of a split."""
    rng = random.Random(f"asr-synth/{seed}/{split}")
    variants = SPLIT_VOICES[split]
    conditions = SPLIT_CONDITIONS[split]
    jobs = []
    for i, u in enumerate(utts):
        variant = rng.choice(variants)
        cond = rng.choice(conditions)
        reverb = None
        noise, snr = "none", None
        if cond == "strong_reverb":
            reverb = (rng.uniform(75, 100), rng.uniform(80, 100), rng.uniform(10, 40), rng.uniform(0, 3))
            noise, snr = "pink", rng.uniform(15, 30)
        elif rng.random() < 0.35:
            reverb = (rng.uniform(10, 50), rng.uniform(10, 60), rng.uniform(0, 20), rng.uniform(-6, 0))
        if cond in ("white", "pink"):
            noise, snr = cond, rng.uniform(10, 30)
        elif cond == "babble":
            noise, snr = "babble", rng.uniform(12, 28)
        elif cond == "brown":
            noise, snr = "brown", rng.uniform(5, 20)
        elif cond == "low_snr":
            noise, snr = rng.choice(("white", "pink", "babble")), rng.uniform(0, 8)
        babble = []
        if noise == "babble":
            for _ in range(rng.randint(3, 5)):
                b = rng.choice(babble_texts)
                babble.append((_voice_for(b.lang, rng.choice(variants), rng), b.text))
        uid = f"{split}-{i:06d}"
        jobs.append(Job(
            split=split, utt_id=uid, out=str(root / split / "wav" / f"{uid}.wav"), utt=u,
            voice=_voice_for(u.lang, variant, rng), rate=rng.randint(120, 210), pitch=rng.randint(25, 75),
            speed=rng.uniform(0.9, 1.1), reverb=reverb, condition=cond, noise=noise, snr_db=snr,
            peak_dbfs=rng.uniform(-20, -1), pad_s=(rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)), babble=babble,
            seed=rng.randrange(2**31),
        ))
    return jobs


def _render_safe(job: Job) -> dict[str, object] | str:
    try:
        return render(job)
    except SynthError as e:
        return f"{job.utt_id}: {e}"


def synthesize(sets: TextSets, root: Path, seed: int = 13, workers: int = 2, progress: bool = True,
               log=None) -> dict[str, int]:
    """synthesize renders every split into root/<split>/wav/ and writes
    root/<split>/manifest.jsonl (audio paths relative to root's parent
    directory as given); returns utterances per split. Failed utterances
    (an espeak-ng voice that cannot read a text) are skipped and counted."""
    root.mkdir(parents=True, exist_ok=True)
    counts = {}
    babble_texts = sets.train
    for split, utts in sets.splits().items():
        jobs = plan(split, utts, root, seed, babble_texts)
        rows, failed = [], []
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            it: Iterator = pool.imap(_render_safe, jobs, chunksize=8)
            for r in tqdm(it, total=len(jobs), desc=f"synth {split}", disable=not progress, mininterval=5):
                (failed.append(r) if isinstance(r, str) else rows.append(r))
        if failed and log is not None:
            log.warning("synth %s: %d utterances failed, e.g. %s", split, len(failed), failed[0])
        if len(failed) > max(5, len(jobs) // 100):
            raise SynthError(f"synth {split}: {len(failed)} of {len(jobs)} utterances failed, e.g. {failed[0]}")
        with open(root / split / "manifest.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                r["audio"] = str(Path(r["audio"]).relative_to(root / split))
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        counts[split] = len(rows)
    return counts


def job_dict(job: Job) -> dict[str, object]:
    """job_dict is a job as JSON-able data (for logs and tests)."""
    return asdict(job)
