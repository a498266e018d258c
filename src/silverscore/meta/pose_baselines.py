"""Pose baseline: DTW mean joint error between a generated and a reference pose sequence.

This is the usual pose-space metric of sign language production papers: align the two sequences
in time with dynamic time warping (the generated signing may be faster or slower), then average
the per-frame joint error along the alignment. The alignment itself comes from ``dtw-python``
(a maintained DTW implementation that accepts a precomputed cost matrix); the cost of matching
frame i to frame j is the mean Euclidean distance over the joints present in both frames.

Lower is better; where the meta-evaluation needs "higher = better" (AUC, ranking) the score used
is the negated error, named ``-DTW-MJE``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..inputs.poses import PoseSequence, as_pose_sequence

def frame_cost_matrix(a: PoseSequence, b: PoseSequence) -> np.ndarray:
    """[T_a, T_b] mean joint distance between every frame pair (joints missing in either ignored).

    A frame pair with no joint in common costs the largest finite cost of the matrix, so DTW
    avoids it without producing NaN.
    """
    if a.data.shape[1] != b.data.shape[1]:
        raise ValueError(f"different keypoint layouts: {a.data.shape[1]} vs {b.data.shape[1]} joints")
    # Per joint, |a − b|² = |a|² + |b|² − 2·a·b as one batched matrix product [K, T_a, T_b]:
    # an order of magnitude faster than broadcasting the differences, exact to ~1e-8 in float64.
    xa = np.ascontiguousarray(a.data.astype(np.float64).transpose(1, 0, 2))  # [K, T_a, 3]
    xb = np.ascontiguousarray(b.data.astype(np.float64).transpose(1, 0, 2))  # [K, T_b, 3]
    squared = (xa**2).sum(-1)[:, :, None] + (xb**2).sum(-1)[:, None, :] - 2.0 * np.matmul(xa, xb.transpose(0, 2, 1))
    dist = np.sqrt(np.maximum(squared, 0.0))  # [K, T_a, T_b]
    both = (a.confidence > 0).T[:, :, None] & (b.confidence > 0).T[:, None, :]
    count = both.sum(axis=0)
    total = np.where(both, dist, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cost = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if np.isnan(cost).any():
        finite = cost[np.isfinite(cost)]
        cost = np.where(np.isnan(cost), finite.max() if finite.size else 0.0, cost)
    return cost


def dtw_mean_joint_error(generated, reference) -> float:
    """DTW-aligned mean joint error: the mean frame cost along the optimal warping path."""
    from dtw import dtw  # dtw-python, imported only when a pose baseline is asked for

    cost = frame_cost_matrix(as_pose_sequence(generated), as_pose_sequence(reference))
    alignment = dtw(cost, step_pattern="symmetric1", keep_internals=False)
    return float(cost[alignment.index1, alignment.index2].mean())


def dtw_scores(generated: Sequence, reference: Sequence, progress: bool = False) -> np.ndarray:
    """Negated DTW mean joint error of each (generated k, reference k) pair: higher = closer."""
    from tqdm.auto import tqdm

    if len(generated) != len(reference):
        raise ValueError(f"{len(generated)} generated but {len(reference)} reference pose sequences")
    out = np.empty(len(generated))
    for k in tqdm(range(len(generated)), desc="DTW", disable=not progress, leave=False):
        out[k] = -dtw_mean_joint_error(generated[k], reference[k])
    return out
