"""Our own alignment model: pose encoder × frozen MiniLM + trainable head (architecture ``pose_minilm``).

It implements :class:`silverscore.models.base.AlignmentModel`, so the scorer treats it exactly
like the official CiCo model: slot embeddings and masks in, the fine-grained similarity of
:mod:`silverscore.similarity` on top. Differences from CiCo, each recorded in :meth:`config`:

* ``input_kind = "pose"``: hypotheses are skeleton sequences (see :mod:`.pose_encoder`).
* ``softmax = "masked"``: padding never enters a softmax, so a score cannot depend on how much
  padding a batch adds (the official checkpoints were trained with it inside and must keep it).
* the text tower is frozen all-MiniLM-L6-v2 plus a small trainable head (:mod:`.text_encoder`);
  the MiniLM weights are not in our checkpoint, only the head's.
* ``slot_weights`` (new models): each window and each token also gets a learnt weight in (0, 1),
  and the similarity's two averages are weighted by them (see :mod:`silverscore.similarity`), so
  rest and transition windows and unsigned English words stop diluting the score.

The training code needs the two halves separately (per-item pose features are computed once
and cached; MiniLM states are cached per text), hence :meth:`prepare_video`,
:meth:`encode_prepared` and :meth:`encode_states` next to the protocol's methods.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..errors import InputError
from ..inputs.poses import as_pose_sequence
from .form_head import FormHead, form_head_config_from, noise_floor
from .pose_encoder import PoseEncoder, PoseLayout, PoseNormalizer, encoder_config_from, pad_features, project_slots
from .text_encoder import MINILM_PACKAGE, MiniLMBackbone, TextHead, minilm_package_version, pad_states

ARCHITECTURE = "pose_minilm"
MAX_LOGIT_SCALE = math.log(100.0)

_BACKBONES: dict[str, MiniLMBackbone] = {}


def shared_backbone() -> MiniLMBackbone:
    """One frozen MiniLM per process: models built from configs share it (and its text cache)."""
    if "minilm" not in _BACKBONES:
        _BACKBONES["minilm"] = MiniLMBackbone()
    return _BACKBONES["minilm"]


class PoseTextModel(nn.Module):
    input_kind = "pose"

    def __init__(self, config: dict):
        super().__init__()
        self._config = dict(config)
        self.softmax = config.get("softmax", "masked")
        self.layout = PoseLayout.from_dict(config["layout"])
        self.normalizer = PoseNormalizer(self.layout, fps=config.get("fps", 25.0))
        self.slot_weights = bool(config.get("slot_weights", False))
        enc = dict(config["pose_encoder"])
        enc["feature_dim"] = self.normalizer.feature_dim
        enc["slot_weights"] = self.slot_weights
        self._config["pose_encoder"] = enc
        self.pose_encoder = PoseEncoder(encoder_config_from(enc))
        text = config["text_head"]
        self.max_text_tokens = int(config.get("max_text_tokens", 48))
        self.text_head = TextHead(
            input_dim=384, width=text.get("width", 256), layers=text.get("layers", 1), heads=text.get("heads", 4),
            embed_dim=enc.get("embed_dim", 256), dropout=text.get("dropout", 0.1), slot_weights=self.slot_weights,
        )
        self.logit_scale = nn.Parameter(torch.tensor(float(config.get("logit_scale_init", math.log(1 / 0.07)))))
        self.form_head = None
        if config.get("form_head") is not None:
            self.add_form_head(config["form_head"])
        # Not a submodule: its weights are the package's, never ours to save or load.
        object.__setattr__(self, "_backbone", None)
        self._window_record: tuple[list, Any] | None = None  # see recording_windows

    @classmethod
    def from_config(cls, config: dict) -> "PoseTextModel":
        return cls(config)

    @staticmethod
    def default_config(keypoint_names: Sequence[str], **overrides: Any) -> dict:
        layout = PoseLayout.from_names(keypoint_names)
        config = {
            "architecture": ARCHITECTURE,
            "input_kind": "pose",
            "softmax": "masked",
            "fps": 12.5,
            "layout": layout.to_dict(),
            "pose_encoder": {"frame_dim": 64, "window": 8, "stride": 4, "max_windows": 64, "width": 160,
                             "layers": 2, "heads": 4, "embed_dim": 128, "dropout": 0.1},
            "text_head": {"width": 128, "layers": 1, "heads": 4, "dropout": 0.1},
            "text_encoder": {"package": MINILM_PACKAGE, "version": minilm_package_version(), "frozen": True},
            "max_text_tokens": 48,
            "logit_scale_init": math.log(1 / 0.07),
            "slot_weights": True,
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        return config

    @property
    def backbone(self) -> MiniLMBackbone:
        if self._backbone is None:
            object.__setattr__(self, "_backbone", shared_backbone())
        return self._backbone

    def config(self) -> dict:
        return dict(self._config)

    def annotate(self, **entries: Any) -> None:
        """Record extra facts in the config that is saved beside the weights (training settings,
        validation figures), so a checkpoint documents how it was made."""
        self._config.update(entries)

    def load_checkpoint_state(self, state: dict, path: Any = None) -> None:
        """Load our weights strictly: a missing, unexpected or mis-shaped tensor is an error,
        never a silently random layer."""
        from ..errors import CheckpointError

        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise CheckpointError(path, f"weights do not match the config: missing {missing[:3]}, unexpected {unexpected[:3]}")
        for key, tensor in state.items():
            if tuple(tensor.shape) != tuple(own[key].shape):
                raise CheckpointError(path, f"tensor {key} has shape {tuple(tensor.shape)}, config says {tuple(own[key].shape)}")
        self.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)

    def logit_scale_value(self) -> torch.Tensor:
        return self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()

    def _empty_valid(self, rows: int, length: int, param: torch.Tensor) -> torch.Tensor:
        """Zeros to fill with per-item masks, or slot weights when the model learns them."""
        dtype = param.dtype if self.slot_weights else torch.bool
        return torch.zeros(rows, length, dtype=dtype, device=param.device)

    # ---- video side ----
    def prepare_video(self, item: Any) -> np.ndarray:
        """One hypothesis (PoseSequence, path, array, (array, confidence)) → frame features."""
        pose = as_pose_sequence(item)
        try:
            return self.normalizer(pose)
        except ValueError as err:
            raise InputError(item if isinstance(item, (str, Path)) else None, str(err)) from None

    def encode_prepared(self, features: Sequence[np.ndarray],
                        skip_padding: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame features → (tokens [N, W, E], valid [N, W]).

        In training, one padded batch (``skip_padding``: whose token-wise layers skip the
        padding, :class:`~silverscore.models.pose_encoder.Packing`). In eval, one item per
        forward pass: padding and even the number of rows change which BLAS kernel runs and
        hence the last bits, and the metric promises scores that do not depend on the batch.
        """
        if self.training:
            param = next(self.parameters())
            batch, lengths = pad_features(features)
            return self.pose_encoder(batch.to(param.device, param.dtype), lengths, skip_padding=skip_padding)
        out, valid, _ = self._encode_one_by_one(features)
        return out, valid

    def _encode_one_by_one(self, features: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Eval path of :meth:`encode_prepared`, plus each item's window hidden states (what the
        form head reads, so scoring with it runs the encoder once)."""
        param = next(self.parameters())
        enc = self.pose_encoder
        windows = [enc.num_windows(len(f)) for f in features]
        out = torch.zeros(len(features), max(windows), enc.config.embed_dim, device=param.device, dtype=param.dtype)
        valid = self._empty_valid(len(features), max(windows), param)
        states = []
        for i, (count, item) in enumerate(zip(windows, features)):
            batch, lengths = pad_features([item])
            hidden, item_mask = enc.hidden(batch.to(param.device, param.dtype), lengths)
            emb, item_valid = project_slots(hidden, item_mask, enc.proj, enc.weight_head)
            out[i, :count] = emb[0]
            valid[i, :count] = item_valid[0]
            states.append(hidden[0])
        if self._window_record is not None:
            record, dtype = self._window_record
            record.extend((f if dtype is None else f.astype(dtype), s.detach()) for f, s in zip(features, states))
        return out, valid, states

    @contextlib.contextmanager
    def recording_windows(self, feature_dtype=None):
        """While active, each video that eval encoding passes through the encoder adds its
        (frame features, window hidden states) to the yielded list, in encoding order: a caller
        that scores videos and then needs what the form head reads (the form stage's data) gets
        both from one encoder pass. ``feature_dtype`` (e.g. ``np.float16``): keep the features
        in that type, so thousands of recorded videos are not all held at full width at once."""
        record: list = []
        self._window_record = (record, feature_dtype)
        try:
            yield record
        finally:
            self._window_record = None

    def encode_videos(self, items: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode_prepared([self.prepare_video(item) for item in items])

    # ---- form head (see .form_head) ----
    def add_form_head(self, settings: dict) -> None:
        """Attach a form head (fresh weights) reading this model's windows; recorded in the config."""
        enc = self.pose_encoder.config
        head = {**settings, "feature_dim": self.normalizer.feature_dim, "hidden_dim": enc.width,
                "window": enc.window, "max_windows": enc.max_windows}
        if head.get("noise_floor"):
            head["points"] = self.normalizer.num_points
        config = form_head_config_from(head)
        self._config["form_head"] = config.to_dict()
        self.form_head = FormHead(config)

    def calibrate_form_head(self, reference: float, exponent: float) -> None:
        """Calibrate the form head's factor (:meth:`FormHead.calibrate`); recorded in the config."""
        if self.form_head is None:
            raise ValueError("this model has no form head")
        self.form_head.calibrate(reference, exponent)
        self._config["form_head"] = self.form_head.config.to_dict()

    def window_states(self, features: Sequence[np.ndarray]) -> list[torch.Tensor]:
        """Each video's encoder hidden states [W, width], one item per forward pass, no gradient."""
        with torch.no_grad():
            return self._encode_one_by_one(features)[2]

    @torch.no_grad()
    def encode_videos_with_form(self, items: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`encode_videos` and :meth:`form_factors` with one encoder pass per video
        (eval mode; the same values as the two calls)."""
        features = [self.prepare_video(item) for item in items]
        emb, valid, states = self._encode_one_by_one(features)
        factors = [self.form_head.factor(self.form_logits([f], [s])[0]) for f, s in zip(features, states)]
        return emb, valid, torch.stack(factors)

    def form_logits(self, features: Sequence[np.ndarray], states: Sequence[torch.Tensor] | None = None,
                    floors: tuple[torch.Tensor, torch.Tensor] | None = None,
                    skip_padding: bool = False) -> torch.Tensor:
        """Form-head logits [N] of prepared videos (one padded batch; ``states`` from
        :meth:`window_states`, computed here when not given; ``floors`` from
        :meth:`form_noise_floors`, computed in the head when not given; ``skip_padding`` as in
        :meth:`FormHead.forward <silverscore.models.form_head.FormHead.forward>`)."""
        if self.form_head is None:
            raise ValueError("this model has no form head")
        param = next(self.parameters())
        if states is None:
            states = self.window_states(features)
        batch, lengths = pad_features(features)
        index, valid = self.pose_encoder.window_index(lengths)
        hidden = torch.zeros(len(features), valid.shape[1], states[0].shape[-1], dtype=param.dtype, device=param.device)
        for i, s in enumerate(states):
            hidden[i, : s.shape[0]] = s
        return self.form_head(batch.to(param.device, param.dtype), lengths, index.to(param.device),
                              valid.to(param.device), hidden, floors, skip_padding=skip_padding)

    @torch.no_grad()
    def form_noise_floors(self, features: Sequence[np.ndarray], chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """Each prepared video's noise floor and whether it has one ([N] each), as the form head
        computes them in :meth:`form_logits` (same dtype; the floor is a median, a selection, so
        it does not depend on the batch). For training, which reads each video many times."""
        if self.form_head is None or not self.form_head.config.noise_floor:
            raise ValueError("this model's form head does not read the noise floor")
        param = next(self.parameters())
        floors, known = [], []
        for start in range(0, len(features), chunk):
            batch, lengths = pad_features(features[start:start + chunk])
            f, k = noise_floor(batch.to(param.device, param.dtype), lengths, self.form_head.config.points)
            floors.append(f)
            known.append(k)
        return torch.cat(floors), torch.cat(known)

    @torch.no_grad()
    def form_factors(self, items: Sequence[Any]) -> torch.Tensor:
        """``F ∈ (0, 1]`` per hypothesis, one item per forward pass (as :meth:`encode_prepared`:
        a factor must not depend on the batch)."""
        out = []
        for item in items:
            features = [self.prepare_video(item)]
            out.append(self.form_head.factor(self.form_logits(features)[0]))
        return torch.stack(out) if out else torch.zeros(0)

    # ---- text side ----
    def text_states(self, texts: Sequence[str]) -> list[tuple[np.ndarray, bool]]:
        return self.backbone.token_states(texts, self.max_text_tokens)

    def encode_states(self, states: Sequence[np.ndarray],
                      skip_padding: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """MiniLM states → (token embeddings [N, L, E], valid [N, L]); in eval one text at a time
        for the same reason as :meth:`encode_prepared` (``skip_padding`` as there)."""
        param = next(self.parameters())
        if self.training:
            batch, valid = pad_states(states)
            return self.text_head.embed(batch.to(param.device, param.dtype), valid.to(param.device),
                                        skip_padding=skip_padding)
        lengths = [len(s) for s in states]
        out = torch.zeros(len(states), max(lengths), self.pose_encoder.config.embed_dim, device=param.device, dtype=param.dtype)
        valid = self._empty_valid(len(states), max(lengths), param)
        for i, (count, item) in enumerate(zip(lengths, states)):
            batch, item_valid = pad_states([item])
            emb, weight = self.text_head.embed(batch.to(param.device, param.dtype), item_valid.to(param.device))
            out[i, :count] = emb[0]
            valid[i, :count] = weight[0]
        return out, valid

    def encode_texts(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        per_text = self.text_states(texts)
        emb, valid = self.encode_states([s for s, _ in per_text])
        truncated = torch.tensor([t for _, t in per_text], dtype=torch.bool)
        return emb, valid, truncated
