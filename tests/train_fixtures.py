"""Tiny learnable pose/text data written as real files, for the training tests.

Each of eight "words" is a distinct right-hand trajectory (a circle or line at its own place), a
sentence is 1-3 words signed one after the other, so a model can learn the mapping in a few
dozen steps. Keypoints carry MediaPipe-style names so the model finds shoulders and hands.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WORDS = ["rain", "sun", "wind", "snow", "cold", "warm", "north", "south"]
POSE_POINTS = ["NOSE", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW"]
NAMES = ([f"POSE_LANDMARKS:{p}" for p in POSE_POINTS]
         + [f"LEFT_HAND_LANDMARKS:{p}" for p in ["WRIST", "THUMB_TIP", "INDEX_FINGER_TIP", "PINKY_TIP"]]
         + [f"RIGHT_HAND_LANDMARKS:{p}" for p in ["WRIST", "THUMB_TIP", "INDEX_FINGER_TIP", "PINKY_TIP"]])


def render(words: list[str], rng: np.random.Generator, frames_per_word: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Poses [T, K, 3] and confidence [T, K] for a word sequence."""
    t_total = frames_per_word * len(words)
    data = np.zeros((t_total, len(NAMES), 3), np.float32)
    base = np.array([[0.5, 0.3, 0], [0.6, 0.5, 0], [0.4, 0.5, 0], [0.65, 0.65, 0], [0.35, 0.65, 0]], np.float32)
    data[:, :5] = base
    data[:, 5:9] = [0.65, 0.8, 0]
    for w, word in enumerate(words):
        k = WORDS.index(word)
        phase = np.linspace(0, 2 * np.pi, frames_per_word)
        cx, cy = 0.3 + 0.05 * (k % 4), 0.35 + 0.08 * (k // 4)
        radius = 0.03 + 0.01 * (k % 3)
        path = np.stack([cx + radius * np.cos(phase * (1 + k % 2)), cy + radius * np.sin(phase), np.zeros_like(phase)], 1)
        sl = slice(w * frames_per_word, (w + 1) * frames_per_word)
        data[sl, 9] = path
        for j in range(1, 4):
            data[sl, 9 + j] = path + [0.01 * j * (1 + k % 3), -0.02, 0]
    data += rng.normal(0, 0.002, data.shape).astype(np.float32)
    conf = np.ones(data.shape[:2], np.float32)
    return data, conf


def write_manifest(folder: Path, n: int, seed: int) -> Path:
    """``folder/manifest.jsonl`` + ``folder/poses/<id>.npz`` (data, confidence, keypoints)."""
    rng = np.random.default_rng(seed)
    (folder / "poses").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        words = list(rng.choice(WORDS, size=int(rng.integers(1, 4)), replace=False))
        data, conf = render(words, rng)
        pose_path = folder / "poses" / f"s{seed}_{i}.npz"
        np.savez(pose_path, data=data, confidence=conf, keypoints=np.array(NAMES))
        text = "the " + " and ".join(words)
        other = [w for w in WORDS if w not in words][0]
        rows.append({"id": f"s{seed}_{i}", "text": text, "pose": f"poses/{pose_path.name}",
                     "paraphrases": [" and ".join(words)], "glosses": [w.upper() for w in words],
                     "hard_texts": ["the " + " and ".join(words[:-1] + [other])]})
    manifest = folder / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return manifest


def write_config(folder: Path, train_manifest: Path, val_manifest: Path, steps: int = 30, batch_size: int = 8,
                 fmt: str = "toml", extra_train: str = "") -> Path:
    model = ('pose_encoder = { frame_dim = 16, width = 32, layers = 1, heads = 2, embed_dim = 32, window = 8, stride = 4, dropout = 0.0 }\n'
             'text_head = { width = 32, layers = 1, heads = 2, dropout = 0.0 }\n')
    if fmt == "toml":
        text = (f'seed = 3\nout = "{folder / "run"}"\n[model]\narchitecture = "pose_minilm"\n{model}'
                f'[data.train]\nkind = "jsonl"\nmanifest = "{train_manifest}"\n'
                f'[data.val]\nkind = "jsonl"\nmanifest = "{val_manifest}"\n'
                f'[train]\nbatch_size = {batch_size}\nsteps = {steps}\nlr = 3e-3\nval_every = {steps}\n'
                f'checkpoint_every = 10\nlog_every = 5\nthreads = 1\n{extra_train}')
        path = folder / "config.toml"
    else:
        text = (f'seed: 3\nout: {folder / "run"}\nmodel:\n  architecture: pose_minilm\n'
                f'  pose_encoder: {{frame_dim: 16, width: 32, layers: 1, heads: 2, embed_dim: 32, window: 8, stride: 4, dropout: 0.0}}\n'
                f'  text_head: {{width: 32, layers: 1, heads: 2, dropout: 0.0}}\n'
                f'data:\n  train: {{kind: jsonl, manifest: {train_manifest}}}\n  val: {{kind: jsonl, manifest: {val_manifest}}}\n'
                f'train: {{batch_size: {batch_size}, steps: {steps}, lr: 0.003, val_every: {steps}, checkpoint_every: 10, log_every: 5, threads: 1}}\n')
        path = folder / "config.yaml"
    path.write_text(text)
    return path
