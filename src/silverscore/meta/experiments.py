"""Experiments = analysis + JSON result + Markdown section + figures, for any set of metrics.

Each ``*_experiment`` function takes already-computed scores for one or more metrics (the first
metric is the *primary* one, whose numbers are also put at the top level of the result so that
``result["auc"]`` always works), runs the analysis of :mod:`.analyses`, and – when ``out_dir`` is
given – writes ``<name>.json``, ``<name>.md`` and ``<name>_*.png`` there.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from . import analyses, plots
from .report import fmt, markdown_table, write_experiment

Pair = tuple[np.ndarray, np.ndarray]


def _finish(name: str, result: dict, markdown: str, figures: list[Path], out_dir) -> dict:
    if out_dir is not None:
        result["outputs"] = {k: str(v) for k, v in write_experiment(out_dir, name, result, markdown, figures).items()}
        result["outputs"]["figures"] = [str(f) for f in figures]
    return result


def discrimination_experiment(series: Mapping[str, Pair], signature: str, out_dir=None, name: str = "discrimination",
                              extra: dict | None = None, title: str = "Correct vs random",
                              own: Mapping[str, np.ndarray] | None = None) -> dict:
    """Correct vs random for each metric; top level = primary metric's ``auc``/``overlap``.

    ``own`` (optional): for the series whose random pairs are known, which of them are an item's
    own pair (:func:`silverscore.meta.pairs.own_pair_mask`); their count and the AUC without
    them are added to those metrics, and to the top level and the text for the primary one."""
    own = own or {}
    metrics = {metric: analyses.discrimination(c, r, own.get(metric)) for metric, (c, r) in series.items()}
    primary = next(iter(metrics))
    result = {"experiment": name, "primary": primary, "auc": metrics[primary]["auc"],
              "overlap": metrics[primary]["overlap"], "metrics": metrics, "signature": signature, **(extra or {})}
    rows = [[m, fmt(s["overlap"], 2), fmt(s["auc"], 4), fmt(s["correct"]["mean"], 2), fmt(s["random"]["mean"], 2)]
            for m, s in metrics.items()]
    markdown = (f"## {name}\n\n{title}: overlap % (joint min-max, 50 bins; lower is better) and ROC AUC "
                f"(higher is better), n = {metrics[primary]['correct']['n']} items.\n\n"
                + markdown_table(["metric", "overlap %", "AUC", "mean correct", "mean random"], rows))
    if "own_pairs" in metrics[primary]:
        count = metrics[primary]["own_pairs"]
        result["own_pairs"] = count
        result["auc_without_own_pairs"] = metrics[primary]["auc_without_own_pairs"]
        if count:
            what = "is an item's own correct pair" if count == 1 else "are items' own correct pairs"
            markdown += (f"\n{count} of the {metrics[primary]['random']['n']} random pairs {what} "
                         "(spec §5 draws a random pair's video and text independently); "
                         f"without {'it' if count == 1 else 'them'} {primary}'s AUC is "
                         f"{fmt(result['auc_without_own_pairs'], 4)}.\n")
    figures = []
    if out_dir is not None:
        out = Path(out_dir)
        figures.append(plots.correct_vs_random_histograms(series, out / f"{name}_hist.png", title=title))
        figures.append(plots.roc_curves(series, out / f"{name}_roc.png", title=f"{title}: ROC"))
    return _finish(name, result, markdown, figures, out_dir)


def robustness_experiment(series: Mapping[str, Pair], signature: str, out_dir=None, name: str = "reorder",
                          extra: dict | None = None) -> dict:
    """Original vs rewritten references per metric (each series normalised on its own)."""
    metrics = {metric: analyses.robustness(o, r) for metric, (o, r) in series.items()}
    primary = next(iter(metrics))
    result = {"experiment": name, "primary": primary, "auc": metrics[primary]["auc"],
              "overlap": metrics[primary]["overlap"], "metrics": metrics, "signature": signature, **(extra or {})}
    rows = [[m, fmt(s["overlap"], 2), fmt(s["auc"], 4), fmt(s["original"]["mean"], 2), fmt(s["rewritten"]["mean"], 2)]
            for m, s in metrics.items()]
    done = {"reorder": "reordered", "paraphrase": "paraphrased"}.get(name, name)
    markdown = (f"## {name}\n\nOriginal vs {done} references, each series min-max normalised on its own "
                "(spec §5): overlap % (higher = more robust) and AUC on the normalised series (0.5 = robust); "
                "raw means shown because per-series normalisation hides a constant drop.\n\n"
                + markdown_table(["metric", "overlap %", "AUC", "mean original", "mean rewritten"], rows))
    figures = []
    if out_dir is not None:
        figures.append(plots.correct_vs_random_histograms(series, Path(out_dir) / f"{name}_hist.png",
                                                          title=f"original vs {name}", labels=("original", name),
                                                          joint=False))
    return _finish(name, result, markdown, figures, out_dir)


def prosody_experiment(series: Mapping[str, tuple[np.ndarray, Sequence[str]]], signature: str, out_dir=None,
                       order: Sequence[str] = ("none", "low", "high"), extra: dict | None = None) -> dict:
    """Score distributions by intensity group per metric, shifts and Kruskal–Wallis."""
    metrics = {metric: analyses.prosody(s, g, order) for metric, (s, g) in series.items()}
    primary = next(iter(metrics))
    result = {"experiment": "prosody", "primary": primary, **metrics[primary], "metrics": metrics,
              "signature": signature, **(extra or {})}
    rows = []
    for metric, stats in metrics.items():
        for group, g in stats["groups"].items():
            rows.append([metric, group, str(g["n"]), fmt(g["mean"], 2), fmt(g["shift"], 2), fmt(g["shift_in_sd"], 3),
                         fmt(stats["kruskal_wallis"]["p_value"], 4)])
    markdown = ("## prosody\n\nScores of the correct pairs grouped by intensity; shift = group mean − "
                f"'{metrics[primary]['baseline_group']}' mean (also in overall SDs); Kruskal–Wallis p (small p = "
                "the metric moves with intensity).\n\n"
                + markdown_table(["metric", "group", "n", "mean", "shift", "shift/SD", "KW p"], rows))
    figures = []
    if out_dir is not None:
        grouped = {}
        for metric, (scores, groups) in series.items():
            scores = np.asarray(scores, float)
            labels = np.asarray([str(g) for g in groups])
            grouped[metric] = {g: scores[labels == g] for g in metrics[metric]["groups"]}
        figures.append(plots.group_boxplots(grouped, Path(out_dir) / "prosody_groups.png", title="score by intensity"))
    return _finish("prosody", result, markdown, figures, out_dir)


def hard_negative_experiment(series: Mapping[str, tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]]],
                             signature: str, out_dir=None, extra: dict | None = None) -> dict:
    """Correct vs each hard-negative set per metric; top level: ``<set>.auc`` of the primary."""
    metrics = {metric: analyses.hard_negatives(c, n) for metric, (c, n) in series.items()}
    primary = next(iter(metrics))
    result = {"experiment": "hard_negatives", "primary": primary, **metrics[primary], "metrics": metrics,
              "signature": signature, **(extra or {})}
    sets = list(metrics[primary])
    rows = [[metric] + [f"{fmt(stats[s]['auc'], 3)} / {fmt(stats[s]['overlap'], 1)}" if s in stats else "–" for s in sets]
            for metric, stats in metrics.items()]
    markdown = ("## hard_negatives\n\nCorrect pair vs a video that signs a subtly wrong sentence, scored against the "
                "same reference: AUC / overlap % per set (AUC 1 = the wrong signing always scores lower).\n\n"
                + markdown_table(["metric", *sets], rows))
    figures = []
    if out_dir is not None:
        first_correct, first_negative = series[primary]
        panels = {s: (first_correct[s], first_negative[s]) for s in sets}
        figures.append(plots.correct_vs_random_histograms(panels, Path(out_dir) / "hard_negatives_hist.png",
                                                          title=f"{primary}: correct vs hard negative",
                                                          labels=("correct", "hard negative")))
        figures.append(plots.roc_curves(panels, Path(out_dir) / "hard_negatives_roc.png", title=f"{primary}: hard negatives"))
    return _finish("hard_negatives", result, markdown, figures, out_dir)


def ranking_experiment(series: Mapping[str, Mapping[str, np.ndarray]], quality: Mapping[str, float], signature: str,
                       out_dir=None, n_boot: int = 1000, n_trials: int = 10000, seed: int = 0,
                       extra: dict | None = None) -> dict:
    """Kendall τ between corpus scores and known quality, plus neighbour significance, per metric."""
    metrics = {metric: analyses.ranking(systems, quality, n_boot=n_boot, n_trials=n_trials, seed=seed)
               for metric, systems in series.items()}
    primary = next(iter(metrics))
    result = {"experiment": "ranking", "primary": primary, "kendall_tau": metrics[primary]["kendall_tau"],
              **{k: v for k, v in metrics[primary].items() if k != "kendall_tau"}, "metrics": metrics,
              "signature": signature, "seed": seed, **(extra or {})}
    names = list(metrics[primary]["systems"])
    rows = [[metric, fmt(stats["kendall_tau"], 3),
             f"{sum(e.get('correct_order', False) for e in stats['neighbours'])}/{len(stats['neighbours'])}",
             f"{sum(e.get('correct_order', False) and e.get('randomization_p', 1) < 0.05 for e in stats['neighbours'])}"
             f"/{len(stats['neighbours'])}"]
            for metric, stats in metrics.items()]
    system_rows = [[n, fmt(quality[n], 3)] + [fmt(stats["systems"][n]["corpus_score"], 2) for stats in metrics.values()]
                   for n in names]
    sig_rows = [[f"{e['worse']} < {e['better']}"] + [fmt(next((x.get("randomization_p") for x in stats["neighbours"]
                                                               if x["worse"] == e["worse"]), None), 4)
                                                     for stats in metrics.values()]
                for e in metrics[primary]["neighbours"]]
    markdown = ("## ranking\n\nCorpus score of each system against its known quality: Kendall τ, and how many "
                "neighbouring systems (adjacent in quality) each metric puts in the right order (and significantly "
                "so, approximate randomization p < 0.05).\n\n"
                + markdown_table(["metric", "Kendall τ", "neighbours in order", "…significant"], rows)
                + "\nCorpus scores (systems from worst to best known quality):\n\n"
                + markdown_table(["system", "quality", *metrics], system_rows)
                + "\nApproximate-randomization p between neighbours:\n\n"
                + markdown_table(["pair", *metrics], sig_rows))
    figures = []
    if out_dir is not None:
        corpus = {m: [s["systems"][n]["corpus_score"] for n in names] for m, s in metrics.items()}
        figures.append(plots.ranking_scatter([quality[n] for n in names], corpus, names,
                                             Path(out_dir) / "ranking.png", title="corpus score vs system quality"))
    return _finish("ranking", result, markdown, figures, out_dir)


def correlation_experiment(series: Mapping[str, Pair], signature: str, out_dir=None, n_boot: int = 1000, seed: int = 0,
                           extra: dict | None = None) -> dict:
    """Kendall / Spearman / Pearson with bootstrap CIs between each metric and human ratings."""
    metrics = {metric: analyses.correlation(m, h, n_boot=n_boot, seed=seed) for metric, (m, h) in series.items()}
    primary = next(iter(metrics))
    result = {"experiment": "correlation", "primary": primary, **metrics[primary], "metrics": metrics,
              "signature": signature, "seed": seed, **(extra or {})}

    def cell(c):
        return f"{fmt(c['value'], 3)} [{fmt(c['ci'][0], 3)}, {fmt(c['ci'][1], 3)}]"

    rows = [[metric, str(s["n"]), cell(s["kendall"]), cell(s["spearman"]), cell(s["pearson"])] for metric, s in metrics.items()]
    rater = (extra or {}).get("human", "human ratings")
    markdown = (f"## correlation\n\nAgreement with {rater}, with 95 % percentile-bootstrap intervals "
                f"({n_boot} resamples of items, seed {seed}).\n\n"
                + markdown_table(["metric", "n", "Kendall τ", "Spearman ρ", "Pearson r"], rows))
    return _finish("correlation", result, markdown, [], out_dir)


def generalization_experiment(cells: Mapping[tuple[str, str], Pair], signature: str, out_dir=None,
                              extra: dict | None = None, row_label: str = "model",
                              own: Mapping[tuple[str, str], np.ndarray] | None = None) -> dict:
    """AUC matrix (row = model / training set, column = test set); ``own`` as in
    :func:`silverscore.meta.analyses.generalization` (each cell's own-pair flags)."""
    stats = analyses.generalization(cells, own)
    result = {"experiment": "generalization", **stats, "signature": signature, **(extra or {})}
    rows = [[r] + [fmt(stats["auc"][r].get(c), 4) for c in stats["columns"]] for r in stats["rows"]]
    markdown = ("## generalization\n\nCorrect-vs-random AUC of each model (row) on each test set (column).\n\n"
                + markdown_table([row_label, *stats["columns"]], rows))
    with_own = [(r, c) for r in stats["rows"] for c in stats["columns"] if stats.get("own_pairs", {}).get(r, {}).get(c)]
    if with_own:
        notes = "; ".join(f"{r} on {c}: {stats['own_pairs'][r][c]}, AUC {fmt(stats['auc_without_own_pairs'][r][c], 4)} "
                          "without" for r, c in with_own)
        markdown += ("\nRandom pairs that are an item's own correct pair (spec §5 draws video and text "
                     f"independently; on a small test set one moves the AUC by up to 1/n): {notes}.\n")
    figures = []
    if out_dir is not None:
        matrix = np.asarray([[stats["auc"][r].get(c, np.nan) for c in stats["columns"]] for r in stats["rows"]], float)
        figures.append(plots.heatmap(matrix, stats["rows"], stats["columns"], Path(out_dir) / "generalization.png",
                                     title="AUC: model × test set"))
    return _finish("generalization", result, markdown, figures, out_dir)


def paper_experiment(paper_dir, out_dir=None) -> dict:
    """The authors' PHOENIX-14T table recomputed from their per-pair scores, plus the BLEU and
    ROUGE reproduction checks (see :mod:`.paper`)."""
    from . import paper

    paper_dir = Path(paper_dir)
    series = paper.paper_series(paper_dir)
    table = paper.reproduce_paper_table(paper_dir)
    bleu = paper.reproduce_bleu(paper_dir / paper.BT_FILE)
    rouge = paper.rouge_variant_agreement(paper_dir / paper.BT_FILE)
    from .report import meta_signature

    signature = meta_signature("paper", data="phoenix14t-released", bins=50)
    result = discrimination_experiment(series, signature, out_dir=None, name="paper")
    result.update({"table": table, "all_match_published": all(r["matches"] for r in table),
                   "bleu_reproduction": bleu, "rouge_variants": rouge})
    rows = [[r["metric"], fmt(r["overlap"], 2), fmt(r["published_overlap"], 2), fmt(r["auc"], 4),
             fmt(r["published_auc"], 4), "yes" if r["matches"] else "NO"] for r in table]
    bleu_rows = [[k, f"{v['max_abs_diff_same']:.1e}", f"{v['max_abs_diff_different']:.1e}"]
                 for k, v in bleu["orders"].items()]
    rouge_rows = [[k, f"{v['max_abs_diff']:.2e}", f"{v['mean_abs_diff']:.2e}", fmt(100 * v["share_within_1e-6"], 1),
                   fmt(v["pearson"], 6)] for k, v in rouge.items()]
    markdown = ("## paper\n\nPHOENIX-14T correct vs random, recomputed from the authors' released per-pair scores "
                f"({table[0]['n']} items) with the spec §5 protocol, beside the published values.\n\n"
                + markdown_table(["metric", "overlap %", "published", "AUC", "published"], [r[:5] for r in rows])
                + "\nOur sacrebleu BLEU-n (no effective order, no smoothing, whitespace tokens) vs the authors' "
                "columns, max abs difference over all items:\n\n"
                + markdown_table(["metric", "correct pairs", "random pairs"], bleu_rows)
                + "\nROUGE-L variants vs the authors' ROUGE column (all correct and random pairs):\n\n"
                + markdown_table(["variant", "max abs diff", "mean abs diff", "% within 1e-6", "Pearson"], rouge_rows))
    figures = []
    if out_dir is not None:
        out = Path(out_dir)
        figures.append(plots.correct_vs_random_histograms(series, out / "paper_hist.png",
                                                          title="PHOENIX-14T (authors' scores): correct vs random"))
        figures.append(plots.roc_curves(series, out / "paper_roc.png", title="PHOENIX-14T: ROC"))
    return _finish("paper", result, markdown, figures, out_dir)
