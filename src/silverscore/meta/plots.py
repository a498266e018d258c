"""PNG figures for the meta-evaluation (matplotlib's object API: no display, no pyplot state).

Each function draws one figure and writes it atomically; none returns anything to show. Figures
are deliberately plain (histograms, ROC curves, box plots, a heat map) so they stay readable in a
Markdown report and in the README.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from ..io_utils import atomic_write
from .measures import minmax

_DPI = 110


def _save(fig: Figure, path: str | Path, tight: bool = True) -> Path:
    path = Path(path)
    if tight:
        fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=_DPI)
    return path


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 4)
    return (n + cols - 1) // cols, cols


def correct_vs_random_histograms(series: Mapping[str, tuple[np.ndarray, np.ndarray]], path, title: str = "",
                                 labels: tuple[str, str] = ("correct", "random"), joint: bool = True) -> Path:
    """One panel per metric: density histograms (50 bins on [0, 1]) of the two normalised series,
    normalised exactly as the overlap is computed (jointly, or each on its own for robustness)."""
    rows, cols = _grid(len(series))
    fig = Figure(figsize=(3.4 * cols, 2.7 * rows))
    for index, (name, (a, b)) in enumerate(series.items()):
        ax = fig.add_subplot(rows, cols, index + 1)
        a, b = np.asarray(a, float), np.asarray(b, float)
        if joint:
            both = np.concatenate([a, b])
            a_unit, b_unit = minmax(a, both.min(), both.max()), minmax(b, both.min(), both.max())
        else:
            a_unit, b_unit = minmax(a), minmax(b)
        # the very histograms of the overlap: 50 bins on [0, 1], density-normalised
        h_a, edges = np.histogram(a_unit, bins=50, range=(0.0, 1.0), density=True)
        h_b, _ = np.histogram(b_unit, bins=50, range=(0.0, 1.0), density=True)
        ax.stairs(h_a, edges, fill=True, alpha=0.55, color="tab:blue", label=labels[0])
        ax.stairs(h_b, edges, fill=True, alpha=0.55, color="tab:orange", label=labels[1])
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("normalised score", fontsize=8)
        ax.tick_params(labelsize=7)
        if index == 0:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    # fixed margins instead of tight_layout: many panels make tight_layout the slowest step
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08 if rows > 1 else 0.16, top=0.9 if title else 0.95,
                        wspace=0.25, hspace=0.55)
    return _save(fig, path, tight=False)


def roc_curves(series: Mapping[str, tuple[np.ndarray, np.ndarray]], path, title: str = "") -> Path:
    """ROC curves of positive (first) vs negative (second) series, one line per metric."""
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    for name, (pos, neg) in series.items():
        pos, neg = np.asarray(pos, float), np.asarray(neg, float)
        labels = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
        fpr, tpr, _ = roc_curve(labels, np.concatenate([pos, neg]))
        ax.plot(fpr, tpr, label=name, linewidth=1.3)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=7, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def group_boxplots(groups: Mapping[str, Mapping[str, np.ndarray]], path, title: str = "",
                   ylabel: str = "score") -> Path:
    """One panel per metric, one box per group (e.g. intensity none/low/high)."""
    rows, cols = _grid(len(groups))
    fig = Figure(figsize=(3.4 * cols, 2.9 * rows))
    for index, (metric, by_group) in enumerate(groups.items()):
        ax = fig.add_subplot(rows, cols, index + 1)
        names = list(by_group)
        ax.boxplot([np.asarray(by_group[g], float) for g in names], showmeans=True)
        ax.set_xticks(range(1, len(names) + 1))
        ax.set_xticklabels(names, fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def ranking_scatter(quality: Sequence[float], scores: Mapping[str, Sequence[float]], names: Sequence[str],
                    path, title: str = "") -> Path:
    """Corpus score of each metric (min-max scaled per metric) for the systems in order of known
    quality; systems are evenly spaced and named on the axis so that many of them stay readable."""
    order = np.argsort(np.asarray(quality, float), kind="stable")
    positions = np.arange(len(order))
    fig = Figure(figsize=(max(5.0, 2.5 + 0.42 * len(order)), 4.4))
    ax = fig.add_subplot(1, 1, 1)
    for metric, values in scores.items():
        values = np.asarray(values, float)[order]
        ax.plot(positions, minmax(values), marker="o", markersize=4, linewidth=1, label=metric)
    ax.set_xticks(positions)
    ax.set_xticklabels([f"{names[i]} ({quality[i]:.2f})" for i in order], rotation=55, ha="right", fontsize=7)
    ax.set_xlabel("systems, worst to best known quality")
    ax.set_ylabel("corpus score (min-max per metric)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def heatmap(matrix: np.ndarray, row_names: Sequence[str], col_names: Sequence[str], path, title: str = "",
            vmin: float = 0.5, vmax: float = 1.0) -> Path:
    """A labelled heat map with the value printed in each cell (e.g. train × test AUC)."""
    matrix = np.asarray(matrix, float)
    fig = Figure(figsize=(1.2 + 1.1 * len(col_names), 1.0 + 0.6 * len(row_names)))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(matrix, vmin=vmin, vmax=vmax, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(col_names)))
    ax.set_xticklabels(col_names, fontsize=8, rotation=30)
    ax.set_yticks(range(len(row_names)))
    ax.set_yticklabels(row_names, fontsize=8)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.3f}", ha="center", va="center", fontsize=8, color="white")
    fig.colorbar(image, ax=ax)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)
