"""Training the CTC model on precomputed features, within a time budget.

The learning-rate schedule runs on the budget, not on a step count: a linear
warm-up over the first `warmup` share, then cosine decay reaching its end
when either the epochs or the minutes run out, whichever comes first. So a
`--max-minutes` run ends annealed instead of being cut off at a high rate;
the price is that the number of steps (and so the exact weights) depends on
the machine's speed.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from switchboard_training.asr.features import FeatureStore
from switchboard_training.asr.metrics import chars, error_rate
from switchboard_training.asr.model import CTCModel, ModelConfig, Tokens, count_params, greedy


@dataclass
class TrainConfig:
    """TrainConfig holds the optimisation settings (recorded in card.json)."""

    max_minutes: float = 55.0
    epochs: int = 100
    lr: float = 2e-3
    weight_decay: float = 1e-3
    warmup: float = 0.06
    batch_frames: int = 10000  # input frames per batch (100 s of audio): more updates beat bigger batches here
    augment_after: float = 0.1  # SpecAugment starts after this share of the budget (the CTC plateau first)
    max_batch: int = 96
    freq_masks: int = 2
    freq_width: int = 12
    time_masks: int = 2
    time_width: int = 30
    time_fraction: float = 0.08  # at most this share of an utterance masked per time mask
    seed: int = 13
    threads: int = 2
    eval_every: int = 0  # steps between dev evaluations; 0 = twice per epoch
    grad_clip: float = 5.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Encoded:
    """Encoded is a feature store with its transcripts as token ids."""

    store: FeatureStore
    targets: list[list[int]]
    dropped: int = 0


def encode_store(store: FeatureStore, tokens: Tokens) -> Encoded:
    """encode_store tokenises every transcript of store (characters outside the vocabulary are dropped and counted)."""
    targets, dropped = [], 0
    for r in store.rows:
        ids, d = tokens.encode(r["text"])
        targets.append(ids)
        dropped += d
    return Encoded(store, targets, dropped)


def feature_stats(stores: list[FeatureStore], max_frames: int = 2_000_000) -> tuple[torch.Tensor, torch.Tensor]:
    """feature_stats is the per-bin mean and standard deviation of (up to max_frames, evenly spread) training frames."""
    frames = np.concatenate([np.asarray(s.frames[:: max(1, s.frames.shape[0] // max_frames)], np.float64)
                             for s in stores])
    return torch.from_numpy(frames.mean(0)).float(), torch.from_numpy(frames.std(0)).float()


def batches(lengths: np.ndarray, batch_frames: int, max_batch: int, rng: random.Random,
            shortest_first: bool = False) -> list[list[int]]:
    """batches groups utterances of similar length (sorted by length with a
    little jitter, so batches differ between epochs) into batches of at most
    batch_frames padded frames, in random order (or shortest first)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i] * rng.uniform(0.9, 1.1))
    out, cur, longest = [], [], 0
    for i in order:
        longest2 = max(longest, int(lengths[i]))
        if cur and (longest2 * (len(cur) + 1) > batch_frames or len(cur) >= max_batch):
            out.append(cur)
            cur, longest2 = [], int(lengths[i])
        cur.append(i)
        longest = longest2
    if cur:
        out.append(cur)
    if not shortest_first:
        rng.shuffle(out)
    return out


