"""Pose synthesis: a gloss sequence, a signer and a prosody level become keypoint trajectories.

The model is a small articulated body, not a learned one, because the point is *exact ground
truth*: every frame is a known function of the signs.

* Each hand is a state per frame: palm-centre position, finger direction, palm normal and an
  11-number hand configuration (MCP/PIP flexion of four fingers, spread, thumb abduction and
  flexion). A sign's parameters fix the state's trajectory over its core frames: the location
  is where the palm goes, the movement a path (or a wrist twist, a finger wiggle, a closing
  hand) around it, the orientation the hand's axes, the handshape the configuration.
* Between signs the state is interpolated with a smooth step (co-articulation: the hand leaves
  one sign on its way to the next and the handshape morphs during the transition).
* Arms follow by two-bone inverse kinematics from the shoulders, the 21 hand keypoints by
  forward kinematics of the fingers, the face by a rigid head with brows and lips on top.
* The non-dominant hand is computed as a mirrored right hand, and left-handed signers mirror the
  whole body, so one set of definitions serves both hands and both handednesses.
* Negation's head shake is a periodic yaw (2-3 Hz, about 15-20 degrees) of the head over the
  negated span, on top of a slow idle head motion so that "any head motion" is not the cue.
* Prosody (none/low/high) scales movement amplitude and duration, adds holds and repeats the
  main predicate's movement; signers change size, proportions, tempo, jitter, camera and
  missing-hand dropouts. None of these changes the glosses.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import skeleton as sk
from .lexicon import DIRECTIONAL, HANDSHAPES, LOCATIONS, MOVEMENTS, ORIENTATIONS, POINT, build_lexicon
from .signers import Signer

FPS = 25.0
INTENSITIES = ("none", "low", "high")
#: Prosody: (movement amplitude, duration factor, extra hold frames on predicates, repetitions).
PROSODY = {"none": (1.0, 1.0, 0, 1), "low": (1.22, 1.1, 4, 1), "high": (1.45, 1.2, 8, 2)}

LOCI = {"a": np.array([-0.24, -0.08, 0.38]), "b": np.array([0.20, -0.08, 0.38])}
_CYCLIC = {"circle", "tap", "twist", "wiggle", "zigzag", "hold"}
_STATE = 41  # 20 per hand (pos 3, finger dir 3, palm normal 3, config 11) + mouth


def _config(handshape: str) -> np.ndarray:
    spec = HANDSHAPES[handshape]
    angles = np.deg2rad(np.array(spec["fingers"], dtype=np.float64)).reshape(-1)
    return np.concatenate([angles, [spec["spread"]], spec["thumb"]])


_CONFIGS = {name: _config(name) for name in HANDSHAPES}
_RELAXED = np.concatenate([np.deg2rad([20, 25, 25, 30, 30, 35, 35, 40]), [0.2, 0.4, 0.2]])
_FIST = _CONFIGS["S"]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


@dataclasses.dataclass
class Rendered:
    """Keypoints of one rendered item and where each sign's core lies in time."""

    pose: np.ndarray  # T × K × 3 float32, pixels (x right, y down) and relative depth
    confidence: np.ndarray  # T × K float32, 0 = missing keypoint
    sign_spans: list[tuple[int, int]]  # per gloss: [first, last] frame of its core, inclusive
    headshake_frames: list[tuple[int, int]]


def _hand_state(pos, ydir, znormal, config) -> np.ndarray:
    """Pack per-frame hand state arrays (n × ...) into n × 20."""
    return np.concatenate([pos, ydir, znormal, config], axis=1)


def _rest_state(scale: float, n: int) -> np.ndarray:
    pos = np.tile(np.array([-0.12, -0.40, 0.17]) * scale, (n, 1))
    ydir = np.tile(_unit(np.array([0.25, -0.35, 1.0])), (n, 1))
    znorm = np.tile(_unit(np.array([0.6, 0.8, 0.24])), (n, 1))
    return _hand_state(pos, ydir, znorm, np.tile(_RELAXED, (n, 1)))


