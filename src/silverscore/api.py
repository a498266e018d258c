"""The Python API: :class:`Scorer`, one-shot :func:`score` / :func:`score_matrix`, and a
torchmetrics-style :class:`SilverScoreMetric`.

A :class:`Scorer` holds one loaded model and the metric settings. Scoring is *paired* by default
(hypothesis k against reference k, O(N)); :meth:`Scorer.score_matrix` scores every hypothesis
against every reference. Hypotheses are encoded in batches of ``batch_size``; each distinct
reference text is encoded once. Per-item results never depend on batch size, order or padding:
every item is sampled/padded to the model's fixed length on its own and masks keep padding out
of attention and averages. That holds to the last bit with several threads too because importing
this module asks MKL for strict reproducibility (``MKL_CBWR=AUTO,STRICT``, below), and because
models with the masked softmax compute each pair's similarity on its own slots
(:func:`silverscore.similarity.paired_similarity_each`; over a padded batch, the last bits moved
with the batch's longest text on an AMD EPYC machine).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import __version__
from .errors import InputError
from .models.checkpoints import LoadedModel, load_model
from .similarity import (DEFAULT_MIX, DEFAULT_SCALE, DEFAULT_TAU, combine, matrix_similarity, paired_similarity,
                         paired_similarity_each)
from .stats import retrieval_metrics, summarize

Hypothesis = Any  # a path to a feature/pose file, or an array-like the model accepts

# MKL's matrix products, with more than one thread, round a row differently depending on how many
# rows share the product: with two threads an official-checkpoint score moved by 7e-6 when another
# reference or 63 more videos joined its batch. Strict conditional numerical reproducibility keeps
# each row's bits whatever the batch (then 0.0), at no measured cost (benchmarks/bench_score.py:
# 19.4 and 19.8 items/s). MKL reads the variable at its first product, so this takes effect when
# silverscore is imported before a process computes anything (the command line always is); a
# value the user set is kept. Training is not changed by it: `silverscore train` computes before
# it imports this module, and `[train] kernels` sets MKL's branch itself.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")


def _chunks(n: int, size: int):
    for start in range(0, n, size):
        yield start, min(n, start + size)


@dataclass
class ScoreResult:
    """Per-sample results of paired scoring, plus the signature that identifies the setting."""

    ids: list[str]
    scores: np.ndarray
    z_v2t: np.ndarray
    z_t2v: np.ndarray
    clips: np.ndarray
    truncated: np.ndarray
    empty_reference: np.ndarray
    signature: str
    n_boot: int = 1000
    seed: int = 0
    #: The form factor F of each hypothesis when the model has a form head and it is on (the
    #: score is then the similarity score times F), else None.
    form: np.ndarray | None = None

    def summary(self, n_boot: int | None = None, seed: int | None = None) -> dict:
        """Mean, median, std and the seeded 95 % bootstrap CI of the scores."""
        stats = summarize(self.scores, self.n_boot if n_boot is None else n_boot, self.seed if seed is None else seed)
        stats["truncated"] = int(self.truncated.sum())
        stats["empty_references"] = int(self.empty_reference.sum())
        stats["signature"] = self.signature
        return stats

    def rows(self) -> list[dict]:
        """One dict per sample: id, score, z_v2t, z_t2v, clips, truncated (what ``--out`` writes)."""
        rows = [
            {
                "id": self.ids[i],
                "score": float(self.scores[i]),
                "z_v2t": float(self.z_v2t[i]),
                "z_t2v": float(self.z_t2v[i]),
                "clips": int(self.clips[i]),
                "truncated": bool(self.truncated[i]),
                "empty_reference": bool(self.empty_reference[i]),
            }
            for i in range(len(self.ids))
        ]
        if self.form is not None:
            for row, factor in zip(rows, self.form):
                row["form"] = float(factor)
        return rows


@dataclass
class MatrixResult:
    """Every hypothesis against every reference: [N, M] matrices and retrieval metrics."""

    hyp_ids: list[str]
    ref_ids: list[str]
    scores: np.ndarray
    z_v2t: np.ndarray
    z_t2v: np.ndarray
    signature: str

    def retrieval(self) -> dict:
        return retrieval_metrics(self.scores)


@dataclass
class Scorer:
    """Scores hypotheses against references with one model and fixed metric settings.

    Args:
        model: ``None`` (bundled default model), a named official variant (``phoenix``, ``csl``,
            ``how2sign``), a checkpoint path, a :class:`LoadedModel`, or a model object.
        device: ``"cpu"`` or ``"cuda"`` (or any torch device string).
        precision: ``fp32`` (default), ``fp64``, or ``fp16`` (official numerics; CiCo models).
        batch_size: hypotheses encoded per forward pass (bounds memory; never changes scores).
        scale: κ; 1 gives raw scores.
        truncation: ``head`` (official package) or ``linspace`` (CiCo loader) for long texts.
        alpha: blend weight of two I3D streams, recorded in the signature when used.
        form: multiply each score by the model's form factor F (models with a form head only,
            see :mod:`silverscore.models.form_head`); recorded in the signature of such models.
        progress: show a progress bar on stderr.
        each_pair_alone: models with the masked softmax compute each pair on its own slots
            (:func:`silverscore.similarity.paired_similarity_each`), so a score keeps every bit
            whatever the batch on every CPU; ``False``: one product over the padded batch, equal
            to about 1e-14 (what the form stage of training used when the shipped model was made).
    """

    model: Any = None
    device: str = "cpu"
    precision: str = "fp32"
    batch_size: int = 64
    scale: float = DEFAULT_SCALE
    tau: float = DEFAULT_TAU
    mix: float = DEFAULT_MIX
    truncation: str | None = None
    alpha: float | None = None
    form: bool = True
    progress: bool = False
    n_boot: int = 1000
    seed: int = 0
    each_pair_alone: bool = True
    _loaded: LoadedModel = field(init=False, repr=False)

    def __post_init__(self):
        if self.batch_size < 1:
            raise InputError(None, f"batch size must be at least 1, got {self.batch_size}")
        if isinstance(self.model, LoadedModel):
            loaded = self.model
        elif isinstance(self.model, torch.nn.Module):
            loaded = LoadedModel(self.model, getattr(self.model, "name", type(self.model).__name__), "unhashed", None)
        else:
            loaded = load_model(self.model)
        self._loaded = loaded
        net = loaded.model
        if self.truncation is not None and hasattr(net, "truncation"):
            net.truncation = self.truncation
        if hasattr(net, "set_precision"):
            net.set_precision(self.precision)
        elif self.precision != "fp32":
            raise InputError(None, f"model {loaded.name!r} supports fp32 only")
        net.to(self.device).eval()
        self.net = net

    # -- identification -------------------------------------------------------------------------
    @property
    def input_kind(self) -> str:
        return self.net.input_kind

    @property
    def feature_dim(self) -> int | None:
        """Clip-feature width an I3D model expects (checked on every hypothesis), else None."""
        return getattr(self.net, "feature_dim", None)

    @property
    def has_form_head(self) -> bool:
        return getattr(self.net, "form_head", None) is not None

    def _encode_videos(self, items) -> tuple[torch.Tensor, torch.Tensor, np.ndarray | None]:
        """Slot embeddings, masks and, when the form head is on, each video's form factor."""
        if not (self.form and self.has_form_head):
            return (*self.net.encode_videos(items), None)
        emb, valid, factors = self.net.encode_videos_with_form(items)
        return emb, valid, factors.to(torch.float64).cpu().numpy()

    @property
    def signature(self) -> str:
        """``silverscore|model:NAME@SHA12|...|v:VERSION`` — everything the numbers depend on."""
        net = self.net
        alpha = "none" if self.alpha is None else f"{self.alpha:g}"
        trunc = getattr(net, "truncation", "model")
        parts = [
            "silverscore",
            f"model:{self._loaded.name}@{self._loaded.sha256[:12]}",
            f"softmax:{net.softmax}",
            f"prec:{self.precision}",
            f"scale:{self.scale:g}",
            f"tau:{self.tau:g}",
            f"mix:{self.mix:g}",
            f"trunc:{trunc}",
            f"alpha:{alpha}",
            *([f"form:{'on' if self.form else 'off'}"] if self.has_form_head else []),
            f"boot:{self.n_boot}",
            f"seed:{self.seed}",
            f"v:{__version__}",
        ]
        return "|".join(parts)

    # -- loading hypotheses ---------------------------------------------------------------------
    def load_hypothesis(self, item: Hypothesis):
        """Read a path with the reader that matches the model's input kind; pass arrays through."""
        if hasattr(item, "load"):  # e.g. two I3D streams blended on reading
            return item.load(self.feature_dim)
        if isinstance(item, (str, Path)):
            if self.input_kind == "pose":
                from .inputs.poses import read_pose

                return read_pose(item)
            from .inputs.features import read_feature_file

            return read_feature_file(item, self.feature_dim)
        if self.input_kind == "i3d":
            from .inputs.features import check_features

            return check_features(item, None, self.feature_dim)
        return item

    @staticmethod
    def _length(item) -> int:
        data = getattr(item, "data", item)
        return int(np.asarray(data).shape[0])

    # -- encoding -------------------------------------------------------------------------------
    def _encode_texts(self, texts: Sequence[str]):
        """Encode each distinct text once; returns (emb, valid, truncated) aligned with ``texts``."""
        unique = list(dict.fromkeys(texts))
        position = {t: i for i, t in enumerate(unique)}
        embs, valids, truncs = [], [], []
        for a, b in _chunks(len(unique), max(self.batch_size, 1)):
            emb, valid, trunc = self.net.encode_texts(unique[a:b])
            embs.append(emb)
            valids.append(valid)
            truncs.append(trunc.cpu())
        # Models that pad each batch to its own longest text (ours, whose softmax is masked) give
        # blocks of different widths: pad to the widest, which changes no score. CiCo models
        # always return their fixed 32 slots, so nothing is added to their official softmax.
        width = max(e.shape[1] for e in embs)
        embs = [F.pad(e, (0, 0, 0, width - e.shape[1])) for e in embs]
        valids = [F.pad(v, (0, width - v.shape[1])) for v in valids]
        emb = torch.cat(embs)
        index = torch.tensor([position[t] for t in texts], dtype=torch.long, device=emb.device)
        return emb[index], torch.cat(valids)[index], torch.cat(truncs)[index.cpu()]

    def _similarity_dtype(self) -> torch.dtype:
        """The similarity always runs in float64: it costs little next to the towers, and the
        batched products over differently padded batches then differ by ~1e-15 instead of fp32's
        ~1e-6, so a score does not depend on the company an item keeps."""
        return torch.float64

    def _bar(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="item", disable=not self.progress, leave=False)

    # -- scoring --------------------------------------------------------------------------------
    @torch.no_grad()
    def score(self, hyps: Sequence[Hypothesis], refs: Sequence[str], ids: Sequence[str] | None = None) -> ScoreResult:
        """Paired scores: hypothesis k against reference k."""
        if len(hyps) != len(refs):
            raise InputError(None, f"{len(hyps)} hypotheses but {len(refs)} references")
        if not len(hyps):
            raise InputError(None, "nothing to score")
        n = len(hyps)
        ids = [str(i) for i in (ids if ids is not None else range(1, n + 1))]
        empty = np.array([not r.strip() for r in refs], dtype=bool)
        if empty.any():
            first = ids[int(np.argmax(empty))]
            warnings.warn(f"{int(empty.sum())} empty or whitespace-only reference(s) (first id {first}); scored and flagged", stacklevel=2)
        lam = self.net.logit_scale_value().to(self._similarity_dtype())
        softmax = self.net.softmax
        z_v2t = np.empty(n)
        z_t2v = np.empty(n)
        clips = np.empty(n, dtype=np.int64)
        truncated = np.empty(n, dtype=bool)
        form = np.ones(n) if self.form and self.has_form_head else None
        with self._bar(n, "scoring") as bar:
            for a, b in _chunks(n, self.batch_size):
                items = [self.load_hypothesis(h) for h in hyps[a:b]]
                clips[a:b] = [self._length(x) for x in items]
                v_emb, v_valid, factors = self._encode_videos(items)
                t_emb, t_valid, trunc = self._encode_texts(list(refs[a:b]))
                dtype = self._similarity_dtype()
                if softmax == "masked" and self.each_pair_alone:
                    zv, zt = paired_similarity_each(v_emb.to(dtype), v_valid, t_emb.to(dtype), t_valid, lam, self.tau)
                else:
                    zv, zt = paired_similarity(v_emb.to(dtype), v_valid, t_emb.to(dtype), t_valid, lam, self.tau,
                                               softmax)
                z_v2t[a:b] = zv.cpu().numpy()
                z_t2v[a:b] = zt.cpu().numpy()
                truncated[a:b] = trunc.numpy()
                if form is not None:
                    form[a:b] = factors
                bar.update(b - a)
        scores = combine(z_v2t, z_t2v, self.mix, self.scale)
        if form is not None:
            scores = scores * form
        return ScoreResult(ids, scores, z_v2t, z_t2v, clips, truncated, empty, self.signature, self.n_boot, self.seed,
                           form)

    @torch.no_grad()
    def score_matrix(
        self,
        hyps: Sequence[Hypothesis],
        refs: Sequence[str],
        hyp_ids: Sequence[str] | None = None,
        ref_ids: Sequence[str] | None = None,
    ) -> MatrixResult:
        """Every hypothesis against every reference ([N, M]); memory stays bounded in blocks."""
        if not len(hyps) or not len(refs):
            raise InputError(None, "nothing to score")
        dtype = self._similarity_dtype()
        lam = self.net.logit_scale_value().to(dtype)
        t_emb, t_valid, _ = self._encode_texts(list(refs))
        t_emb = t_emb.to(dtype)
        n, m = len(hyps), len(refs)
        z_v2t = np.empty((n, m))
        z_t2v = np.empty((n, m))
        form = np.ones(n) if self.form and self.has_form_head else None
        with self._bar(n, "scoring matrix") as bar:
            for a, b in _chunks(n, self.batch_size):
                items = [self.load_hypothesis(h) for h in hyps[a:b]]
                v_emb, v_valid, factors = self._encode_videos(items)
                zv, zt = matrix_similarity(v_emb.to(dtype), v_valid, t_emb, t_valid, lam, self.tau, self.net.softmax)
                z_v2t[a:b] = zv.cpu().numpy()
                z_t2v[a:b] = zt.cpu().numpy()
                if form is not None:
                    form[a:b] = factors
                bar.update(b - a)
        scores = combine(z_v2t, z_t2v, self.mix, self.scale)
        if form is not None:
            scores = scores * form[:, None]
        hyp_ids = [str(i) for i in (hyp_ids if hyp_ids is not None else range(1, n + 1))]
        ref_ids = [str(i) for i in (ref_ids if ref_ids is not None else range(1, m + 1))]
        return MatrixResult(hyp_ids, ref_ids, scores, z_v2t, z_t2v, self.signature)