def collate(enc: Encoded, idx: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """collate pads one batch: (x [N,T,80], x_lens, targets concatenated, target lengths)."""
    feats = [enc.store.get(i) for i in idx]
    t = max(f.shape[0] for f in feats)
    x = np.zeros((len(idx), t, feats[0].shape[1]), np.float32)
    for j, f in enumerate(feats):
        x[j, : f.shape[0]] = f
    tg = [enc.targets[i] for i in idx]
    return (torch.from_numpy(x), torch.tensor([f.shape[0] for f in feats], dtype=torch.int64),
            torch.tensor([t for ts in tg for t in ts], dtype=torch.int64),
            torch.tensor([len(ts) for ts in tg], dtype=torch.int64))


def spec_augment(x: torch.Tensor, x_lens: torch.Tensor, fill: torch.Tensor, cfg: TrainConfig,
                 gen: torch.Generator) -> torch.Tensor:
    """spec_augment masks random mel bands and time spans (filled with the
    feature mean, which the model normalises to zero)."""
    x = x.clone()
    n, _, f = x.shape
    for j in range(n):
        length = int(x_lens[j])
        for _ in range(cfg.freq_masks):
            w = int(torch.randint(0, cfg.freq_width + 1, (1,), generator=gen))
            s = int(torch.randint(0, f - w + 1, (1,), generator=gen))
            x[j, :length, s : s + w] = fill[s : s + w]
        for _ in range(cfg.time_masks):
            w = int(torch.randint(0, min(cfg.time_width, int(length * cfg.time_fraction)) + 1, (1,), generator=gen))
            s = int(torch.randint(0, max(1, length - w), (1,), generator=gen))
            x[j, s : s + w] = fill
    return x


def dev_cer(model: CTCModel, enc: Encoded, tokens: Tokens, batch_frames: int = 40000) -> float:
    """dev_cer is the greedy-decoding character error rate (spaces ignored) on enc."""
    model.eval()
    pairs = []
    with torch.no_grad():
        for idx in batches(enc.store.lengths(), batch_frames, 128, random.Random(0)):
            x, xl, _, _ = collate(enc, idx)
            lp, ll = model(x, xl)
            for j, i in enumerate(idx):
                hyp = tokens.decode(greedy(lp[j], int(ll[j])))
                pairs.append((chars(enc.store.rows[i]["text"]), chars(hyp)))
    model.train()
    return error_rate(pairs)["rate"]


def _lr_factor(progress: float, warmup: float) -> float:
    if progress < warmup:
        return max(progress / warmup, 0.01)
    p = min(1.0, (progress - warmup) / max(1e-9, 1.0 - warmup))
    return 0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * p))


@dataclass
class TrainResult:
    """TrainResult is the best model (by dev CER) and how training went."""

    model: CTCModel
    tokens: Tokens
    best_dev_cer: float
    best_step: int
    steps: int
    epochs: float
    minutes: float
    audio_hours_seen: float
    history: list[dict] = field(default_factory=list)


