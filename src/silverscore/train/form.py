"""Second training stage: the form head (:mod:`silverscore.models.form_head`) on frozen towers.

Why a stage of its own: the towers' similarity is trained for meaning; a head trained afterwards,
with the towers frozen, can grade rendering defects and sign order without taking anything from
what the towers learnt (the towers' weights come out of this stage bit for bit unchanged).

Data: synthetic sentences of the training split, each rendered clean, as ``form_variants``
outputs with a form defect and as ``meaning_variants`` outputs with a meaning error, as simulated
generation systems make them (:func:`silverscore.train.synthetic._degraded_variants` with the
``quality`` target: kind and strength drawn per output, with the output's true quality ``q``).
Target of the head's factor ``F`` for each video:

* clean signing, and outputs whose errors are in meaning only (substitution, deletion,
  insertion, wrong direction, dropped negation): ``F = 1``; the similarity already sees them;
* outputs with a *form* defect (:data:`FORM_KINDS`: keypoint noise, uneven speed, frozen frames,
  scrambled sign order) and of the meaning kinds named in ``also_graded``:
  ``F = min(1, g(q) / r)``, where ``r`` is the similarity score of the output against its
  reference over the clean rendering's and ``g(q) = 1 − b (1 − q)``, with ``b`` the towers' own
  exchange rate between lost quality and lost score on the other meaning errors
  (:func:`exchange_rate`; or ``exchange_rate`` given; ``b = 1`` is "in proportion to quality"):
  so that ``F × score`` falls with the true quality on the scale the meaning errors already
  have, however much the similarity already fell.

Loss: binary cross-entropy of ``σ(logit)`` against those soft targets; AdamW, warm-up + cosine.
Deterministic for a seed: the batch order and dropout masks are functions of ``(seed, step)``.
With ``calibrate``, two numbers fitted on the dev outputs afterwards map ``σ(logit)`` to the
factor a score uses (:func:`fit_calibration`, :meth:`FormHead.factor`).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .trainer import deterministic_algorithms, lr_factor, settings_from_dict

#: Sentences a rendering worker renders per task (:func:`build_form_examples`): about 200 videos.
RENDER_CHUNK = 50
#: Error kinds the form head is trained to grade (its targets for every other kind are 1).
FORM_KINDS = ("noise", "jitter", "frozen", "shuffle")
#: Errors in meaning only: fluent signing of something else, which the head must leave at F = 1.
MEANING_KINDS = ("substitution", "deletion", "insertion", "direction", "negation")


@dataclass
class FormSettings:
    sentences: int = 2000
    val_sentences: int = 200
    form_variants: int = 1  # outputs with a form defect per sentence (one of FORM_KINDS)
    meaning_variants: int = 1  # outputs with a meaning error per sentence (one of MEANING_KINDS)
    data_seed: int = 0
    steps: int = 1500
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    min_lr_fraction: float = 0.02  # warm-up + cosine as the first stage (trainer.lr_factor)
    grad_clip: float = 1.0
    head: dict = field(default_factory=dict)  # FormHeadConfig overrides (width, layers, ...)
    # b of the targets' quality scale g(q) = 1 - b (1 - q); None: fitted to the towers' own
    # response to meaning errors (see exchange_rate); 1.0: in proportion to quality
    exchange_rate: float | None = None
    # meaning-error kinds graded like form defects (their evidence may be in the video alone:
    # inserted random signs break the grammar); the exchange rate is then fitted on the others
    also_graded: list = field(default_factory=list)
    # after training, calibrate the factor on the dev outputs (fit_calibration; FormHead.factor):
    # undoes the head's hedging towards mild factors (off in recipes before session 15)
    calibrate: bool = False
    # True: the head's window-token layers skip the batch's padding in training
    # (models.pose_encoder.Packing; as [train] skip_padding: same maths up to float rounding,
    # other dropout masks, so the head's weights depend on it)
    skip_padding: bool = False

    @classmethod
    def from_dict(cls, d: dict) -> "FormSettings":
        settings = settings_from_dict(cls, d, "form")
        if settings.sentences < 1 or settings.steps < 1 or settings.batch_size < 2:
            raise ValueError("[form] needs sentences >= 1, steps >= 1 and batch_size >= 2")
        if settings.form_variants < 1 or settings.meaning_variants < 0:
            raise ValueError("[form] needs form_variants >= 1 and meaning_variants >= 0")
        if settings.exchange_rate is None and settings.meaning_variants < 1:
            raise ValueError("[form] fits exchange_rate on meaning errors: set meaning_variants >= 1 "
                             "or give exchange_rate")
        unknown = sorted(set(settings.also_graded) - set(MEANING_KINDS))
        if unknown:
            raise ValueError(f"[form] also_graded takes meaning-error kinds {list(MEANING_KINDS)}, got {unknown}")
        if not isinstance(settings.skip_padding, bool):
            raise ValueError(f"[form] skip_padding must be true or false, not {settings.skip_padding!r}")
        if settings.exchange_rate is not None and not 0.0 < settings.exchange_rate <= 1.0:
            raise ValueError(f"[form] exchange_rate must be in (0, 1], got {settings.exchange_rate}")
        return settings


@dataclass
class FormExample:
    features: np.ndarray  # the model's prepared frame features (float16 in the cache)
    states: torch.Tensor  # the frozen encoder's window hidden states
    kind: str  # "clean" or an error kind
    quality: float
    ratio: float  # similarity against the reference over the clean rendering's (nan if undefined)
    target: float = 1.0  # set by assign_targets
    source: int = -1  # index of the clean rendering of the same sentence in the example list


def form_target(kind: str, quality: float, ratio: float, rate: float = 1.0, graded=FORM_KINDS) -> float:
    """What ``F`` should be for one video: ``min(1, g(q) / r)`` for a graded kind (form
    defects), else 1, with ``g(q) = 1 - rate (1 - q)`` the score (over the clean rendering's)
    that an output of true quality ``q`` should get. ``rate = 1``: in proportion to quality."""
    if kind not in graded or not math.isfinite(ratio) or ratio <= 0:
        return 1.0
    wanted = 1.0 - rate * (1.0 - quality)
    return float(min(1.0, max(0.02, wanted / ratio)))


def exchange_rate(examples: list[FormExample], graded=FORM_KINDS) -> float:
    """How many points of relative score the towers take per point of lost quality on outputs
    with meaning errors, pooled over them: ``Σ(1 - r) / Σ(1 - q)``, in [0.05, 1].

    Why: a ranking of systems needs one scale for every kind of error. The towers' similarity
    puts meaning errors on its own scale (the default model's towers lose 0.74–0.80 of the lost
    quality on the synthetic training outputs, not 1:1); form defects graded in proportion to
    quality would sit on another, and systems of the two groups would be ranked against each
    other wrongly. So the head grades form defects on the towers' own scale, measured on
    training data (pooled sums, like a system's corpus mean)."""
    lost = [(1.0 - e.ratio, 1.0 - e.quality) for e in examples
            if e.kind in MEANING_KINDS and e.kind not in graded and math.isfinite(e.ratio) and e.quality < 1.0]
    if not lost:
        raise ValueError("no meaning-error outputs to measure the exchange rate on")
    rate = sum(a for a, _ in lost) / sum(b for _, b in lost)
    return float(min(1.0, max(0.05, rate)))


def assign_targets(examples: list[FormExample], rate: float, graded=FORM_KINDS) -> None:
    for e in examples:
        e.target = form_target(e.kind, e.quality, e.ratio, rate, graded)


def build_form_examples(model, sentences: int, form_variants: int, meaning_variants: int, seed: int, split: str,
                        progress: bool = False, chunk: int = 250, processes=0) -> list[FormExample]:
    """Clean renderings and simulated system outputs of ``sentences`` synthetic items, with their
    similarity ratios (targets: :func:`assign_targets`).

    The items are rendered, scored and dropped ``chunk`` sentences at a time: what the head
    trains on (features and window states) is kept, the poses are not. Why: the default recipe's
    24,000 videos held as poses next to their features took 10 GB at once; a score does not
    depend on what else is scored with it, so the examples are the same.

    ``processes`` (a count, or running :class:`silverscore.parallel.Workers`) renders the chunks
    in worker processes, ahead of the chunk being scored here: rendering is single-threaded NumPy
    and took half of this function's time. The same examples, sooner. Workers started here run at
    niceness 19: the chunk being scored is the critical path, and the renderers take what
    PyTorch's threads leave (at normal priority they slowed the scoring more than they saved)."""
    from tqdm.auto import tqdm

    from ..api import Scorer
    from ..parallel import ordered_map
    from ..synth.corpus import generate_corpus

    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, not {chunk}")
    items = generate_corpus(sentences, seed, split, render_pose=False)
    # each_pair_alone=False: the ratios from one product over each padded chunk, as the shipped
    # model's head was trained on them (the per-pair path differs by ~1e-14, which would move the
    # head's last bits and break `make default-model`'s bit-for-bit rebuild)
    scorer = Scorer(model, scale=1.0, form=False, progress=False, each_pair_alone=False)
    was_training = model.training
    out: list[FormExample] = []
    bar = tqdm(total=len(items), desc=f"form data ({split})", unit="sentence", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    # rendered RENDER_CHUNK sentences per task (a worker holds one task's poses, twice while it
    # pickles them), scored `chunk` at a time as before: the scoring chunk fixes the ratios' bits
    plan = []  # per scoring chunk, its rendering tasks
    for first in range(0, len(items), chunk):
        stop = min(first + chunk, len(items))
        plan.append([(items[start:min(start + RENDER_CHUNK, stop)], form_variants, meaning_variants, start)
                     for start in range(first, stop, RENDER_CHUNK)])
    parts = ordered_map(_form_videos, [task for tasks in plan for task in tasks], processes, ahead=3, niceness=19)
    for tasks in plan:
        videos = _joined([next(parts) for _ in tasks])
        out.extend(_form_examples_of(model, scorer, videos, offset=len(out)))
        bar.update(sum(kind == "clean" for kind in videos[2]))
    parts.close()  # every task is taken; this shuts down workers started for this call
    bar.close()
    model.train(was_training)
    return out


def _joined(parts: list[tuple]) -> tuple:
    """Several :func:`_form_videos` results as one chunk's (each part's ``sources`` shifted)."""
    videos, texts, kinds, qualities, sources = [], [], [], [], []
    for part_videos, part_texts, part_kinds, part_qualities, part_sources in parts:
        sources.extend(len(videos) + s for s in part_sources)
        videos.extend(part_videos)
        texts.extend(part_texts)
        kinds.extend(part_kinds)
        qualities.extend(part_qualities)
    return videos, texts, kinds, qualities, sources


def _form_videos(task) -> tuple[list, list[str], list[str], list[float], list[int]]:
    """The videos of one chunk of (unrendered) items: each item's clean rendering, then its outputs
    with ``form_variants`` form defects and ``meaning_variants`` meaning errors, as (videos, texts,
    kinds, qualities, sources); ``sources`` index each video's clean rendering in the chunk.
    ``first_index`` is the first item's index in the corpus (it picks the kinds of its outputs).
    Runs in a worker process of :func:`build_form_examples` (NumPy only)."""
    from ..synth.corpus import render_item
    from .synthetic import _degraded_variants, _pose, keypoint_names

    items, form_variants, meaning_variants, first_index = task
    names = keypoint_names()
    videos, texts, kinds, qualities, sources = [], [], [], [], []
    for index, item in enumerate(items, start=first_index):
        render_item(item)
        source = len(videos)
        videos.append(_pose(item, names))
        texts.append(item.text)
        kinds.append("clean")
        qualities.append(1.0)
        sources.append(source)
        outputs = (_degraded_variants(item, form_variants, index, FORM_KINDS, "quality")
                   + (_degraded_variants(item, meaning_variants, index, MEANING_KINDS, "quality")
                      if meaning_variants else []))
        for kind, output, quality, _ in outputs:
            videos.append(_pose(output, names))
            texts.append(item.text)
            kinds.append(kind)
            qualities.append(quality)
            sources.append(source)
        item.pose = item.confidence = None  # the outputs above hold their own poses
    return videos, texts, kinds, qualities, sources


def _form_examples_of(model, scorer, chunk_videos, offset: int) -> list[FormExample]:
    """:func:`build_form_examples` for one chunk's videos (:func:`_form_videos`): scored against
    their references; ``offset`` is the number of examples before this chunk (``source`` indexes
    the whole list)."""
    videos, texts, kinds, qualities, sources = chunk_videos
    # one encoder pass: the scoring run records what the head reads (features, window states)
    with model.recording_windows(np.float16) as record:
        scores = scorer.score(videos, texts).scores
    if len(record) != len(videos):
        raise RuntimeError(f"recorded {len(record)} encoder passes for {len(videos)} videos")
    out = []
    for i, kind in enumerate(kinds):
        clean = scores[sources[i]]
        ratio = scores[i] / clean if clean > 0 else float("nan")
        features, states = record[i]
        out.append(FormExample(features, states, kind, qualities[i], ratio, source=offset + sources[i]))
    return out


def fit_calibration(factor, sources, kinds, targets) -> tuple[float, float]:
    """``(reference, exponent)`` of a form head's calibration (:meth:`FormHead.factor`) from its
    uncalibrated factors ``σ(logit)`` on examples with known targets (the dev split).

    ``reference``: the median factor of the clean renderings. ``exponent``: least squares through
    the origin of each non-clean kind's mean target log, ``mean log t``, on its mean log relative
    factor, ``mean log(F / F_clean)`` (``F_clean`` the factor of the output's own clean rendering),
    weighted by the kind's count, in [0.25, 4]. Why kind means and not single outputs: a system's
    corpus score averages its outputs, so the kind means are what a ranking sees; per output, the
    head's errors on single videos would drag a regression slope towards 0 (errors in the
    regressor), which is the very shrinkage to undo."""
    factor = np.asarray(factor, dtype=np.float64)
    sources = np.asarray(sources)
    kinds = np.asarray(kinds)
    targets = np.asarray(targets, dtype=np.float64)
    if sources.size and (sources.min() < 0 or sources.max() >= factor.size):
        raise ValueError("calibrating the form head needs each example's clean rendering (source index)")
    clean = kinds == "clean"
    if not clean.any():
        raise ValueError("calibrating the form head needs clean renderings")
    reference = float(np.median(factor[clean]))
    relative = np.log(factor / factor[sources])
    wanted = np.log(np.clip(targets, 1e-6, 1.0))
    num = den = 0.0
    for kind in sorted(set(kinds[~clean].tolist())):
        rows = kinds == kind
        a, b = relative[rows].mean(), wanted[rows].mean()
        num += rows.sum() * a * b
        den += rows.sum() * a * a
    exponent = num / den if den > 0 else 1.0
    return reference, float(min(4.0, max(0.25, exponent)))


@torch.no_grad()
def evaluate_form(model, examples: list[FormExample], batch_size: int = 64) -> dict:
    """Mean F per kind, the mean absolute error against the targets, and the BCE, of the head's
    uncalibrated factor ``σ(logit)`` (what it is trained on); for a calibrated head also the
    relative error of the factor a score uses (``relative_mae_calibrated``)."""
    was_training = model.training
    model.eval()
    logits = torch.cat([model.form_logits([e.features.astype(np.float32) for e in examples[a:a + batch_size]],
                                          [e.states for e in examples[a:a + batch_size]])
                        for a in range(0, len(examples), batch_size)])
    model.train(was_training)
    target = torch.tensor([e.target for e in examples], dtype=logits.dtype)
    factor = torch.sigmoid(logits)
    result = {"bce": float(torch.nn.functional.binary_cross_entropy_with_logits(logits, target)),
              "mae": float((factor - target).abs().mean())}
    for kind in sorted({e.kind for e in examples}):
        rows = [i for i, e in enumerate(examples) if e.kind == kind]
        result[f"F_{kind}"] = float(factor[rows].mean())
    # what a score sees: each output's F over its own clean rendering's, against its target
    paired = [i for i, e in enumerate(examples) if e.kind != "clean" and 0 <= e.source < len(examples)]
    sources = [examples[i].source for i in paired]

    def relative_mae(values: torch.Tensor) -> float:
        return float((values[paired] / values[sources] - target[paired]).abs().mean())

    if paired:
        result["relative_mae"] = relative_mae(factor)
        if model.form_head.config.calibrated:
            result["relative_mae_calibrated"] = relative_mae(model.form_head.factor(logits))
    return result


def train_form_head(model, settings: FormSettings, seed: int = 0, progress: bool = True, processes=0) -> dict:
    """Attach a fresh form head to ``model`` and train it (towers frozen); returns validation figures.
    ``processes``: worker processes that render its data (:func:`build_form_examples`; no bit changes).

    Runs with PyTorch's deterministic kernels (the backward of the windows' gather accumulates
    from several threads otherwise), so a seed gives the same head bit for bit."""
    with deterministic_algorithms():
        return _train_form_head(model, settings, seed, progress, processes)


def _train_form_head(model, settings: FormSettings, seed: int, progress: bool, processes) -> dict:
    from tqdm.auto import tqdm

    t0 = time.time()
    torch.manual_seed(seed)
    model.add_form_head(settings.head)
    model.eval()
    if hasattr(model, "backbone"):
        # MiniLM states one text at a time, as scoring computes them (a first stage in the same
        # process leaves batched states in the cache that differ in the last bits): the result
        # then depends on the towers' weights only, not on what ran before in the process
        model.backbone.clear_cache()
    counts = (settings.form_variants, settings.meaning_variants)
    train_set = build_form_examples(model, settings.sentences, *counts, settings.data_seed, "train", progress,
                                    processes=processes)
    val_set = build_form_examples(model, settings.val_sentences, *counts, settings.data_seed + 1, "dev",
                                  processes=processes)
    graded = FORM_KINDS + tuple(settings.also_graded)
    rate = settings.exchange_rate if settings.exchange_rate is not None else exchange_rate(train_set, graded)
    assign_targets(train_set, rate, graded)
    assign_targets(val_set, rate, graded)
    t_data = time.time() - t0
    head = model.form_head
    params = [p for p in head.parameters()]
    decay = [p for n, p in head.named_parameters() if p.ndim >= 2 and not n.endswith("positional")]
    no_decay = [p for n, p in head.named_parameters() if not (p.ndim >= 2 and not n.endswith("positional"))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=settings.lr)
    head.train()
    n = len(train_set)
    # the noise floor is a fixed function of each video's features: computed once here, not at
    # each of the thousands of steps that draw the video (the same values, see form_noise_floors)
    floors = (model.form_noise_floors([e.features for e in train_set])  # float16, padded to float32 by chunk
              if head.config.noise_floor else None)
    per_epoch = n // settings.batch_size
    bar = tqdm(total=settings.steps, desc="form head", unit="step", disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    order = None
    loss_sum = 0.0
    for step in range(settings.steps):
        epoch, slot = divmod(step, per_epoch)
        if slot == 0:
            order = np.random.default_rng([seed, epoch, 7]).permutation(n)
        picked = order[slot * settings.batch_size:(slot + 1) * settings.batch_size]
        batch = [train_set[i] for i in picked]
        for group in optimizer.param_groups:
            group["lr"] = settings.lr * lr_factor(step, settings)
        torch.manual_seed(seed * 1_000_003 + step)
        batch_floors = None if floors is None else (floors[0][picked], floors[1][picked])
        logits = model.form_logits([e.features.astype(np.float32) for e in batch], [e.states for e in batch],
                                   batch_floors, skip_padding=settings.skip_padding)
        target = torch.tensor([e.target for e in batch], dtype=logits.dtype)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, settings.grad_clip)
        optimizer.step()
        loss_sum += float(loss.detach())
        bar.update(1)
        if (step + 1) % 50 == 0:
            bar.set_postfix(loss=f"{loss_sum / 50:.4f}")
            loss_sum = 0.0
    bar.close()
    model.eval()
    calibration = None
    if settings.calibrate:
        # one video per forward pass, as scoring computes the factor (a batch may differ in the last bits)
        with torch.no_grad():
            factor = torch.sigmoid(torch.cat([
                model.form_logits([e.features.astype(np.float32)], [e.states]) for e in val_set])).numpy()
        reference, exponent = fit_calibration(factor, [e.source for e in val_set], [e.kind for e in val_set],
                                              [e.target for e in val_set])
        model.calibrate_form_head(reference, exponent)
        calibration = {"reference": round(reference, 6), "exponent": round(exponent, 6)}
    validation = evaluate_form(model, val_set)
    if calibration is not None:
        validation["calibration"] = calibration
    validation["exchange_rate"] = round(rate, 6)
    validation["seconds"] = round(time.time() - t0, 1)
    validation["data_seconds"] = round(t_data, 1)
    model.annotate(form_training={"seed": seed, "settings": asdict(settings), "train_videos": n,
                                  "val_videos": len(val_set), "validation": validation})
    return validation


__all__ = ["FORM_KINDS", "MEANING_KINDS", "FormSettings", "FormExample", "form_target", "exchange_rate",
           "assign_targets", "build_form_examples", "evaluate_form", "fit_calibration", "train_form_head"]