def score(hyps: Sequence[Hypothesis], refs: Sequence[str], model: Any = None, **settings) -> ScoreResult:
    """One-shot paired scoring: ``silverscore.score(hyps, refs, model="ckpt.pth")``."""
    return Scorer(model, **settings).score(hyps, refs)


def score_matrix(hyps: Sequence[Hypothesis], refs: Sequence[str], model: Any = None, **settings) -> MatrixResult:
    """One-shot all-pairs scoring."""
    return Scorer(model, **settings).score_matrix(hyps, refs)


class SilverScoreMetric:
    """torchmetrics-style accumulator: ``update(hyps, refs)`` per batch, ``compute()`` at the end.

    Per-sample scores are stored, so the corpus figure equals scoring everything at once.
    """

    def __init__(self, model: Any = None, **settings):
        self.scorer = model if isinstance(model, Scorer) else Scorer(model, **settings)
        self.reset()

    def reset(self) -> None:
        self._scores: list[np.ndarray] = []

    def update(self, hyps: Sequence[Hypothesis], refs: Sequence[str]) -> np.ndarray:
        result = self.scorer.score(hyps, refs)
        self._scores.append(result.scores)
        return result.scores

    def compute(self) -> dict:
        if not self._scores:
            raise InputError(None, "compute() called before any update()")
        values = np.concatenate(self._scores)
        out = summarize(values, self.scorer.n_boot, self.scorer.seed)
        out["signature"] = self.scorer.signature
        return out
