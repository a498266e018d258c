"""Training examples, where they come from, and how batches are drawn.

An :class:`Example` is one video (pose sequence or feature file) with the sentence it signs,
other renderings of that sentence (paraphrases: any one may stand in as the positive text), and
*hard-negative texts*: sentences that differ from it in one meaning-bearing detail (negation,
a minimal-pair sign, swapped roles). ``group`` ties a rendered hard-negative video to the item
it was derived from, so that the two land in the same batch and contrast each other in both
directions.

Batches are drawn deterministically from ``(seed, epoch)``: whole groups, shuffled, then cut into
batches of exactly ``batch_size`` examples (the last incomplete one is dropped). Because the
order is a pure function of the seed and the epoch, a resumed run sees the same batches as an
uninterrupted one, without saving any random state.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

_WORDS = re.compile(r"[a-z0-9']+")


def meaning_key(text: str) -> str:
    """Case- and punctuation-insensitive form of a sentence, for 'same text' checks."""
    return " ".join(_WORDS.findall(text.lower()))


@dataclass
class Example:
    """One training item. ``video`` is anything the model's ``prepare_video`` accepts."""

    id: str
    video: Any
    text: str
    paraphrases: list[str] = field(default_factory=list)
    hard_texts: list[str] = field(default_factory=list)
    #: Other wordings of a hard text (key: the hard text), drawn in its place at each step.
    hard_variants: dict[str, list[str]] = field(default_factory=dict)
    glosses: tuple[str, ...] | None = None
    group: str | None = None
    signer: str | None = None
    meta: dict = field(default_factory=dict)
    #: How good this rendering is next to a clean one of the same sentence (its group's source):
    #: 1 for clean signing, < 1 for a degraded one (keypoint noise, uneven speed). The fidelity
    #: term asks the clean-minus-degraded similarity gap to grow with ``1 − fidelity``.
    fidelity: float = 1.0

    def texts(self) -> list[str]:
        return [self.text] + [p for p in self.paraphrases if p != self.text]

    def meanings(self) -> set[str]:
        return {meaning_key(t) for t in self.texts()}


def positive_mask(examples: Sequence[Example], chosen_texts: Sequence[str], extra_texts: Sequence[str]):
    """Bool [B, B + H]: is column j a correct text for video i?

    Own-text columns: same glosses (when both items have them) or the column's text is one of
    the item's renderings. Extra (hard-negative) columns: only if the text is, against the data's
    intent, one of the item's renderings.
    """
    b = len(examples)
    meanings = [ex.meanings() for ex in examples]
    columns = [meaning_key(t) for t in list(chosen_texts) + list(extra_texts)]
    mask = np.zeros((b, len(columns)), dtype=bool)
    for i, ex in enumerate(examples):
        for j, key in enumerate(columns):
            if key in meanings[i]:
                mask[i, j] = True
            elif j < b and ex.glosses is not None and examples[j].glosses is not None and ex.glosses == examples[j].glosses:
                mask[i, j] = True
        mask[i, i] = True
    return mask


@dataclass
class BatchColumns:
    """Which columns of a step's [B, B + width] logit matrices are what.

    Columns ``0..B-1`` are the batch's own texts; the next ``width`` hold each row's *own* extra
    texts (hard negatives, then its twin), row i's k-th in column ``B + k``. ``extra_rows`` /
    ``extra_slots`` give the row and slot of each flattened extra text.
    """

    positive: np.ndarray  # bool [B, B + width]
    hard: np.ndarray  # bool: same-group rendered variants and the row's own extra texts
    valid: np.ndarray  # bool: the entries that exist (rows have different numbers of extras)
    width: int
    extra_rows: list[int]
    extra_slots: list[int]
    twin_columns: dict[int, int]  # row → column of its twin (the last of its extras)


def batch_columns(examples: Sequence[Example], chosen: Sequence[str], extra: Sequence[Sequence[str]],
                  twin_rows: Sequence[int]) -> BatchColumns:
    """The masks of one step. A row's hard-negative and twin texts compete only in that row:
    scored against every video of the batch they would be a few hundred more random negatives at
    several times the cost of the whole step."""
    b = len(examples)
    width = max((len(per) for per in extra), default=0)
    extra_rows = [i for i, per in enumerate(extra) for _ in per]
    extra_slots = [k for per in extra for k in range(len(per))]
    flat_columns = [b + k for k in extra_slots]
    full_positive = positive_mask(examples, chosen, [t for per in extra for t in per])
    positive = np.zeros((b, b + width), dtype=bool)
    positive[:, :b] = full_positive[:, :b]
    positive[extra_rows, flat_columns] = full_positive[extra_rows, b + np.arange(len(extra_rows))]
    valid = np.zeros((b, b + width), dtype=bool)
    valid[:, :b] = True
    valid[extra_rows, flat_columns] = True
    group_ids = np.unique([ex.group or ex.id for ex in examples], return_inverse=True)[1]
    hard = np.zeros((b, b + width), dtype=bool)
    hard[:, :b] = (group_ids[:, None] == group_ids[None, :]) & ~np.eye(b, dtype=bool)
    hard[:, b:] = valid[:, b:]
    twins = set(twin_rows)
    twin_columns = {i: b + len(per) - 1 for i, per in enumerate(extra) if i in twins}
    return BatchColumns(positive, hard, valid, width, extra_rows, extra_slots, twin_columns)