def fit(train: Encoded, dev: Encoded, tokens: Tokens, mcfg: ModelConfig, cfg: TrainConfig, log: logging.Logger,
        init: dict | None = None, progress: bool = True) -> TrainResult:
    """fit trains until cfg.epochs or cfg.max_minutes, evaluating greedy CER
    on dev regularly and returning the best model seen."""
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    rng = random.Random(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    if init is not None:
        model = CTCModel(len(tokens), mcfg)
        model.load_state_dict({k: v.float() for k, v in init["state_dict"].items()})
    else:
        mean, std = feature_stats([train.store])
        model = CTCModel(len(tokens), mcfg, mean, std)
    log.info("model: %d parameters, vocabulary %d, %d training utterances (%.1f h), %d dev",
             count_params(model), len(tokens), len(train.store), train.store.lengths().sum() / 360000, len(dev.store))
    if train.dropped:
        log.warning("%d transcript characters are not in the vocabulary and were dropped", train.dropped)
    # Utterances whose targets cannot fit the output frames (CTC needs a
    # blank between repeats) would only give zero_infinity losses.
    out_len = (train.store.lengths() + 3) // 4
    keep = [i for i, t in enumerate(train.targets)
            if t and len(t) + sum(a == b for a, b in zip(t, t[1:])) <= out_len[i]]
    if len(keep) < len(train.targets):
        log.warning("%d training utterances are too fast for 4x subsampling (or empty) and are skipped",
                    len(train.targets) - len(keep))
    lengths = train.store.lengths()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    fill = model.mean.clone()
    budget = cfg.max_minutes * 60
    start = time.monotonic()
    steps_per_epoch = len(batches(lengths[keep], cfg.batch_frames, cfg.max_batch, random.Random(0)))
    total_steps = steps_per_epoch * cfg.epochs
    eval_every = cfg.eval_every or max(1, steps_per_epoch // 2)
    best = (float("inf"), 0, None)
    history: list[dict] = []
    step, seen_frames, done = 0, 0, False
    win_loss, win_frames, win_t = 0.0, 0, time.monotonic()
    bar = tqdm(total=None, desc="train", disable=not progress, mininterval=10, unit="step")
    model.train()
    epoch = 0
    while not done:
        # The first epoch goes from short to long utterances (SortaGrad): CTC
        # leaves its all-blank plateau much sooner on short ones.
        for b in batches(lengths[keep], cfg.batch_frames, cfg.max_batch, rng, shortest_first=epoch == 0 and init is None):
            idx = [keep[i] for i in b]
            progress_frac = max(step / total_steps, (time.monotonic() - start) / budget)
            if progress_frac >= 1.0:
                done = True
                break
            for g in opt.param_groups:
                g["lr"] = cfg.lr * _lr_factor(progress_frac, cfg.warmup)
            x, xl, y, yl = collate(train, idx)
            if progress_frac >= cfg.augment_after or init is not None:
                x = spec_augment(x, xl, fill, cfg, gen)
            lp, ll = model(x, xl)
            loss = ctc(lp.transpose(0, 1), y, ll, yl)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step += 1
            frames = int(xl.sum())
            seen_frames += frames
            win_loss += loss.item()
            win_frames += frames
            bar.update(1)
            if step % 50 == 0:
                dt = time.monotonic() - win_t
                log.info("step %d epoch %.2f loss %.3f (mean of 50) lr %.2e | %.0f s audio/s | %.1f min",
                         step, step / steps_per_epoch, win_loss / 50,
                         opt.param_groups[0]["lr"], win_frames / 100 / max(dt, 1e-9), (time.monotonic() - start) / 60)
                win_loss, win_frames, win_t = 0.0, 0, time.monotonic()
            if step % eval_every == 0:
                cer = dev_cer(model, dev, tokens)
                history.append({"step": step, "epoch": round(step / steps_per_epoch, 2), "dev_cer": round(cer, 4),
                                "loss": round(loss.item(), 4), "minutes": round((time.monotonic() - start) / 60, 1)})
                log.info("dev CER %.4f at step %d (best %.4f)", cer, step, min(cer, best[0]))
                if cer < best[0]:
                    best = (cer, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
        epoch += 1
        if epoch >= cfg.epochs:
            done = True
    bar.close()
    cer = dev_cer(model, dev, tokens)
    history.append({"step": step, "epoch": round(step / steps_per_epoch, 2), "dev_cer": round(cer, 4),
                    "minutes": round((time.monotonic() - start) / 60, 1)})
    log.info("final dev CER %.4f at step %d", cer, step)
    if cer <= best[0] or best[2] is None:
        best = (cer, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best[2])
    model.eval()
    return TrainResult(model=model, tokens=tokens, best_dev_cer=best[0], best_step=best[1], steps=step,
                       epochs=round(step / steps_per_epoch, 2), minutes=round((time.monotonic() - start) / 60, 1),
                       audio_hours_seen=round(seen_frames / 360000, 2), history=history)


def save_checkpoint(path: Path, res: TrainResult, mcfg: ModelConfig, cfg: TrainConfig, extra: dict) -> None:
    """save_checkpoint writes the weights (float16: half the size, and enough
    to fine-tune from), tokens and configs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "state_dict": {k: (v.half() if v.is_floating_point() else v) for k, v in res.model.state_dict().items()},
        "tokens": list(res.tokens.symbols), "model_config": mcfg.to_dict(), "train_config": cfg.to_dict(),
        "result": {k: getattr(res, k) for k in ("best_dev_cer", "best_step", "steps", "epochs", "minutes",
                                                 "audio_hours_seen", "history")},
        **extra,
    }, path)


def load_checkpoint(path: Path) -> tuple[CTCModel, Tokens, dict]:
    """load_checkpoint rebuilds the model of a checkpoint (float32, eval mode)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    ck = torch.load(path, map_location="cpu", weights_only=False)
    mc = dict(ck["model_config"])
    mc["kernels"] = tuple(mc["kernels"])
    tokens = Tokens(tuple(ck["tokens"]))
    model = CTCModel(len(tokens), ModelConfig(**mc))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck["state_dict"].items()})
    model.eval()
    return model, tokens, ck
