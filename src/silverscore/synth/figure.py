"""A contact sheet of one item: the middle frame of each sign, labelled with its gloss.

Used to produce docs/synth_frame.png so a reader can see what the synthetic signing looks like
(matplotlib with the Agg backend; imported only when a figure is drawn).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io_utils import atomic_write
from . import skeleton as sk

_COLORS = {"POSE_LANDMARKS": "0.35", "FACE_LANDMARKS": "#96502a", "LEFT_HAND_LANDMARKS": "#1a9628",
           "RIGHT_HAND_LANDMARKS": "#1e3cc8"}


def _draw(ax, pose: np.ndarray, conf: np.ndarray) -> None:
    start = 0
    for name, points, limbs in sk.COMPONENTS:
        for a, b in limbs:
            i, j = start + a, start + b
            if conf[i] > 0 and conf[j] > 0:
                ax.plot([pose[i, 0], pose[j, 0]], [pose[i, 1], pose[j, 1]], color=_COLORS[name], lw=1.2)
        start += len(points)


def contact_sheet(item, path: str | Path, max_panels: int = 8) -> None:
    """Save a PNG with the middle frame of each sign of ``item`` (up to ``max_panels``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spans = item.sign_spans[:max_panels]
    shaking = {i for span in item.nonmanual if span["type"] == "headshake"
               for i in range(span["first_sign"], span["last_sign"] + 1)}
    fig, axes = plt.subplots(1, len(spans), figsize=(2.3 * len(spans), 3.0))
    axes = np.atleast_1d(axes)
    for k, (ax, (a, b)) in enumerate(zip(axes, spans)):
        frame = (a + b) // 2
        if k in shaking:  # show the head turned: the frame of largest yaw within the sign
            nose, l_ear, r_ear = 0, 7, 8
            yaw = item.pose[a:b + 1, nose, 0] - (item.pose[a:b + 1, l_ear, 0] + item.pose[a:b + 1, r_ear, 0]) / 2
            frame = a + int(np.argmax(np.abs(yaw - np.median(yaw))))
        _draw(ax, item.pose[frame], item.confidence[frame])
        ax.set_xlim(40, 472)
        ax.set_ylim(480, 40)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        label = item.glosses[k] + ("\n(head shake)" if k in shaking else "\n")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(f"frame {frame}", fontsize=7)
    fig.suptitle(f"\u201c{item.text}\u201d  \u2014 signer {item.signer}, intensity {item.intensity}", fontsize=9)
    fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=90)
    plt.close(fig)