def fidelity_pairs(examples: Sequence[Example]) -> tuple[list[int], list[int], list[float]]:
    """(degraded row, clean source row, fidelity) for every degraded rendering whose source is
    in the same batch (groups are batched together, so normally all of them)."""
    rows = {ex.id: i for i, ex in enumerate(examples)}
    out: tuple[list[int], list[int], list[float]] = ([], [], [])
    for i, ex in enumerate(examples):
        if ex.fidelity < 1.0 and ex.group in rows and rows[ex.group] != i:
            out[0].append(i)
            out[1].append(rows[ex.group])
            out[2].append(float(ex.fidelity))
    return out


def epoch_batches(examples: Sequence[Example], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Indices of each batch of ``epoch``: shuffled groups, cut into full batches."""
    groups: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        groups.setdefault(ex.group or ex.id, []).append(i)
    order = list(groups.values())
    rng = np.random.default_rng([seed, epoch, 0x5EED])
    permutation = rng.permutation(len(order))
    flat = [i for g in permutation for i in order[g]]
    return [flat[s : s + batch_size] for s in range(0, len(flat) - batch_size + 1, batch_size)]


def iterate_steps(examples: Sequence[Example], batch_size: int, seed: int, start_step: int, total_steps: int) -> Iterator[tuple[int, int, list[int]]]:
    """(step, epoch, batch indices) for steps ``start_step .. total_steps-1``."""
    per_epoch = len(epoch_batches(examples, batch_size, seed, 0))
    if per_epoch == 0:
        raise ValueError(f"{len(examples)} examples are fewer than one batch of {batch_size}")
    step = start_step
    while step < total_steps:
        epoch, within = divmod(step, per_epoch)
        batches = epoch_batches(examples, batch_size, seed, epoch)
        for batch in batches[within:]:
            if step >= total_steps:
                return
            yield step, epoch, batch
            step += 1


def choose_texts(examples: Sequence[Example], rng: np.random.Generator, paraphrase_prob: float,
                 hard_per_item: int) -> tuple[list[str], list[list[str]]]:
    """The positive text of each example (a paraphrase with probability ``paraphrase_prob``) and,
    per example, up to ``hard_per_item`` of its hard-negative texts, each in one of its wordings
    when it has several (``hard_variants``; examples without them draw as before)."""
    chosen, extra = [], []
    for ex in examples:
        options = [p for p in ex.paraphrases if p != ex.text]
        if options and rng.random() < paraphrase_prob:
            chosen.append(_one_of(options, rng))
        else:
            chosen.append(ex.text)
        mine = []
        if hard_per_item and ex.hard_texts:
            k = min(hard_per_item, len(ex.hard_texts))
            mine = [ex.hard_texts[int(idx)] for idx in rng.choice(len(ex.hard_texts), size=k, replace=False)]
            if ex.hard_variants:
                mine = [_one_of(ex.hard_variants.get(t) or [t], rng) for t in mine]
        extra.append(mine)
    return chosen, extra


def _one_of(options: Sequence[str], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def choose_twins(examples: Sequence[Example], chosen: Sequence[str], rng: np.random.Generator) -> list[str | None]:
    """Per example, another rendering of its sentence than the chosen one (None if it has none):
    the partner of the paraphrase-consistency term."""
    twins: list[str | None] = []
    for ex, text in zip(examples, chosen):
        options = [t for t in ex.texts() if t != text]
        twins.append(_one_of(options, rng) if options else None)
    return twins


def all_texts(examples: Sequence[Example]) -> list[str]:
    """Every text training may ask the text encoder for (to precompute its states once)."""
    out: dict[str, None] = {}
    for ex in examples:
        for t in ex.texts() + list(ex.hard_texts) + [v for vs in ex.hard_variants.values() for v in vs]:
            out.setdefault(t, None)
    return list(out)
