"""Entry points behind ``silverscore meta <experiment>``: inputs in, result dict (and files) out.

Two families: ``*_from_table`` read precomputed scores of any metric from a CSV/TSV (rows with an
empty or non-numeric cell in a used column are skipped and counted in ``skipped``), and
``*_with_model`` score hypotheses against references with a :class:`~silverscore.api.Scorer`
and add the baselines (text metrics on back-translations, DTW on reference poses) on the very
same pairs. The CLI only parses options and calls these.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError
from . import experiments, scoring
from .pairs import draw_random_pairs, load_pairs, own_pair_mask, save_pairs
from .report import meta_signature
from .tables import read_score_columns
from .text_baselines import DEFAULT_ROUGE, text_baselines


def _table_signature(experiment: str, path, columns: Sequence[str], **params) -> str:
    return meta_signature(experiment, scores=f"{Path(path).name}:{'/'.join(columns)}", bins=50, **params)


def _need_rows(path, table, minimum: int = 2) -> None:
    if len(table.kept_rows) < minimum:
        raise InputError(path, f"only {len(table.kept_rows)} usable rows ({table.skipped} skipped: empty or non-numeric)")


# --------------------------------------------------------------------------- precomputed tables
def discrimination_from_table(path, correct: str, random: str, out_dir=None, metric: str | None = None) -> dict:
    table = read_score_columns(path, [correct, random])
    _need_rows(path, table)
    return experiments.discrimination_experiment(
        {metric or correct: (table[correct], table[random])},
        _table_signature("discrimination", path, [correct, random]), out_dir=out_dir,
        extra={"skipped": table.skipped, "n": len(table.kept_rows)})


def robustness_from_table(path, original: str, rewritten: str, kind: str = "reorder", out_dir=None,
                          metric: str | None = None) -> dict:
    table = read_score_columns(path, [original, rewritten])
    _need_rows(path, table)
    return experiments.robustness_experiment(
        {metric or original: (table[original], table[rewritten])},
        _table_signature(kind, path, [original, rewritten]), out_dir=out_dir, name=kind,
        extra={"skipped": table.skipped, "n": len(table.kept_rows)})


def prosody_from_table(path, score: str, group: str, out_dir=None, order: Sequence[str] = ("none", "low", "high")) -> dict:
    table = read_score_columns(path, [score], text=[group])
    _need_rows(path, table)
    return experiments.prosody_experiment(
        {score: (table[score], table.extra[group])}, _table_signature("prosody", path, [score, group]),
        out_dir=out_dir, order=order, extra={"skipped": table.skipped})


def hard_negatives_from_table(path, correct: str, negatives: Mapping[str, str], out_dir=None) -> dict:
    """``negatives``: set name → column. Rows are skipped per set (a row may lack one set)."""
    correct_by_set, negative_by_set, skipped = {}, {}, {}
    for set_name, column in negatives.items():
        table = read_score_columns(path, [correct, column])
        _need_rows(path, table, 1)
        correct_by_set[set_name], negative_by_set[set_name] = table[correct], table[column]
        skipped[set_name] = table.skipped
    return experiments.hard_negative_experiment(
        {correct: (correct_by_set, negative_by_set)},
        _table_signature("hard_negatives", path, [correct, *negatives.values()]), out_dir=out_dir,
        extra={"skipped": skipped})


def ranking_from_table(path, systems: Sequence[str], quality: Sequence[float], out_dir=None, seed: int = 0,
                       n_boot: int = 1000, n_trials: int = 10000) -> dict:
    """One column of per-item scores per system (same items), and each system's known quality."""
    if len(systems) != len(quality):
        raise InputError(None, f"{len(systems)} systems but {len(quality)} quality values")
    table = read_score_columns(path, list(systems))
    _need_rows(path, table)
    return experiments.ranking_experiment(
        {"metric": {s: table[s] for s in systems}}, dict(zip(systems, map(float, quality))),
        _table_signature("ranking", path, systems, seed=seed), out_dir=out_dir, n_boot=n_boot,
        n_trials=n_trials, seed=seed, extra={"skipped": table.skipped})


def correlation_from_table(path, metrics: Sequence[str], human: str, out_dir=None, n_boot: int = 1000, seed: int = 0) -> dict:
    """Each metric column against the human column; rows skipped per metric."""
    series, skipped = {}, {}
    for metric in metrics:
        table = read_score_columns(path, [metric, human])
        _need_rows(path, table, 3)
        series[metric] = (table[metric], table[human])
        skipped[metric] = table.skipped
    result = experiments.correlation_experiment(
        series, _table_signature("correlation", path, [*metrics, human], boot=n_boot, seed=seed),
        out_dir=out_dir, n_boot=n_boot, seed=seed, extra={"skipped": skipped[metrics[0]], "skipped_by_metric": skipped})
    return result


