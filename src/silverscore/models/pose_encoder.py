"""Pose encoder: from a skeleton sequence to clip tokens, the pose counterpart of I3D + CiCo's visual tower.

Two halves with different jobs:

* :class:`PoseNormalizer` (numpy, per item, no learnt weights) turns raw keypoints into
  per-frame features that do not depend on who signs or where the camera stood: coordinates
  centred on the mid-shoulder point and divided by the shoulder width (median over the
  sequence, so a jittery frame does not move everything), hand points also relative to their
  wrist and scaled by the hand's size (so handshape is seen apart from location), frame-to-frame
  velocities (movement is half of a sign's identity), and the confidence itself. Missing points
  (confidence below a threshold) are zeroed in every channel, so the network sees "missing", not
  a wild coordinate. Sequences are resampled to the model's frame rate first, so a 50 fps output
  is windowed like the 25 fps training data.
* :class:`PoseEncoder` (torch) embeds each frame with a small MLP, cuts the sequence into
  overlapping windows of ``window`` frames every ``stride`` frames (like I3D's 16-frame clips;
  the last window is moved back to end on the final frame; at most ``max_windows``, sampled
  evenly beyond), turns each window into one token by a linear map of its concatenated frames
  (a temporal convolution of kernel ``window``: it sees the trajectory's shape, not just its
  mean), then runs a small pre-LN transformer over the window tokens and projects to the joint
  space. Padding is masked everywhere, so an item's tokens never depend on the batch.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from ..inputs.poses import PoseSequence

# MediaPipe Holistic names used to find the reference points when the source names its keypoints.
LEFT_SHOULDER = "POSE_LANDMARKS:LEFT_SHOULDER"
RIGHT_SHOULDER = "POSE_LANDMARKS:RIGHT_SHOULDER"
HAND_COMPONENTS = ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
# MediaPipe Pose points below the hips carry nothing about signing.
LOWER_BODY_POINTS = {
    "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL",
    "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
}


@dataclass
class PoseLayout:
    """Which keypoints a model reads, and where its reference points are among them.

    ``names`` (``COMPONENT:POINT``) are matched against a file's names when it has them, so a
    richer file (full face mesh) works with a model trained on a subset. Arrays without names
    must have exactly ``len(names)`` points in this order.
    """

    names: list[str]
    shoulders: tuple[int, int]
    hands: list[list[int]] = field(default_factory=list)  # per hand: wrist index first

    @classmethod
    def from_names(cls, all_names: Sequence[str], drop_lower_body: bool = True) -> "PoseLayout":
        names = [n for n in all_names if not (drop_lower_body and n.split(":", 1)[-1] in LOWER_BODY_POINTS)]
        index = {n: i for i, n in enumerate(names)}
        if LEFT_SHOULDER in index and RIGHT_SHOULDER in index:
            shoulders = (index[LEFT_SHOULDER], index[RIGHT_SHOULDER])
        else:
            raise ValueError("keypoint names lack POSE_LANDMARKS:LEFT_SHOULDER / RIGHT_SHOULDER")
        hands = []
        for component in HAND_COMPONENTS:
            members = [i for i, n in enumerate(names) if n.startswith(component + ":")]
            wrist = index.get(f"{component}:WRIST")
            if members and wrist is not None:
                hands.append([wrist] + [i for i in members if i != wrist])
        return cls(names, shoulders, hands)

    def to_dict(self) -> dict:
        return {"names": list(self.names), "shoulders": list(self.shoulders), "hands": [list(h) for h in self.hands]}

    @classmethod
    def from_dict(cls, d: dict) -> "PoseLayout":
        return cls(list(d["names"]), tuple(d["shoulders"]), [list(h) for h in d.get("hands", [])])


def position_columns(points: int) -> slice:
    """Columns of the normalised x, y, z of the ``points`` keypoints (point-major) in a frame's
    features; readers of the layout (the form head's noise floor) take it from here."""
    return slice(0, 3 * points)


def presence_columns(points: int) -> slice:
    """Columns of the keypoints' presence flags (1: confident, 0: absent), the last ``points``."""
    return slice(-points, None)


class PoseNormalizer:
    """Raw :class:`PoseSequence` → per-frame feature matrix ``[T', F]`` (float32), no learning.

    Feature layout per frame: positions (K×3, :func:`position_columns`), velocities (K×3),
    hand-local positions (Σ hand points × 3), presence flags (K, :func:`presence_columns`).
    """

    def __init__(self, layout: PoseLayout, fps: float = 25.0, min_confidence: float = 0.1):
        self.layout = layout
        self.fps = float(fps)
        self.min_confidence = float(min_confidence)
        self.num_points = len(layout.names)
        self.hand_points = sum(len(h) for h in layout.hands)

    @property
    def feature_dim(self) -> int:
        return self.num_points * 7 + self.hand_points * 3

    def select(self, pose: PoseSequence) -> tuple[np.ndarray, np.ndarray]:
        """The model's keypoints out of ``pose``, by name when possible."""
        if pose.keypoints is not None:
            index = {n: i for i, n in enumerate(pose.keypoints)}
            missing = [n for n in self.layout.names if n not in index]
            if not missing:
                cols = np.array([index[n] for n in self.layout.names])
                return pose.data[:, cols], pose.confidence[:, cols]
            if pose.data.shape[1] != self.num_points:
                raise ValueError(
                    f"pose lacks {len(missing)} keypoints the model needs (e.g. {missing[0]}) and has "
                    f"{pose.data.shape[1]} points instead of {self.num_points}"
                )
        elif pose.data.shape[1] != self.num_points:
            raise ValueError(f"pose has {pose.data.shape[1]} keypoints; this model reads {self.num_points} (or named keypoints)")
        return pose.data, pose.confidence

    def _resample(self, data: np.ndarray, conf: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
        if not fps or abs(fps - self.fps) / self.fps < 0.01:
            return data, conf
        frames = data.shape[0]
        new_frames = max(1, int(round(frames * self.fps / fps)))
        idx = np.minimum(np.round(np.arange(new_frames) * fps / self.fps).astype(int), frames - 1)
        return data[idx], conf[idx]

    def __call__(self, pose: PoseSequence) -> np.ndarray:
        data, conf = self.select(pose)
        data, conf = self._resample(data, conf, pose.fps)
        present = conf >= self.min_confidence  # [T, K]
        left, right = self.layout.shoulders
        both = present[:, left] & present[:, right]
        if both.any():
            mid = 0.5 * (data[both, left] + data[both, right])
            width = np.linalg.norm((data[both, left] - data[both, right])[:, :2], axis=-1)
            centre = np.median(mid, axis=0)
            scale = float(np.median(width))
        else:  # no shoulders anywhere: fall back to the spread of what is visible
            pts = data[present] if present.any() else data.reshape(-1, 3)
            centre = np.median(pts, axis=0)
            scale = float(np.std(pts[:, :2])) * 2.0
        scale = scale if np.isfinite(scale) and scale > 1e-6 else 1.0
        pos = (data - centre) / scale
        pos = np.where(present[..., None], pos, 0.0)
        vel = np.zeros_like(pos)
        both_frames = present[1:] & present[:-1]
        vel[1:] = np.where(both_frames[..., None], pos[1:] - pos[:-1], 0.0)
        hand_feats = []
        for hand in self.layout.hands:
            wrist, members = hand[0], np.array(hand)
            rel = data[:, members] - data[:, wrist : wrist + 1]
            ok = present[:, members] & present[:, wrist : wrist + 1]
            spread = np.linalg.norm(rel[:, 1:, :2], axis=-1)[ok[:, 1:]]
            hand_scale = float(np.median(spread)) if spread.size else 1.0
            hand_scale = hand_scale if hand_scale > 1e-6 else 1.0
            hand_feats.append(np.where(ok[..., None], rel / hand_scale, 0.0).reshape(len(data), -1))
        # in the order position_columns / presence_columns name
        feats = [pos.reshape(len(data), -1), vel.reshape(len(data), -1) * 5.0, *hand_feats, present.astype(np.float32)]
        return np.concatenate(feats, axis=1).astype(np.float32)


def window_starts(frames: int, window: int, stride: int, max_windows: int) -> np.ndarray:
    """Start frames of the clip windows: every ``stride``, the last moved back to end on the final
    frame, at most ``max_windows`` (evenly sampled, truncating like ``np.linspace(..., dtype=int)``)."""
    if frames <= window:
        starts = np.array([0])
    else:
        starts = np.arange(0, frames - window + 1, stride)
        if starts[-1] != frames - window:
            starts = np.append(starts, frames - window)
    if len(starts) > max_windows:
        starts = starts[np.linspace(0, len(starts) - 1, max_windows).astype(int)]
    return starts


@dataclass
class PoseEncoderConfig:
    feature_dim: int
    frame_dim: int = 64
    window: int = 16
    stride: int = 8
    max_windows: int = 64
    width: int = 192
    layers: int = 3
    heads: int = 4
    embed_dim: int = 256
    dropout: float = 0.1
    slot_weights: bool = False  # learn how much each window counts in the similarity's averages

    def to_dict(self) -> dict:
        return asdict(self)


class Packing:
    """Where the real rows of a padded ``[N, L]`` batch sit among its ``N·L`` flattened rows.

    Why: in a training batch about half of all frames, windows and text tokens are padding (the
    default recipe's videos fill 17 of 36 windows on average, its texts 12 of 30 tokens), and
    every token-wise layer (linear maps, layer norms, GELU, dropout) costs the same on a padded
    row as on a real one. Packing the real rows into ``[V, D]`` lets those layers skip the
    padding; only attention needs the padded ``[N, L]`` layout back, and only for its ``q·k``
    and ``attention·v`` products. The values are the same as the padded computation's up to
    float rounding (a matrix product over fewer rows may run other kernel code); dropout draws
    its masks over the packed rows instead, so the random stream differs.
    """

    def __init__(self, valid: torch.Tensor):
        self.n, self.length = (int(d) for d in valid.shape)
        self.valid = valid.bool()
        self.rows = self.valid.reshape(-1).nonzero().squeeze(1)

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, L, D]`` → the real rows ``[V, D]``."""
        return x.reshape(self.n * self.length, -1).index_select(0, self.rows)

    def unpack(self, flat: torch.Tensor) -> torch.Tensor:
        """Real rows ``[V, D]`` → ``[N, L, D]`` with zeros on padding."""
        out = flat.new_zeros(self.n * self.length, flat.shape[-1]).index_copy(0, self.rows, flat)
        return out.view(self.n, self.length, -1)

    def positions(self) -> torch.Tensor:
        """Each real row's position within its sequence ``[V]``."""
        return self.rows % self.length

    def gather_windows(self, frames: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """The real windows' concatenated frame rows ``[V, window·D]``, from each video's frame
        rows ``[N, T+1, D]`` (row ``T`` blank, for "no frame") and the window slots' frame indices
        ``[N, L, window]`` (``T`` where none): what the encoder and the form head project."""
        n, rows = frames.shape[0], frames.shape[1]
        flat = index + (torch.arange(n, device=frames.device) * rows)[:, None, None]
        return frames.reshape(n * rows, -1)[self.pack(flat)].flatten(1)


class TransformerBlock(nn.Module):
    """Pre-LN self-attention + MLP block with key padding masked (our own, so the maths does not
    switch to a fused fast path whose numerics depend on the padding of the batch).

    ``forward(x, valid)`` takes a padded ``[N, L, width]`` batch; with a :class:`Packing` it
    takes the real rows ``[V, width]`` instead and returns them, padding skipped."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.dropout = nn.Dropout(dropout)

    def _attend(self, qkv: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Padded ``[N, L, 3·width]`` queries, keys and values → attention output ``[N, L, width]``."""
        n, length, width = qkv.shape[0], qkv.shape[1], qkv.shape[2] // 3
        q, k, v = qkv.view(n, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(width // self.heads)
        scores = scores.masked_fill(~valid[:, None, None, :], float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        attn = self.dropout(attn)
        return (attn @ v).transpose(1, 2).reshape(n, length, width)

    def forward(self, x: torch.Tensor, valid: torch.Tensor, packing: Packing | None = None) -> torch.Tensor:
        if packing is None:
            y = self._attend(self.qkv(self.ln_1(x)), valid)
        else:
            y = packing.pack(self._attend(packing.unpack(self.qkv(self.ln_1(x))), packing.valid))
        x = x + self.dropout(self.out(y))
        x = x + self.dropout(self.mlp(self.ln_2(x)))
        return x


class PoseEncoder(nn.Module):
    """Frame features (padded batch) → window tokens in the joint space, with their mask."""

    def __init__(self, config: PoseEncoderConfig):
        super().__init__()
        self.config = config
        c = config
        self.frame_mlp = nn.Sequential(
            nn.Linear(c.feature_dim, 2 * c.frame_dim), nn.GELU(), nn.Linear(2 * c.frame_dim, c.frame_dim)
        )
        self.window_proj = nn.Linear(c.window * c.frame_dim, c.width)
        self.positional = nn.Parameter(torch.randn(c.max_windows, c.width) * 0.02)
        self.blocks = nn.ModuleList([TransformerBlock(c.width, c.heads, c.dropout) for _ in range(c.layers)])
        self.ln_post = nn.LayerNorm(c.width)
        self.proj = nn.Linear(c.width, c.embed_dim)
        self.weight_head = nn.Linear(c.width, 1) if c.slot_weights else None

    def num_windows(self, frames: int) -> int:
        c = self.config
        return len(window_starts(int(frames), c.window, c.stride, c.max_windows))

    def window_index(self, lengths: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame indices [N, W, window] (−1 = none), and the window mask [N, W]."""
        c = self.config
        per_item = [window_starts(int(t), c.window, c.stride, c.max_windows) for t in lengths]
        max_w = max(len(s) for s in per_item)
        index = np.full((len(lengths), max_w, c.window), -1, dtype=np.int64)
        valid = np.zeros((len(lengths), max_w), dtype=bool)
        offsets = np.arange(c.window)
        for i, (starts, t) in enumerate(zip(per_item, lengths)):
            frames = starts[:, None] + offsets[None, :]
            index[i, : len(starts)] = np.where(frames < t, frames, -1)
            valid[i, : len(starts)] = True
        return torch.from_numpy(index), torch.from_numpy(valid)

    def forward(self, features: torch.Tensor, lengths: Sequence[int],
                skip_padding: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``features`` [N, T, F] zero-padded, ``lengths`` [N] → (tokens [N, W, E], valid [N, W]).

        With ``slot_weights`` the second value is each window's weight in (0, 1) (0 on padding)
        instead of a bool mask: a window in a transition or at rest can learn to count little.
        ``skip_padding``: token-wise layers run on the real frames and windows only
        (:class:`Packing`; training's option ``[train] skip_padding``).
        """
        if not skip_padding:
            hidden, valid = self.hidden(features, lengths)
            return project_slots(hidden, valid, self.proj, self.weight_head)
        flat, packing = self._packed_hidden(features, lengths)
        return project_packed(flat, packing, self.proj, self.weight_head)

    def hidden(self, features: torch.Tensor, lengths: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The windows' last hidden states [N, W, width] (before the projection into the joint
        space) and the window mask [N, W]; what a head reading the same windows builds on."""
        n, t, _ = features.shape
        device = features.device  # masks and indices are built where the features are (CPU or GPU)
        frame_valid = torch.arange(t, device=device)[None, :] < torch.as_tensor(list(lengths), device=device)[:, None]
        h = self.frame_mlp(features) * frame_valid[..., None].to(features.dtype)
        index, valid = (a.to(device) for a in self.window_index(lengths))
        h = torch.cat([h, h.new_zeros(n, 1, h.shape[-1])], dim=1)  # row t = "no frame"
        gather = torch.where(index < 0, torch.full_like(index, t), index)  # [N, W, window]
        windows = h[torch.arange(n, device=device)[:, None, None], gather]  # [N, W, window, frame_dim]
        x = self.window_proj(windows.flatten(2)) + self.positional[: windows.shape[1]]
        for block in self.blocks:
            x = block(x, valid)
        return self.ln_post(x), valid

    def _packed_hidden(self, features: torch.Tensor, lengths: Sequence[int]) -> tuple[torch.Tensor, Packing]:
        """:meth:`hidden` on the real frames and windows only: the last hidden states of the
        real windows ``[V, width]`` and their :class:`Packing`. Same values up to float rounding."""
        n, t, _ = features.shape
        device = features.device
        frame_valid = torch.arange(t, device=device)[None, :] < torch.as_tensor(list(lengths), device=device)[:, None]
        frames = Packing(frame_valid)
        # frame embeddings of the real frames, then one zero row per video for "no frame"
        h = frames.unpack(self.frame_mlp(frames.pack(features)))
        h = torch.cat([h, h.new_zeros(n, 1, h.shape[-1])], dim=1)
        index, valid = (a.to(device) for a in self.window_index(lengths))
        windows = Packing(valid)
        gather = torch.where(index < 0, torch.full_like(index, t), index)  # [N, W, window]
        x = self.window_proj(windows.gather_windows(h, gather)) + self.positional.index_select(0, windows.positions())
        for block in self.blocks:
            x = block(x, windows.valid, windows)
        return self.ln_post(x), windows


def project_slots(hidden: torch.Tensor, valid: torch.Tensor, proj: nn.Module,
                  weight_head: nn.Module | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Last hidden states → (joint-space embeddings zeroed on padding, the mask or, with a
    ``weight_head``, each slot's weight σ(·) ∈ (0, 1), 0 on padding). Shared by both towers."""
    out = proj(hidden) * valid[..., None].to(hidden.dtype)
    if weight_head is None:
        return out, valid
    return out, torch.sigmoid(weight_head(hidden)).squeeze(-1) * valid.to(hidden.dtype)


def project_packed(flat: torch.Tensor, packing: Packing, proj: nn.Module,
                   weight_head: nn.Module | None) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`project_slots` on packed real rows ``[V, width]``: the same padded outputs (zeros,
    and weight 0, on padding), without projecting the padding."""
    out = packing.unpack(proj(flat))
    if weight_head is None:
        return out, packing.valid
    return out, packing.unpack(torch.sigmoid(weight_head(flat))).squeeze(-1)


def pad_features(items: Sequence[np.ndarray]) -> tuple[torch.Tensor, list[int]]:
    """Zero-pad per-item frame features ``[T_i, F]`` into ``[N, max T, F]``."""
    lengths = [int(a.shape[0]) for a in items]
    out = np.zeros((len(items), max(lengths), items[0].shape[1]), dtype=np.float32)
    for i, a in enumerate(items):
        out[i, : len(a)] = a
    return torch.from_numpy(out), lengths


def encoder_config_from(d: dict) -> PoseEncoderConfig:
    fields = PoseEncoderConfig.__dataclass_fields__
    return PoseEncoderConfig(**{k: v for k, v in d.items() if k in fields})


__all__ = [
    "PoseLayout", "PoseNormalizer", "PoseEncoder", "PoseEncoderConfig", "window_starts", "pad_features", "project_slots",
    "encoder_config_from", "position_columns", "presence_columns",
]