def _path(movement: str, s: np.ndarray, reps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offset (n × 3, metres for amplitude 1), twist angle (n) and config blend (n) of a path."""
    n = len(s)
    if movement in _CYCLIC:
        u = (s * reps) % 1.0 if reps > 1 else s
    else:  # linear paths repeat by going back and forth
        legs = 2 * reps - 1
        k = np.floor(s * legs)
        frac = s * legs - k
        u = np.where(k % 2 == 0, frac, 1.0 - frac)
        u = np.clip(u, 0, 1)
    off = np.zeros((n, 3))
    twist = np.zeros(n)
    blend = np.zeros(n)
    d = 0.14
    if movement == "forward":
        off[:, 2] = d * (u - 0.5)
    elif movement == "toward_body":
        off[:, 2] = -d * (u - 0.5)
    elif movement == "down":
        off[:, 1] = -d * (u - 0.5)
    elif movement == "up":
        off[:, 1] = d * (u - 0.5)
    elif movement == "sideways":
        off[:, 0] = -d * (u - 0.5)
    elif movement == "circle":
        off[:, 0] = 0.06 * np.sin(2 * np.pi * u)
        off[:, 1] = 0.06 * np.cos(2 * np.pi * u) - 0.03
    elif movement == "arc":
        off[:, 1] = 0.08 * np.sin(np.pi * u) - 0.03
        off[:, 2] = d * (u - 0.5)
        off[:, 0] = -0.05 * (u - 0.5)
    elif movement == "zigzag":
        off[:, 0] = 0.05 * np.sin(4 * np.pi * u)
        off[:, 1] = -d * (u - 0.5)
    elif movement == "tap":
        off[:, 2] = 0.045 * np.sin(2 * np.pi * u) ** 2
    elif movement == "twist":
        twist = np.deg2rad(110) * (u - 0.5)
    elif movement == "wiggle":
        blend = np.sin(6 * np.pi * u)
    elif movement == "close":
        blend = np.clip(u * 1.3, 0, 1)
    return off, twist, blend


def _rotate_about(v: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues rotation of vectors v (n × 3) about unit axes (n × 3) by angles (n)."""
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    return v * c + np.cross(axis, v) * s + axis * np.sum(axis * v, axis=1, keepdims=True) * (1 - c)


def _sign_core(gloss: str, n: int, amplitude: float, reps: int, signer: Signer,
               rng: np.random.Generator) -> np.ndarray:
    """State (n × 41) of one sign's core frames."""
    lexicon = build_lexicon()
    base, _, direction = gloss.partition(":")
    sign = lexicon[base]
    scale = signer.scale
    s = np.linspace(0.0, 1.0, n)
    config = np.tile(_CONFIGS[sign.handshape], (n, 1))
    ydir0, znorm0 = (np.array(v, dtype=np.float64) for v in ORIENTATIONS[sign.orientation])
    ydir = np.tile(ydir0, (n, 1))
    znorm = np.tile(znorm0, (n, 1))
    jitter_loc = rng.normal(0.0, 0.008, 3)

    if sign.movement == DIRECTIONAL:
        src, _, dst = (direction or "a>b").partition(">")
        start, end = LOCI[src] * scale, LOCI[dst] * scale
        w = 0.5 - 0.5 * np.cos(np.pi * s)
        pos = start[None] + (end - start)[None] * w[:, None]
        pos[:, 1] += 0.07 * amplitude * np.sin(np.pi * s)
        pos += jitter_loc
    elif sign.movement == POINT:
        neutral = np.array(LOCATIONS["neutral"]) * scale
        target = LOCI[direction or "a"] * scale
        w = np.clip(2.5 * s, 0, 1)
        w = 0.5 - 0.5 * np.cos(np.pi * w)
        pos = neutral[None] + 0.55 * (target - neutral)[None] * w[:, None] + jitter_loc
        point_dir = _unit(target - neutral + np.array([0, 0, 0.25]))
        ydir = np.tile(point_dir, (n, 1))
        znorm = np.tile(np.array([0.0, -1.0, 0.0]), (n, 1))
    else:
        if sign.location == "base_hand":
            loc = np.array(LOCATIONS["base_hand"]) * scale + np.array([0.0, 0.06, 0.0])
        else:
            loc = np.array(LOCATIONS[sign.location]) * scale
        off, twist, blend = _path(sign.movement, s, reps)
        pos = loc[None] + off * amplitude * scale + jitter_loc
        if sign.movement == "twist":
            ydir_u = _unit(ydir)
            znorm = _rotate_about(znorm, ydir_u, twist)
        elif sign.movement == "wiggle":
            phase = np.array([0.0, 0.8, 1.6, 2.4])
            wig = 0.45 * np.sin(6 * np.pi * s[:, None] + phase[None])
            config = config.copy()
            config[:, 0:8:2] = np.clip(config[:, 0:8:2] + wig, 0, np.pi / 2)
        elif sign.movement == "close":
            config = config * (1 - blend[:, None]) + _FIST[None] * blend[:, None]
    # Orthogonalise the palm normal against the finger direction.
    ydir = _unit(ydir)
    znorm = _unit(znorm - ydir * np.sum(znorm * ydir, axis=1, keepdims=True))
    dom = _hand_state(pos, ydir, znorm, config)

    if sign.hands == "two_sym":
        nd = dom.copy()  # the other hand mirrors (it is computed in mirrored space)
    elif sign.hands == "two_base" or sign.location == "base_hand":
        base_pos = np.array(LOCATIONS["base_hand"]) * scale * np.array([-1.0, 1.0, 1.0])
        nd = _hand_state(np.tile(base_pos, (n, 1)), np.tile(_unit(np.array([0.35, 0.0, 1.0])), (n, 1)),
                         np.tile(np.array([0.0, 1.0, 0.0]), (n, 1)), np.tile(_CONFIGS["B"], (n, 1)))
    else:
        nd = _rest_state(scale, n)
        nd[:, 1] += 0.05 * scale  # resting a little higher while the other hand signs
    mouth = np.full((n, 1), sign.mouth) * np.sin(np.pi * s)[:, None]
    return np.concatenate([dom, nd, mouth], axis=1)


def _smooth(n: int) -> np.ndarray:
    t = (np.arange(1, n + 1)) / (n + 1)
    return t * t * (3 - 2 * t)


def _hand_keypoints(state: np.ndarray, hand_scale: float) -> np.ndarray:
    """21 hand keypoints (T × 21 × 3) of a right hand from its state (T × 20)."""
    palm, ydir, znorm, cfg = state[:, 0:3], _unit(state[:, 3:6]), state[:, 6:9], state[:, 9:20]
    znorm = _unit(znorm - ydir * np.sum(znorm * ydir, axis=1, keepdims=True))
    xdir = np.cross(ydir, znorm)
    h = hand_scale
    wrist = palm - ydir * 0.045 * h
    T = len(state)
    local = np.zeros((T, 21, 3))
    spread = cfg[:, 8]
    knuckle_x = np.array([0.028, 0.009, -0.010, -0.027]) * h
    knuckle_y = np.array([0.088, 0.090, 0.085, 0.078]) * h
    seg = np.array([[0.040, 0.024, 0.020], [0.044, 0.027, 0.021], [0.041, 0.026, 0.020],
                    [0.032, 0.019, 0.018]]) * h
    base_phi = np.array([0.04, 0.0, -0.04, -0.09])
    spread_phi = np.array([0.20, 0.06, -0.08, -0.24])
    for f in range(4):
        phi = base_phi[f] + spread_phi[f] * spread
        mcp, pip = cfg[:, 2 * f], cfg[:, 2 * f + 1]
        thetas = [mcp, mcp + pip, mcp + 1.7 * pip]
        point = np.stack([np.full(T, knuckle_x[f]), np.full(T, knuckle_y[f]), np.zeros(T)], axis=1)
        idx = 5 + 4 * f
        local[:, idx] = point
        for k in range(3):
            th = thetas[k]
            d = np.stack([np.sin(phi) * np.cos(th), np.cos(phi) * np.cos(th), np.sin(th)], axis=1)
            point = point + seg[f, k] * d
            local[:, idx + k + 1] = point
    abd, flex = cfg[:, 9:10], cfg[:, 10:11]
    d0 = _unit((1 - abd) * np.array([0.45, 0.85, 0.25]) + abd * np.array([0.9, 0.35, 0.15]))
    across = _unit(np.array([-0.75, 0.35, 0.6]))
    point = np.tile(np.array([0.022, 0.025, 0.012]) * h, (T, 1))
    local[:, 1] = point
    for k, length in enumerate(np.array([0.040, 0.032, 0.028]) * h):
        d = _unit(d0 + flex * (k + 1) * 0.9 * across[None])
        point = point + length * d
        local[:, 2 + k] = point
    world = (wrist[:, None, :] + local[..., 0:1] * xdir[:, None, :] + local[..., 1:2] * ydir[:, None, :]
             + local[..., 2:3] * znorm[:, None, :])
    return world


def _two_bone(shoulder: np.ndarray, wrist: np.ndarray, upper: float, fore: float, pole: np.ndarray):
    """Elbow positions (T × 3) and reachable wrists for a two-bone arm."""
    v = wrist - shoulder
    d = np.linalg.norm(v, axis=1, keepdims=True)
    dc = np.clip(d, abs(upper - fore) + 1e-3, upper + fore - 1e-3)
    n = v / np.maximum(d, 1e-9)
    wrist = shoulder + n * dc
    a = (upper ** 2 - fore ** 2 + dc ** 2) / (2 * dc)
    hgt = np.sqrt(np.maximum(upper ** 2 - a ** 2, 0))
    p = pole[None] - n * np.sum(pole[None] * n, axis=1, keepdims=True)
    p = _unit(p)
    return shoulder + n * a + p * hgt, wrist


def _rotation_yaw_pitch_roll(yaw, pitch, roll) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    T = len(yaw)
    Ry = np.zeros((T, 3, 3)); Ry[:, 0, 0] = cy; Ry[:, 0, 2] = sy; Ry[:, 1, 1] = 1; Ry[:, 2, 0] = -sy; Ry[:, 2, 2] = cy
    Rx = np.zeros((T, 3, 3)); Rx[:, 0, 0] = 1; Rx[:, 1, 1] = cp; Rx[:, 1, 2] = -sp; Rx[:, 2, 1] = sp; Rx[:, 2, 2] = cp
    Rz = np.zeros((T, 3, 3)); Rz[:, 0, 0] = cr; Rz[:, 0, 1] = -sr; Rz[:, 1, 0] = sr; Rz[:, 1, 1] = cr; Rz[:, 2, 2] = 1
    return Ry @ Rx @ Rz


_FACE_LOCAL = np.array([pos for _, pos in sk.FACE_SUBSET.values()])
_EAR_LOCAL = np.array([[0.078, 0.255, -0.03], [-0.078, 0.255, -0.03]])  # left, right
_FI = {idx: i for i, idx in enumerate(sk.FACE_INDICES)}
_BROWS = [_FI[i] for i in (70, 105, 107, 300, 334, 336)]
_INNER_BROWS = [_FI[107], _FI[336]]
_LOWER_LIP = [_FI[14], _FI[17]]
_MIRROR = sk.mirror_permutation()


def render(glosses: list[str], predicates: list[int], headshake: list[tuple[int, int]], signer: Signer,
           intensity: str, rng: np.random.Generator, *, frozen_hands: bool = False) -> Rendered:
    """Render a gloss sequence as keypoints (see the module docstring for the model)."""
    amp, durf, extra_hold, reps_pred = PROSODY[intensity]
    tempo = signer.tempo
    scale = signer.scale
    segments: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    frame = 0

    rest_in = max(4, int(round(rng.uniform(6, 10) * tempo)))
    rest = np.concatenate([_rest_state(scale, 1), _rest_state(scale, 1), np.zeros((1, 1))], axis=1)
    segments.append(np.repeat(rest, rest_in, axis=0))
    frame += rest_in
    previous = rest[0]
    for i, gloss in enumerate(glosses):
        base = gloss.partition(":")[0]
        sign = build_lexicon()[base]
        is_pred = i in predicates
        reps = reps_pred if is_pred else 1
        movement_frames = 11 if sign.movement in (DIRECTIONAL, POINT) else MOVEMENTS[sign.movement]
        if sign.movement == POINT:
            movement_frames = 8
        n = int(round(movement_frames * durf * tempo * (1 + 0.8 * (reps - 1)) * rng.uniform(0.9, 1.1)))
        n = max(n, 5)
        a = amp if is_pred else 1.0 + 0.5 * (amp - 1.0)
        core = _sign_core(gloss, n, a, reps, signer, rng)
        trans = int(round(rng.uniform(4, 7) * tempo))
        w = _smooth(trans)[:, None]  # co-articulated transition from the previous sign (or rest)
        segments.append(previous[None] * (1 - w) + core[0][None] * w)
        frame += trans
        segments.append(core)
        spans.append((frame, frame + n - 1))
        frame += n
        hold = int(round(rng.uniform(0, 2))) + (int(round(extra_hold * tempo)) if is_pred else 0)
        if hold:
            held = np.repeat(core[-1:], hold, axis=0)
            segments.append(held)
            frame += hold
        previous = core[-1]
    trans = int(round(rng.uniform(5, 8) * tempo))
    w = _smooth(trans)[:, None]
    segments.append(previous[None] * (1 - w) + rest * w)
    rest_out = max(4, int(round(rng.uniform(5, 9) * tempo)))
    segments.append(np.repeat(rest, rest_out, axis=0))
    state = np.concatenate(segments, axis=0)
    T = len(state)
    t = np.arange(T) / FPS

    # --- body ---
    sway = 0.008 * np.sin(2 * np.pi * rng.uniform(0.15, 0.3) * t + rng.uniform(0, 6.3))
    mid = np.stack([sway, 0.004 * np.sin(2 * np.pi * 0.2 * t), np.zeros(T)], axis=1)
    half = signer.shoulder_width / 2
    r_sh = mid + np.array([-half, 0.0, 0.0])
    l_sh = mid + np.array([half, 0.0, 0.0])
    upper, fore = 0.29 * scale * signer.arm_ratio, 0.26 * scale * signer.arm_ratio

    dom = state[:, 0:20].copy()
    nd = state[:, 20:40].copy()
    dom[:, 0:3] += mid
    nd[:, 0:3] += mid * np.array([-1.0, 1.0, 1.0])
    r_hand = _hand_keypoints(dom, signer.hand_scale)
    l_hand = _hand_keypoints(nd, signer.hand_scale) * np.array([-1.0, 1.0, 1.0])
    r_elbow, r_wrist = _two_bone(r_sh, r_hand[:, 0], upper, fore, np.array([-0.3, -1.0, -0.2]))
    l_elbow, l_wrist = _two_bone(l_sh, l_hand[:, 0], upper, fore, np.array([0.3, -1.0, -0.2]))
    r_hand += (r_wrist - r_hand[:, 0])[:, None]  # keep hands attached when out of reach
    l_hand += (l_wrist - l_hand[:, 0])[:, None]

    # --- head ---
    yaw = 0.05 * np.sin(2 * np.pi * rng.uniform(0.15, 0.35) * t + rng.uniform(0, 6.3))
    pitch = 0.04 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t + rng.uniform(0, 6.3))
    roll = 0.025 * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * t + rng.uniform(0, 6.3))
    brow = np.zeros(T)
    hs_frames = []
    for first, last in headshake:
        start, end = spans[first][0] - 2, spans[last][1] + 2
        start, end = max(start, 0), min(end, T - 1)
        hs_frames.append((start, end))
        k = np.arange(start, end + 1)
        env = np.minimum(1.0, np.minimum(k - start + 1, end - k + 1) / 4.0)
        boost = 1.15 if intensity == "high" else 1.0
        yaw[k] += signer.headshake_amplitude * boost * env * np.sin(
            2 * np.pi * signer.headshake_rate * (k - start) / FPS)
        brow[k] = env
    pivot = mid + np.array([0.0, 0.12, 0.0])
    face_local = np.tile((_FACE_LOCAL - np.array([0.0, 0.12, 0.0])) * signer.head_scale * scale, (T, 1, 1))
    face_local[:, _BROWS, 1] -= 0.006 * brow[:, None]
    face_local[:, _INNER_BROWS, 0] *= 1 - 0.25 * brow[:, None]
    face_local[:, _LOWER_LIP, 1] -= 0.014 * state[:, 40:41]
    ears_local = np.tile((_EAR_LOCAL - np.array([0.0, 0.12, 0.0])) * signer.head_scale * scale, (T, 1, 1))
    rot = _rotation_yaw_pitch_roll(yaw, pitch, roll)
    face = pivot[:, None] + np.einsum("tij,tkj->tki", rot, face_local)
    ears = pivot[:, None] + np.einsum("tij,tkj->tki", rot, ears_local)

    # --- assemble in world coordinates (metres) ---
    pts = np.zeros((T, sk.N_KEYPOINTS, 3))
    P = sk.POSE_POINTS.index
    F = lambda i: face[:, _FI[i]]  # noqa: E731
    pts[:, P("NOSE")] = F(1)
    pts[:, P("LEFT_EYE_INNER")] = F(362)
    pts[:, P("LEFT_EYE")] = (F(386) + F(374)) / 2
    pts[:, P("LEFT_EYE_OUTER")] = F(263)
    pts[:, P("RIGHT_EYE_INNER")] = F(133)
    pts[:, P("RIGHT_EYE")] = (F(159) + F(145)) / 2
    pts[:, P("RIGHT_EYE_OUTER")] = F(33)
    pts[:, P("LEFT_EAR")] = ears[:, 0]
    pts[:, P("RIGHT_EAR")] = ears[:, 1]
    pts[:, P("MOUTH_LEFT")] = F(291)
    pts[:, P("MOUTH_RIGHT")] = F(61)
    pts[:, P("LEFT_SHOULDER")] = l_sh
    pts[:, P("RIGHT_SHOULDER")] = r_sh
    pts[:, P("LEFT_ELBOW")] = l_elbow
    pts[:, P("RIGHT_ELBOW")] = r_elbow
    pts[:, P("LEFT_WRIST")] = l_hand[:, 0]
    pts[:, P("RIGHT_WRIST")] = r_hand[:, 0]
    pts[:, P("LEFT_PINKY")] = l_hand[:, 17]
    pts[:, P("RIGHT_PINKY")] = r_hand[:, 17]
    pts[:, P("LEFT_INDEX")] = l_hand[:, 5]
    pts[:, P("RIGHT_INDEX")] = r_hand[:, 5]
    pts[:, P("LEFT_THUMB")] = l_hand[:, 3]
    pts[:, P("RIGHT_THUMB")] = r_hand[:, 3]
    hip_y = -0.52 * scale
    pts[:, P("LEFT_HIP")] = mid * 0.5 + np.array([0.16 * scale, hip_y, 0.0])
    pts[:, P("RIGHT_HIP")] = mid * 0.5 + np.array([-0.16 * scale, hip_y, 0.0])
    pts[:, sk.FACE_OFFSET:sk.FACE_OFFSET + sk.N_FACE] = face
    pts[:, sk.LEFT_HAND_OFFSET:sk.LEFT_HAND_OFFSET + sk.N_HAND] = l_hand
    pts[:, sk.RIGHT_HAND_OFFSET:sk.RIGHT_HAND_OFFSET + sk.N_HAND] = r_hand

    if signer.left_handed:
        pts = pts[:, _MIRROR] * np.array([-1.0, 1.0, 1.0])

    # --- camera: metres -> pixels (x right, y down, z smaller = closer) ---
    sc = 470.0 * signer.zoom
    cx, cy = sk.FRAME_WIDTH / 2 + signer.camera_dx, 250.0 + signer.camera_dy
    out = np.empty_like(pts)
    out[..., 0] = cx + pts[..., 0] * sc
    out[..., 1] = cy - pts[..., 1] * sc
    out[..., 2] = -pts[..., 2] * sc
    noise = rng.normal(0.0, signer.jitter, out.shape)
    noise[..., 2] *= 2.0
    noise[:, sk.LEFT_HAND_OFFSET:] *= 1.3
    out += noise

    conf = np.ones((T, sk.N_KEYPOINTS), dtype=np.float32)
    lower = [P(n) for n in ("LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL",
                            "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX")]
    conf[:, lower] = 0.0
    expected = signer.missing_rate * T / FPS
    for offset in (sk.LEFT_HAND_OFFSET, sk.RIGHT_HAND_OFFSET):
        for _ in range(rng.poisson(expected / 2)):
            length = int(rng.integers(2, 8))
            start = int(rng.integers(0, max(T - length, 1)))
            conf[start:start + length, offset:offset + sk.N_HAND] = 0.0
    out[conf == 0] = 0.0
    return Rendered(out.astype(np.float32), conf, spans, hs_frames)