def generalization_from_table(path, row: str, column: str, correct: str, random: str, out_dir=None) -> dict:
    """Long table: one line per item with its model/train-set label, test-set label and scores."""
    table = read_score_columns(path, [correct, random], text=[row, column])
    _need_rows(path, table)
    cells: dict[tuple[str, str], tuple[list, list]] = {}
    for r, c, x, y in zip(table.extra[row], table.extra[column], table[correct], table[random]):
        cells.setdefault((r, c), ([], []))
        cells[(r, c)][0].append(x)
        cells[(r, c)][1].append(y)
    arrays = {key: (np.asarray(a), np.asarray(b)) for key, (a, b) in cells.items()}
    return experiments.generalization_experiment(
        arrays, _table_signature("generalization", path, [row, column, correct, random]), out_dir=out_dir,
        extra={"skipped": table.skipped}, row_label=row)


# --------------------------------------------------------------------------- with a model
def resolve_pairs(n_items: int, seed: int, pairs_file=None, save_to=None, ids=None) -> np.ndarray:
    """Reuse saved random pairs when given, else draw them from ``seed`` (and save if asked)."""
    pairs = load_pairs(pairs_file, n_items) if pairs_file else draw_random_pairs(n_items, seed)
    if save_to:
        save_pairs(save_to, pairs, seed=None if pairs_file else seed, ids=ids)
    return pairs


def baseline_series(back_translations: Mapping[str, Sequence[str]], texts: Sequence[str], pairs: np.ndarray,
                    rouge_variant: str = DEFAULT_ROUGE, tokenize: str = "13a") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Text baselines on the correct pairs (bt_k, text_k) and random pairs (bt_i, text_j).

    ``back_translations``: system name → back-translation of video k (aligned with ``texts``);
    with one system the metric names are plain (``BLEU-4``), else suffixed (``BLEU-4 [name]``).
    """
    series = {}
    for system, bt in back_translations.items():
        if len(bt) != len(texts):
            raise InputError(None, f"back-translations {system!r}: {len(bt)} lines for {len(texts)} references")
        correct = text_baselines(list(bt), list(texts), rouge_variant, tokenize)
        random = text_baselines([bt[i] for i, _ in pairs], [texts[j] for _, j in pairs], rouge_variant, tokenize)
        suffix = "" if len(back_translations) == 1 else f" [{system}]"
        for metric in correct:
            series[metric + suffix] = (correct[metric], random[metric])
    return series


def dtw_series(generated: Sequence, reference_poses: Sequence, pairs: np.ndarray, progress: bool = False):
    """-DTW-MJE on correct (generated k vs reference pose k) and random (i vs j) pairs."""
    from .pose_baselines import dtw_scores

    correct = dtw_scores(generated, reference_poses, progress)
    random = dtw_scores([generated[i] for i, _ in pairs], [reference_poses[j] for _, j in pairs], progress)
    return correct, random


def discrimination_with_model(scorer, hyps: Sequence, texts: Sequence[str], ids: Sequence[str], seed: int = 0,
                              pairs_file=None, save_pairs_to=None, back_translations=None, reference_poses=None,
                              out_dir=None, rouge_variant: str = DEFAULT_ROUGE, name: str = "discrimination",
                              title: str = "Correct vs random", tokenize: str = "13a") -> dict:
    """SiLVERScore correct vs random, plus the baselines on the same pairs when their inputs are given."""
    pairs = resolve_pairs(len(texts), seed, pairs_file, save_pairs_to, list(ids))
    loaded = scoring.preload(scorer, hyps)
    series = {"SiLVERScore": scoring.score_correct_and_random(scorer, loaded, texts, pairs)}
    if back_translations:
        series.update(baseline_series(back_translations, texts, pairs, rouge_variant, tokenize))
    if reference_poses is not None:
        series["-DTW-MJE"] = dtw_series(loaded, reference_poses, pairs)
    signature = f"{scorer.signature}|meta:{name}|pairs-seed:{'file' if pairs_file else seed}|bins:50"
    extra = {"n": len(texts), "seed": seed, "pairs": str(save_pairs_to or pairs_file or "")}
    own = own_pair_mask(pairs)
    return experiments.discrimination_experiment(series, signature, out_dir=out_dir, name=name, extra=extra, title=title,
                                                 own={metric: own for metric in series})


def robustness_with_model(scorer, hyps: Sequence, texts: Sequence[str], rewritten: Sequence[str], kind: str = "reorder",
                          back_translations=None, out_dir=None, rouge_variant: str = DEFAULT_ROUGE,
                          tokenize: str = "13a") -> dict:
    """S(video_k, text_k) vs S(video_k, rewritten_k), plus text baselines when back-translations are given."""
    loaded = scoring.preload(scorer, hyps)
    series = {"SiLVERScore": (scoring.score_paired(scorer, loaded, texts), scoring.score_paired(scorer, loaded, rewritten))}
    for system, bt in (back_translations or {}).items():
        original = text_baselines(list(bt), list(texts), rouge_variant, tokenize)
        changed = text_baselines(list(bt), list(rewritten), rouge_variant, tokenize)
        suffix = "" if len(back_translations) == 1 else f" [{system}]"
        for metric in original:
            series[metric + suffix] = (original[metric], changed[metric])
    signature = f"{scorer.signature}|meta:{kind}|bins:50"
    return experiments.robustness_experiment(series, signature, out_dir=out_dir, name=kind, extra={"n": len(texts)})
