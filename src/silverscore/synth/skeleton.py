"""Keypoint layout of the synthetic signing: a MediaPipe-Holistic-compatible header.

Components, in this order (the order of the ``T × K × 3`` arrays):

* ``POSE_LANDMARKS``: the 33 MediaPipe pose landmarks with their MediaPipe names;
* ``FACE_LANDMARKS``: a documented subset of the 468-point face mesh, named by mesh index as
  pose-format does ("10", "152", ...): forehead, chin, nose, eye corners and lids, brows, lips and
  face outline, enough to carry head shakes, brow furrows and mouthing;
* ``LEFT_HAND_LANDMARKS`` and ``RIGHT_HAND_LANDMARKS``: the 21 MediaPipe hand landmarks each.

"Left" and "right" are the signer's, as in MediaPipe. The point names and limb lists are written
out here (not imported from mediapipe, which is not a dependency) so that readers of the files
that know the MediaPipe layout can use them unchanged.
"""
from __future__ import annotations

import numpy as np

POSE_POINTS = [
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
    "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER",
    "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY",
    "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX", "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP",
    "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL",
    "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
]
POSE_LIMBS = [
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
    (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20),
    (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
]

HAND_POINTS = [
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP",
    "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP",
    "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP", "RING_FINGER_MCP",
    "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP", "PINKY_MCP", "PINKY_PIP", "PINKY_DIP",
    "PINKY_TIP",
]
HAND_LIMBS = [
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
]

#: Face-mesh subset: mesh index -> (what it is, position in head coordinates in metres for an
#: average head: x towards the signer's left, y up from the shoulder line, z towards the camera).
FACE_SUBSET: dict[int, tuple[str, tuple[float, float, float]]] = {
    10: ("forehead", (0.0, 0.35, 0.085)),
    152: ("chin", (0.0, 0.15, 0.08)),
    168: ("nose bridge", (0.0, 0.285, 0.10)),
    1: ("nose tip", (0.0, 0.245, 0.125)),
    2: ("nose bottom", (0.0, 0.228, 0.11)),
    33: ("right eye outer", (-0.048, 0.275, 0.075)),
    133: ("right eye inner", (-0.016, 0.275, 0.085)),
    159: ("right upper lid", (-0.032, 0.282, 0.088)),
    145: ("right lower lid", (-0.032, 0.268, 0.086)),
    263: ("left eye outer", (0.048, 0.275, 0.075)),
    362: ("left eye inner", (0.016, 0.275, 0.085)),
    386: ("left upper lid", (0.032, 0.282, 0.088)),
    374: ("left lower lid", (0.032, 0.268, 0.086)),
    70: ("right brow outer", (-0.055, 0.298, 0.075)),
    105: ("right brow middle", (-0.035, 0.305, 0.088)),
    107: ("right brow inner", (-0.014, 0.300, 0.092)),
    300: ("left brow outer", (0.055, 0.298, 0.075)),
    334: ("left brow middle", (0.035, 0.305, 0.088)),
    336: ("left brow inner", (0.014, 0.300, 0.092)),
    61: ("right mouth corner", (-0.026, 0.19, 0.095)),
    291: ("left mouth corner", (0.026, 0.19, 0.095)),
    0: ("upper lip top", (0.0, 0.202, 0.108)),
    13: ("upper lip inner", (0.0, 0.195, 0.105)),
    14: ("lower lip inner", (0.0, 0.187, 0.104)),
    17: ("lower lip bottom", (0.0, 0.178, 0.10)),
    234: ("right face edge", (-0.075, 0.26, 0.0)),
    454: ("left face edge", (0.075, 0.26, 0.0)),
    172: ("right jaw", (-0.06, 0.18, 0.02)),
    397: ("left jaw", (0.06, 0.18, 0.02)),
}
FACE_INDICES = list(FACE_SUBSET)
FACE_POINTS = [str(i) for i in FACE_INDICES]
_FACE_LIMB_PAIRS = [
    (33, 159), (159, 133), (133, 145), (145, 33), (263, 386), (386, 362), (362, 374), (374, 263),
    (70, 105), (105, 107), (300, 334), (334, 336), (61, 0), (0, 291), (291, 17), (17, 61),
    (13, 14), (10, 234), (234, 172), (172, 152), (152, 397), (397, 454), (454, 10), (168, 1), (1, 2),
]
FACE_LIMBS = [(FACE_INDICES.index(a), FACE_INDICES.index(b)) for a, b in _FACE_LIMB_PAIRS]
#: Mirror partner of each face point (for left-handed signers, who mirror the whole body).
_FACE_MIRROR_PAIRS = [(33, 263), (133, 362), (159, 386), (145, 374), (70, 300), (105, 334),
                      (107, 336), (61, 291), (234, 454), (172, 397)]

COMPONENTS = [
    ("POSE_LANDMARKS", POSE_POINTS, POSE_LIMBS),
    ("FACE_LANDMARKS", FACE_POINTS, FACE_LIMBS),
    ("LEFT_HAND_LANDMARKS", HAND_POINTS, HAND_LIMBS),
    ("RIGHT_HAND_LANDMARKS", HAND_POINTS, HAND_LIMBS),
]

N_POSE = len(POSE_POINTS)
N_FACE = len(FACE_POINTS)
N_HAND = len(HAND_POINTS)
POSE_OFFSET = 0
FACE_OFFSET = N_POSE
LEFT_HAND_OFFSET = N_POSE + N_FACE
RIGHT_HAND_OFFSET = LEFT_HAND_OFFSET + N_HAND
N_KEYPOINTS = RIGHT_HAND_OFFSET + N_HAND

#: Frame size the pixel coordinates refer to (the .pose header's dimensions).
FRAME_WIDTH = 512
FRAME_HEIGHT = 512


def component_slices() -> dict[str, slice]:
    """Name -> slice of the keypoint axis."""
    out, start = {}, 0
    for name, points, _ in COMPONENTS:
        out[name] = slice(start, start + len(points))
        start += len(points)
    return out


def limbs() -> list[tuple[int, int]]:
    """All limbs as pairs of indices into the concatenated keypoint axis (for drawing)."""
    pairs, start = [], 0
    for _, points, component_limbs in COMPONENTS:
        pairs += [(start + a, start + b) for a, b in component_limbs]
        start += len(points)
    return pairs


def mirror_permutation() -> np.ndarray:
    """Index permutation that swaps left and right keypoints (used with x -> -x)."""
    perm = np.arange(N_KEYPOINTS)
    for i, name in enumerate(POSE_POINTS):
        if "LEFT" in name or "RIGHT" in name:
            other = name.replace("LEFT", "\0").replace("RIGHT", "LEFT").replace("\0", "RIGHT")
            perm[i] = POSE_POINTS.index(other)
    for a, b in _FACE_MIRROR_PAIRS:
        ia, ib = FACE_OFFSET + FACE_INDICES.index(a), FACE_OFFSET + FACE_INDICES.index(b)
        perm[ia], perm[ib] = ib, ia
    for j in range(N_HAND):
        perm[LEFT_HAND_OFFSET + j] = RIGHT_HAND_OFFSET + j
        perm[RIGHT_HAND_OFFSET + j] = LEFT_HAND_OFFSET + j
    return perm
