"""The training loop: contrastive + hard-negative training, validation, checkpoints, resume, multi-process.

Design choices and why:

* **Caches.** Each video's frame features are computed once (normalisation is deterministic,
  no augmentation touches it) and stored as float16; the frozen MiniLM states of every text
  training can ask for are computed once before the first step. A step then only runs the small
  trainable towers.
* **Determinism.** Parameters are initialised from ``seed``; the batch order is a function of
  ``(seed, epoch)``; the choice of paraphrase/hard texts and the dropout masks of step ``s`` are
  seeded from ``(seed, s)``. Nothing depends on history, so a run resumed from a checkpoint
  (weights + AdamW moments + step) continues bit-for-bit like an uninterrupted one, on CPU.
* **Multi-process** (``torchrun``, gloo). Every rank builds the same global batch and the same
  text choices; rank r encodes a contiguous slice of it; embeddings are all-gathered (the local
  slice keeps its autograd graph) and every rank computes the same global loss, as CiCo does
  with its all-gathered batch of 512. Gradients are then all-reduced by hand instead of by the
  ``DistributedDataParallel`` wrapper: tower parameters only receive their own slice's
  contribution on each rank and are *summed*, while the logit scale and the calibration
  threshold already receive the full gradient on every rank and are *averaged*. The result
  equals the one-process gradient up to float summation order.
* **Checkpoints.** ``OUT/checkpoint/last.*`` every ``checkpoint_every`` steps (written
  atomically: an interruption leaves the previous one intact) and ``OUT/model.safetensors`` +
  ``model.json`` at the end, the latter with the training settings and validation figures.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from ..io_utils import atomic_write
from ..similarity import combine, matrix_similarity, paired_similarity
from .data import (Example, all_texts, batch_columns, choose_texts, choose_twins, fidelity_pairs, iterate_steps,
                   meaning_key)
from .kernels import check_mode, pin_cpu_kernels
from .loss import calibration_loss, consistency_loss, contrastive_loss, fidelity_loss, gap_loss, mixed_similarity

#: Logit of a column a row does not have (a row's extra columns beyond its own hard texts).
ABSENT_LOGIT = -1.0e4


@dataclass
class TrainSettings:
    batch_size: int = 64
    steps: int = 1000
    lr: float = 5e-4
    min_lr_fraction: float = 0.02
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    grad_clip: float = 1.0
    paraphrase_prob: float = 0.5
    hard_texts_per_item: int = 2
    calibration_weight: float = 0.5
    calibration_sharpness: float = 10.0
    consistency_weight: float = 0.0
    fidelity_weight: float = 0.0
    fidelity_margin: float = 0.8  # similarity gap of a rendering of fidelity 0 (a correct pair ends near 0.85)
    fidelity_from: float = 0.0  # fraction of the steps after which the fidelity term starts (alignment first)
    # False: degraded renderings (fidelity < 1) enter only the fidelity term, not InfoNCE or the
    # calibration (as positives they ask for invariance to what the degradation destroys)
    degraded_in_contrastive: bool = True
    # True: graded outputs (degraded_target = "quality") only need to fall *at least* the graded
    # gap below their reference (see train.loss.gap_loss)
    graded_one_sided: bool = False
    # > 1: the step's similarity matrix in blocks of videos × texts of similar length, each cut to
    # its own longest members (similarity._matrix_similarity_bucketed; masked softmax only): the
    # same maths with far less padding, equal to the one-block result up to float rounding, so a
    # recipe's weights depend on this setting in their last bits
    similarity_buckets: int = 1
    # True: the towers' token-wise layers (linear maps, layer norms, GELU, dropout) run on the
    # real frames, windows and text tokens only, not on the batch's padding (about half of it;
    # models.pose_encoder.Packing): the same maths up to float rounding, but dropout draws its
    # masks over the real rows, so a recipe's weights depend on this setting
    skip_padding: bool = False
    val_every: int = 500
    checkpoint_every: int = 250
    log_every: int = 50
    threads: int = 0  # 0: leave torch's default
    # which CPU kernels the run computes with (silverscore.train.kernels): "native" repeats its
    # weights on the same machine, "avx512"/"avx2" on every machine with that instruction set
    kernels: str = "native"

    def __post_init__(self):
        check_mode(self.kernels)
        if not isinstance(self.skip_padding, bool):
            raise ValueError(f"skip_padding must be true or false, not {self.skip_padding!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainSettings":
        return settings_from_dict(cls, d, "train")


def settings_from_dict(cls, d: dict, section: str):
    """``cls(**d)`` for a settings dataclass, with unknown keys named as config errors."""
    unknown = sorted(set(d) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"unknown [{section}] setting(s): {', '.join(unknown)}")
    return cls(**d)


def without_degraded_rows(examples: Sequence[Example], *matrices: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The step's [B, B + width] matrices without the rows and own-text columns of degraded
    renderings (fidelity < 1); the extra (hard-negative) columns stay."""
    b = len(examples)
    keep = [i for i, ex in enumerate(examples) if ex.fidelity >= 1.0]
    if len(keep) == b:
        return matrices
    rows = torch.tensor(keep)
    columns = torch.cat([rows, torch.arange(b, matrices[0].shape[1])])
    return tuple(m[rows][:, columns] for m in matrices)


