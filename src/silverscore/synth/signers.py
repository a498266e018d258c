"""Synthetic signers: who signs changes the pose but never the meaning.

A signer is a deterministic function of its id (``"train-03"``, ``"test-01"``), so a split's
signers are fixed across seeds and test signers can never appear in training: their ids differ.
"""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

#: Default number of signers per split (train sees many bodies, test has unseen ones).
DEFAULT_SIGNERS = {"train": 12, "dev": 3, "test": 4}


@dataclasses.dataclass(frozen=True)
class Signer:
    """Body and style of one synthetic signer."""

    id: str
    scale: float  # overall body size (1 = average adult)
    shoulder_width: float  # metres
    arm_ratio: float  # arm length relative to the average for this body size
    head_scale: float
    hand_scale: float
    left_handed: bool
    tempo: float  # duration factor: > 1 signs more slowly
    jitter: float  # keypoint noise, pixels (standard deviation)
    missing_rate: float  # expected hand dropouts per second
    camera_dx: float  # pixels
    camera_dy: float  # pixels
    zoom: float
    headshake_amplitude: float  # radians of yaw at the peak of a negative head shake
    headshake_rate: float  # shakes per second

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def make_signer(signer_id: str) -> Signer:
    """The signer with this id (same id, same signer, everywhere)."""
    rng = np.random.default_rng(_seed("signer:" + signer_id))
    scale = float(rng.uniform(0.88, 1.12))
    return Signer(
        id=signer_id,
        scale=scale,
        shoulder_width=float(0.38 * scale * rng.uniform(0.92, 1.08)),
        arm_ratio=float(rng.uniform(0.94, 1.06)),
        head_scale=float(rng.uniform(0.92, 1.08)),
        hand_scale=float(scale * rng.uniform(0.92, 1.08)),
        left_handed=bool(rng.random() < 0.2),
        tempo=float(rng.uniform(0.8, 1.3)),
        jitter=float(rng.uniform(0.5, 1.6)),
        missing_rate=float(rng.uniform(0.0, 0.25)),
        camera_dx=float(rng.uniform(-20, 20)),
        camera_dy=float(rng.uniform(-15, 15)),
        zoom=float(rng.uniform(0.9, 1.08)),
        headshake_amplitude=float(rng.uniform(0.26, 0.38)),
        headshake_rate=float(rng.uniform(2.2, 3.0)),
    )


def signer_ids(split: str, count: int | None = None) -> list[str]:
    """Ids of a split's signers: ``<split>-00``, ``<split>-01``, ... (disjoint across splits)."""
    count = DEFAULT_SIGNERS[split] if count is None else count
    return [f"{split}-{i:02d}" for i in range(count)]