def _graded_term(model, dist: "Dist", features, train_examples: Sequence[Example], graded: list[int],
                 examples: Sequence[Example], t_emb: torch.Tensor, t_valid: torch.Tensor, z_v2t: torch.Tensor,
                 z_t2v: torch.Tensor, lam: torch.Tensor, margin: float, one_sided: bool,
                 skip_padding: bool = False) -> torch.Tensor:
    """Gap loss of the step's graded renderings: each one's mixed similarity with its source
    row's text (paired, one video against one text) against the source's own, which must be
    ``margin × (1 − quality)`` higher. Renderings whose source is not in the batch are skipped."""
    rows = {ex.id: r for r, ex in enumerate(examples)}
    pairs = [(g, rows[train_examples[g].group]) for g in graded if train_examples[g].group in rows]
    if not pairs:
        return z_v2t.new_zeros(())
    mine = pairs[dist.slice(len(pairs))]
    g_emb, g_valid = model.encode_prepared([features[g].astype(np.float32) for g, _ in mine],
                                           skip_padding=skip_padding)
    g_emb, g_valid = dist.gather_rows(g_emb, g_valid)
    source = torch.tensor([r for _, r in pairs])
    x_v2t, x_t2v = paired_similarity(g_emb, g_valid, t_emb[source], t_valid[source], lam, softmax=model.softmax)
    s_ref = mixed_similarity(z_v2t[source, source], z_t2v[source, source], lam)
    quality = torch.tensor([train_examples[g].fidelity for g, _ in pairs])
    return gap_loss(s_ref, mixed_similarity(x_v2t, x_t2v, lam), quality, margin, one_sided)


def lr_factor(step: int, settings: TrainSettings) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_fraction``."""
    warmup = max(1, int(round(settings.warmup_fraction * settings.steps)))
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, settings.steps - warmup))
    return settings.min_lr_fraction + (1 - settings.min_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress))


# ---------------------------------------------------------------------------------------------
# distributed helpers (no-ops in one process)
# ---------------------------------------------------------------------------------------------
class Dist:
    """Rank and world size; a thin shim so one-process training needs no process group."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1:
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group("gloo")
            self.dist = dist

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            self.dist.barrier()

    def max_int(self, value: int) -> int:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.long)
        self.dist.all_reduce(t, op=self.dist.ReduceOp.MAX)
        return int(t.item())

    def gather_rows(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenate every rank's [n_r, L_r, E] rows in rank order; ours keep their graph."""
        if self.world == 1:
            return x, valid
        length = self.max_int(x.shape[1])
        rows = self.max_int(x.shape[0])
        counts = [torch.zeros(1, dtype=torch.long) for _ in range(self.world)]
        self.dist.all_gather(counts, torch.tensor([x.shape[0]], dtype=torch.long))
        padded = x.new_zeros(rows, length, x.shape[2])
        padded[: x.shape[0], : x.shape[1]] = x
        padded_valid = valid.new_zeros(rows, length)  # a mask, or slot weights (which keep their graph)
        padded_valid[: x.shape[0], : x.shape[1]] = valid
        xs = [torch.empty_like(padded) for _ in range(self.world)]
        vs = [torch.empty_like(padded_valid) for _ in range(self.world)]
        self.dist.all_gather(xs, padded.detach())
        self.dist.all_gather(vs, padded_valid.detach())
        xs[self.rank] = padded
        vs[self.rank] = padded_valid
        keep = [int(c.item()) for c in counts]
        return torch.cat([t[:k] for t, k in zip(xs, keep)]), torch.cat([v[:k] for v, k in zip(vs, keep)])

    def reduce_gradients(self, summed: Sequence[torch.nn.Parameter], averaged: Sequence[torch.nn.Parameter]) -> None:
        if self.world == 1:
            return
        for p in summed:
            if p.grad is not None:
                self.dist.all_reduce(p.grad)
        for p in averaged:
            if p.grad is not None:
                self.dist.all_reduce(p.grad)
                p.grad /= self.world

    def slice(self, n: int) -> slice:
        """This rank's contiguous share of ``n`` rows (shares differ by at most one row)."""
        return slice(self.rank * n // self.world, (self.rank + 1) * n // self.world)


# ---------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------
def _save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save

    with atomic_write(path, "wb") as handle:
        handle.write(save({k: v.detach().contiguous().cpu() for k, v in tensors.items()}))


def save_training_state(folder: Path, model, optimizer: torch.optim.Optimizer, extra: torch.nn.Module, state: dict) -> None:
    """Weights, AdamW moments, the calibration threshold and the step, each written atomically;
    the JSON (which names the step) is written last, so a half-saved checkpoint is never used."""
    from ..models.checkpoints import save_own

    folder.mkdir(parents=True, exist_ok=True)
    save_own(model, folder / "last.safetensors")
    opt = optimizer.state_dict()
    tensors = {f"extra.{k}": v for k, v in extra.state_dict().items()}
    for index, entry in opt["state"].items():
        for name, value in entry.items():
            tensors[f"opt.{index}.{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    _save_tensors(folder / "last.train.safetensors", tensors)
    with atomic_write(folder / "last.train.json") as handle:
        json.dump({**state, "param_groups": opt["param_groups"]}, handle, indent=1)


def load_training_state(folder: Path, model, optimizer: torch.optim.Optimizer, extra: torch.nn.Module) -> dict:
    from safetensors.torch import load_file

    from ..models.checkpoints import read_state_dict

    meta = json.loads((folder / "last.train.json").read_text())
    model.load_checkpoint_state(read_state_dict(folder / "last.safetensors"), folder / "last.safetensors")
    tensors = load_file(str(folder / "last.train.safetensors"))
    extra.load_state_dict({k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")})
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta.pop("param_groups")})
    return meta


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model, examples: Sequence[Example], features: Sequence[Any] | None = None, seed: int = 0,
             batch_size: int = 64) -> dict:
    """Validation figures on held-out examples, in the metric's own terms.

    ``r1_v2t``/``r1_t2v``: recall@1 over the whole set (a correct match = any example with the
    same meaning); ``auc_random``/``overlap_random``: spec §5 correct-vs-random; ``auc_hard``:
    correct pairs against each video paired with its hard-negative texts; ``auc_hard_video``:
    correct pairs against rendered variants (examples grouped with another) scored with the
    text of the item they derive from.
    """
    from ..meta.measures import discrimination_stats, roc_auc
    from ..meta.pairs import draw_random_pairs

    was_training = model.training
    model.eval()
    videos = list(features) if features is not None else [model.prepare_video(ex.video) for ex in examples]
    v_parts, vv_parts = [], []
    for s in range(0, len(videos), batch_size):
        e, v = model.encode_prepared(videos[s : s + batch_size])
        v_parts.append(e)
        vv_parts.append(v)
    length = max(p.shape[1] for p in v_parts)
    v_emb = torch.cat([torch.nn.functional.pad(p, (0, 0, 0, length - p.shape[1])) for p in v_parts])
    v_valid = torch.cat([torch.nn.functional.pad(p, (0, length - p.shape[1])) for p in vv_parts])

    def encode(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        emb, valid, _ = model.encode_texts(texts)
        return emb, valid

    texts = [ex.text for ex in examples]
    t_emb, t_valid = encode(texts)
    lam = model.logit_scale_value()
    zv, zt = matrix_similarity(v_emb, v_valid, t_emb, t_valid, lam, softmax=model.softmax)
    scores = combine(zv, zt).numpy()
    keys = [meaning_key(t) for t in texts]
    same = np.array([[a == b for b in keys] for a in keys])
    n = len(examples)
    r1_v2t = float(np.mean(same[np.arange(n), scores.argmax(1)]))
    r1_t2v = float(np.mean(same[scores.argmax(0), np.arange(n)]))
    correct = np.diag(scores)
    pairs = draw_random_pairs(n, seed)
    random = scores[pairs[:, 0], pairs[:, 1]]
    stats = discrimination_stats(correct, random)
    result = {"r1_v2t": r1_v2t, "r1_t2v": r1_t2v, "auc_random": stats["auc"], "overlap_random": stats["overlap"],
              "mean_correct": float(correct.mean()), "logit_scale": float(lam)}
    hard_rows = [(i, t) for i, ex in enumerate(examples) for t in ex.hard_texts]
    if hard_rows:
        rows = [i for i, _ in hard_rows]
        h_emb, h_valid = encode([t for _, t in hard_rows])
        hz = paired_similarity(v_emb[rows], v_valid[rows], h_emb, h_valid, lam, softmax=model.softmax)
        result["auc_hard"] = roc_auc(correct, combine(*hz).numpy())
    index = {ex.id: i for i, ex in enumerate(examples)}
    variants = [(i, index[ex.group]) for i, ex in enumerate(examples) if ex.group and ex.group != ex.id and ex.group in index]
    if variants:
        rows = [i for i, _ in variants]
        sources = [j for _, j in variants]
        vz = paired_similarity(v_emb[rows], v_valid[rows], t_emb[sources], t_valid[sources], lam, softmax=model.softmax)
        originals = [i for i, ex in enumerate(examples) if not ex.group or ex.group == ex.id]
        result["auc_hard_video"] = roc_auc(correct[originals], combine(*vz).numpy())
    model.train(was_training)
    return result


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
class Calibration(torch.nn.Module):
    """The shared threshold of :func:`calibration_loss` (training only; not part of the model)."""

    def __init__(self) -> None:
        super().__init__()
        self.threshold = torch.nn.Parameter(torch.tensor(0.3))


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="training", unit="step", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True)


@contextlib.contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """PyTorch's deterministic kernels for the duration, then the caller's setting again.

    Needed for bit-for-bit runs with more than one thread: two runs of one step with
    ``threads = 2`` gave two different weight files about half the time (forward values equal,
    gradients not); with this, five of five agreed. The likely culprit is the CPU backward of
    advanced indexing (``index_put_`` with accumulation, e.g. a video's rows picked once per hard
    text), which adds from several threads with atomics unless deterministic kernels are asked for.
    """
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn_only)


def train(model, train_examples: Sequence[Example], val_examples: Sequence[Example], settings: TrainSettings,
          out_dir: str | Path, seed: int = 0, resume: bool = False, progress: bool = True,
          run_info: dict | None = None) -> dict:
    """Train ``model`` in place; returns the final validation figures. See the module docstring."""
    with deterministic_algorithms():
        return _train(model, train_examples, val_examples, settings, out_dir, seed, resume, progress, run_info)


def _train(model, train_examples: Sequence[Example], val_examples: Sequence[Example], settings: TrainSettings,
           out_dir: Path | str, seed: int, resume: bool, progress: bool, run_info: dict | None) -> dict:
    out_dir = Path(out_dir)
    dist = Dist()
    if settings.threads:
        torch.set_num_threads(settings.threads)
    kernels = pin_cpu_kernels(settings.kernels)  # a no-op when run_training pinned them already
    if settings.batch_size % dist.world:
        raise ValueError(f"batch_size {settings.batch_size} is not divisible by {dist.world} processes")
    ckpt_dir = out_dir / "checkpoint"
    graded_rows = {i for i, ex in enumerate(train_examples) if ex.meta.get("graded")}
    if settings.degraded_in_contrastive and graded_rows:
        raise ValueError("graded renderings (degraded_target = 'quality') are paired with a reference they do "
                         "not sign; train them with degraded_in_contrastive = False")
    t_start = time.time()

    # caches: pose features once, MiniLM states of every text once
    features = [model.prepare_video(ex.video).astype(np.float16) for ex in train_examples]
    val_features = [model.prepare_video(ex.video) for ex in val_examples]
    if hasattr(model, "backbone"):
        model.backbone.precompute(all_texts(list(train_examples) + list(val_examples)), model.max_text_tokens)
    t_cache = time.time() - t_start

    calibration = Calibration()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or name.endswith("positional") else decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": settings.weight_decay},
         {"params": no_decay + list(calibration.parameters()), "weight_decay": 0.0}],
        lr=settings.lr, betas=(0.9, 0.98), eps=1e-6,
    )
    full_grad_params = [model.logit_scale, *calibration.parameters()]
    slice_params = [p for p in model.parameters() if p.requires_grad and p is not model.logit_scale]

    history: list[dict] = []
    start_step = 0
    if resume and (ckpt_dir / "last.train.json").is_file():
        meta = load_training_state(ckpt_dir, model, optimizer, calibration)
        start_step = int(meta["step"])
        history = meta.get("history", [])
    model.train()
    loss_sum, loss_n = 0.0, 0
    bar = _progress(settings.steps, start_step, progress and dist.main)
    last_val: dict = {}
    for step, epoch, batch in iterate_steps(train_examples, settings.batch_size, seed, start_step, settings.steps):
        for group in optimizer.param_groups:
            group["lr"] = settings.lr * lr_factor(step, settings)
        torch.manual_seed(seed * 1_000_003 + step)
        rng = np.random.default_rng([seed, step, 1])
        # graded renderings (degraded_target = "quality") only enter the gap term, against their
        # source's text: they take no row or column of the batch's similarity matrix
        graded = [i for i in batch if i in graded_rows]
        if graded:
            batch = [i for i in batch if i not in graded_rows]
        local = dist.slice(len(batch))
        examples = [train_examples[i] for i in batch]
        chosen, extra = choose_texts(examples, rng, settings.paraphrase_prob, settings.hard_texts_per_item)
        twin_rows: list[int] = []
        if settings.consistency_weight:
            # the twins ride along as extra columns (positives of their own row) after the hard texts
            twins = choose_twins(examples, chosen, rng)
            twin_rows = [i for i, t in enumerate(twins) if t is not None]
            extra = [per + ([twins[i]] if twins[i] is not None else []) for i, per in enumerate(extra)]
        flat_extra = [t for per in extra for t in per]
        b = len(examples)
        columns = batch_columns(examples, chosen, extra, twin_rows)
        positive, hard, valid = (torch.from_numpy(m) for m in (columns.positive, columns.hard, columns.valid))
        twin_columns = columns.twin_columns

        v_emb, v_valid = model.encode_prepared([features[i].astype(np.float32) for i in batch[local]],
                                               skip_padding=settings.skip_padding)
        local_texts = chosen[local]
        local_extra = [t for per in extra[local] for t in per]
        t_emb, t_valid = model.encode_states([s for s, _ in model.text_states(local_texts)],
                                             skip_padding=settings.skip_padding)
        v_emb, v_valid = dist.gather_rows(v_emb, v_valid)
        t_emb, t_valid = dist.gather_rows(t_emb, t_valid)
        lam = model.logit_scale_value()
        z_v2t, z_t2v = matrix_similarity(v_emb, v_valid, t_emb, t_valid, lam, softmax=model.softmax, fused=True,
                                         buckets=settings.similarity_buckets)
        if flat_extra:
            h_emb, h_valid = (model.encode_states([s for s, _ in model.text_states(local_extra)],
                                                  skip_padding=settings.skip_padding)
                              if local_extra else (t_emb.new_zeros(0, 1, t_emb.shape[2]), t_valid.new_zeros(0, 1)))
            h_emb, h_valid = dist.gather_rows(h_emb, h_valid)
            rows_x = torch.tensor(columns.extra_rows)
            x_v2t, x_t2v = paired_similarity(v_emb[rows_x], v_valid[rows_x], h_emb, h_valid, lam, softmax=model.softmax)
            index = (rows_x, torch.tensor(columns.extra_slots))
            # absent columns get a finite, hopeless logit (no -inf: nothing can turn into NaN)
            pad = z_v2t.new_full((b, columns.width), ABSENT_LOGIT)
            z_v2t = torch.cat([z_v2t, pad.index_put(index, x_v2t)], dim=1)
            z_t2v = torch.cat([z_t2v, pad.index_put(index, x_t2v)], dim=1)
        zc_v2t, zc_t2v, c_positive, c_hard, c_valid = z_v2t, z_t2v, positive, hard, valid
        if not settings.degraded_in_contrastive:
            zc_v2t, zc_t2v, c_positive, c_hard, c_valid = without_degraded_rows(
                examples, z_v2t, z_t2v, positive, hard, valid)
        loss = contrastive_loss(zc_v2t, zc_t2v, c_positive)
        if settings.calibration_weight:
            loss = loss + settings.calibration_weight * calibration_loss(
                zc_v2t, zc_t2v, c_positive, c_hard, lam, calibration.threshold, settings.calibration_sharpness,
                valid=c_valid)
        if settings.consistency_weight and twin_columns:
            rows_t = torch.tensor(sorted(twin_columns))
            loss = loss + settings.consistency_weight * consistency_loss(
                z_v2t, z_t2v, lam, rows_t, rows_t, torch.tensor([twin_columns[i] for i in sorted(twin_columns)]))
        gap_terms_on = bool(settings.fidelity_weight) and step >= settings.fidelity_from * settings.steps
        if gap_terms_on:
            degraded, clean, fid = fidelity_pairs(examples)
            if degraded:
                loss = loss + settings.fidelity_weight * fidelity_loss(
                    z_v2t, z_t2v, lam, torch.tensor(degraded), torch.tensor(clean), torch.tensor(fid),
                    settings.fidelity_margin)
        if graded and gap_terms_on:
            loss = loss + settings.fidelity_weight * _graded_term(
                model, dist, features, train_examples, graded, examples, t_emb, t_valid, z_v2t, z_t2v, lam,
                settings.fidelity_margin, settings.graded_one_sided, settings.skip_padding)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        dist.reduce_gradients(slice_params, full_grad_params)
        torch.nn.utils.clip_grad_norm_(list(model.parameters()) + list(calibration.parameters()), settings.grad_clip)
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(max=math.log(100.0))
        loss_sum += float(loss.detach())
        loss_n += 1
        bar.update(1)
        done = step + 1
        if done % settings.log_every == 0 or done == settings.steps:
            bar.set_postfix(loss=f"{loss_sum / loss_n:.3f}", lam=f"{float(lam.detach()):.1f}", epoch=epoch)
            history.append({"step": done, "loss": loss_sum / loss_n, "lr": optimizer.param_groups[0]["lr"]})
            loss_sum, loss_n = 0.0, 0
        if val_examples and (done % settings.val_every == 0 or done == settings.steps):
            if dist.main:
                last_val = evaluate(model, val_examples, val_features, seed=seed)
                history.append({"step": done, "val": last_val})
                bar.write(f"step {done}: " + ", ".join(f"{k} {v:.4f}" for k, v in last_val.items()), file=sys.stderr)
            dist.barrier()
        if done % settings.checkpoint_every == 0 or done == settings.steps:
            if dist.main:
                save_training_state(ckpt_dir, model, optimizer, calibration, {"step": done, "history": history, "seed": seed})
            dist.barrier()
    bar.close()
    if dist.main:
        from ..models.checkpoints import save_own

        if not last_val and val_examples:
            last_val = evaluate(model, val_examples, val_features, seed=seed)
        model.annotate(
            training={"seed": seed, "settings": asdict(settings), "train_examples": len(train_examples),
                      "val_examples": len(val_examples), "processes": dist.world, "kernels": kernels, **(run_info or {})},
            validation=last_val,
        )
        save_own(model, out_dir / "model.safetensors")
        timing = {"cache_seconds": round(t_cache, 1), "total_seconds": round(time.time() - t_start, 1)}
        with atomic_write(out_dir / "history.json") as handle:
            json.dump({"history": history, "validation": last_val, "timing": timing}, handle, indent=1)
    dist.barrier()
    return last_val
