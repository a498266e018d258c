"""The CiCo / SiLVERScore model: a visual tower over I3D clip features and the CLIP text tower.

Written from spec §1.4–1.5 and §2. Parameter names follow the official checkpoints (minus their
``clip.`` prefix) so that an official state dict loads into this module key for key:

* visual: ``h = X·W1ᵀ`` (1×1 conv, 1024 → width) → prepend ``class_embedding`` → add the 65-row
  ``positional_embedding`` → ``ln_pre`` → pre-LN residual blocks whose attention ignores masked
  slots as keys → ``ln_post`` → ``@ proj``. All 65 rows (CLS included) are returned.
* text: ``token_embedding`` + the first 32 rows of ``positional_embedding`` → causal pre-LN blocks
  → ``ln_final`` → ``@ text_projection``. All 32 rows (padding included) are returned.

Precision. ``fp32`` (default) and ``fp64`` run everything in that dtype. ``fp16`` follows the
official numerics (CLIP's ``convert_weights``): linear, attention and projection weights in
half precision, LayerNorm computed in float32 and cast back, the input projection as a 1×1
``conv2d`` and attention through ``scaled_dot_product_attention`` in fp16.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..text.tokenizer import MAX_WORDS, Truncation, tokenize

PRECISIONS = {"fp16": torch.float16, "fp32": torch.float32, "fp64": torch.float64}


QUICK_GELU = 1.702


class QuickGELU(nn.Module):
    """CLIP's activation ``x·σ(1.702x)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(QUICK_GELU * x)


def _layer_norm(ln: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    """LayerNorm computed in at least float32 and cast back, as CLIP does for fp16 models."""
    compute = torch.float32 if x.dtype == torch.float16 else x.dtype
    out = F.layer_norm(x.to(compute), ln.normalized_shape, ln.weight.to(compute), ln.bias.to(compute), ln.eps)
    return out.to(x.dtype)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN transformer block; ``attn`` is an ``nn.MultiheadAttention`` only for its parameters
    (their names match the checkpoints); the forward pass is written out below."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                c_fc=nn.Linear(width, width * 4),
                gelu=QuickGELU(),
                c_proj=nn.Linear(width * 4, width),
            )
        )
        self.ln_2 = nn.LayerNorm(width)

    def attention(self, x: torch.Tensor, allowed: torch.Tensor | None, is_causal: bool) -> torch.Tensor:
        """Multi-head self-attention on batch-first ``x`` [B, L, w]; ``allowed`` [B, 1, 1, L]
        marks the keys each query may attend to (True = attend)."""
        b, length, width = x.shape
        head_dim = width // self.heads
        qkv = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias)
        q, k, v = qkv.view(b, length, 3, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, is_causal=is_causal)
        out = out.transpose(1, 2).reshape(b, length, width)
        return F.linear(out, self.attn.out_proj.weight, self.attn.out_proj.bias)

    def mlp_forward(self, h: torch.Tensor) -> torch.Tensor:
        """``c_proj(QuickGELU(c_fc(h)))``.

        In fp16 the official op sequence is kept (its rounding is what users of the official
        code get). Otherwise QuickGELU's 1.702 is folded into the two matrix products
        (``x·σ(1.702x) = silu(1.702x) / 1.702``), which leaves one fused element-wise pass
        instead of three over the widest activation of the network.
        """
        if h.dtype == torch.float16:
            return self.mlp.c_proj(self.mlp.gelu(self.mlp.c_fc(h)))
        shape = h.shape
        flat = h.reshape(-1, shape[-1])
        a = torch.addmm(self.mlp.c_fc.bias, flat, self.mlp.c_fc.weight.t(), beta=QUICK_GELU, alpha=QUICK_GELU)
        F.silu(a, inplace=True)
        out = torch.addmm(self.mlp.c_proj.bias, a, self.mlp.c_proj.weight.t(), alpha=1.0 / QUICK_GELU)
        return out.view(shape)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        x = x + self.attention(_layer_norm(self.ln_1, x), allowed, is_causal)
        return x + self.mlp_forward(_layer_norm(self.ln_2, x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(width, heads) for _ in range(layers))

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, allowed, is_causal)
        return x


class VisualTower(nn.Module):
    """Transformer over ``L`` sampled I3D clip features plus a class slot."""

    def __init__(self, input_dim: int, width: int, layers: int, heads: int, positions: int, embed_dim: int):
        super().__init__()
        scale = width**-0.5
        self.conv1 = nn.Conv2d(input_dim, width, kernel_size=1, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(positions, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, embed_dim))

    def forward(self, clips: torch.Tensor, slot_valid: torch.Tensor) -> torch.Tensor:
        """``clips`` [B, L, input_dim], ``slot_valid`` [B, L+1] (slot 0 = CLS) → [B, L+1, E]."""
        b, length, _ = clips.shape
        if clips.dtype == torch.float16:
            # Official numerics: the projection runs as a 1×1 convolution in half precision.
            h = F.conv2d(clips.transpose(1, 2).unsqueeze(-1), self.conv1.weight).squeeze(-1).transpose(1, 2)
        else:
            h = F.linear(clips, self.conv1.weight.flatten(1))
        cls = self.class_embedding.to(h.dtype).expand(b, 1, -1)
        x = torch.cat([cls, h], dim=1) + self.positional_embedding[: length + 1].to(h.dtype)
        x = _layer_norm(self.ln_pre, x)
        allowed = slot_valid[:, None, None, :]
        x = self.transformer(x, allowed)
        x = _layer_norm(self.ln_post, x)
        return x @ self.proj


class CiCoModel(nn.Module):
    """The official SiLVERScore alignment model (``architecture = "cico"``).

    Implements :class:`silverscore.models.base.AlignmentModel` for I3D feature inputs.
    """

    input_kind = "i3d"

    def __init__(
        self,
        *,
        input_dim: int = 1024,
        vision_width: int = 768,
        vision_layers: int = 12,
        visual_positions: int = 65,
        text_width: int = 512,
        text_layers: int = 12,
        embed_dim: int = 512,
        vocab_size: int = 49408,
        context_length: int = 77,
        max_words: int = MAX_WORDS,
        softmax: str = "official",
        truncation: Truncation = "head",
        name: str = "cico",
    ):
        super().__init__()
        self.name = name
        self.softmax = softmax
        self.truncation: Truncation = truncation
        self.max_words = max_words
        self.clip_length = visual_positions - 1
        self.precision = "fp32"
        self.visual = VisualTower(input_dim, vision_width, vision_layers, vision_width // 64, visual_positions, embed_dim)
        self.token_embedding = nn.Embedding(vocab_size, text_width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, text_width).normal_(std=0.01))
        self.transformer = Transformer(text_width, text_layers, text_width // 64)
        self.ln_final = nn.LayerNorm(text_width)
        self.text_projection = nn.Parameter(torch.empty(text_width, embed_dim).normal_(std=text_width**-0.5))
        self.logit_scale = nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))
        self._dims = dict(
            input_dim=input_dim,
            vision_width=vision_width,
            vision_layers=vision_layers,
            visual_positions=visual_positions,
            text_width=text_width,
            text_layers=text_layers,
            embed_dim=embed_dim,
            vocab_size=vocab_size,
            context_length=context_length,
            max_words=max_words,
        )

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict) -> "CiCoModel":
        keys = ("input_dim", "vision_width", "vision_layers", "visual_positions", "text_width", "text_layers",
                "embed_dim", "vocab_size", "context_length", "max_words", "softmax", "truncation", "name")
        return cls(**{k: config[k] for k in keys if k in config})

    def config(self) -> dict:
        return {"architecture": "cico", "softmax": self.softmax, "truncation": self.truncation, "name": self.name, **self._dims}

    def set_precision(self, precision: str) -> "CiCoModel":
        """Switch between ``fp32``/``fp64`` (everything in that dtype) and ``fp16`` (official numerics)."""
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r} (use one of {', '.join(PRECISIONS)})")
        dtype = PRECISIONS[precision]
        if precision == "fp16":
            self.float()
            half = [m for m in self.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
            for module in half:
                module.half()
            for block in [*self.visual.transformer.resblocks, *self.transformer.resblocks]:
                block.attn.in_proj_weight.data = block.attn.in_proj_weight.data.half()
                block.attn.in_proj_bias.data = block.attn.in_proj_bias.data.half()
            self.visual.proj.data = self.visual.proj.data.half()
            self.text_projection.data = self.text_projection.data.half()
        else:
            self.to(dtype)
        self.precision = precision
        return self

    @property
    def feature_dim(self) -> int:
        """Width of the clip features this model reads (1024 for I3D)."""
        return self._dims["input_dim"]

    @property
    def compute_dtype(self) -> torch.dtype:
        return PRECISIONS[self.precision]

    @property
    def device(self) -> torch.device:
        return self.logit_scale.device

    # -- AlignmentModel -------------------------------------------------------------------------
    def logit_scale_value(self) -> torch.Tensor:
        return self.logit_scale.detach().to(torch.float64 if self.precision == "fp64" else torch.float32).exp()

    def sample_clips(self, features: np.ndarray) -> tuple[np.ndarray, int]:
        """Temporal sampling to L rows (spec §1.2): linspace rows if n ≥ L, else zero padding."""
        n = features.shape[0]
        length = self.clip_length
        if n >= length:
            return features[np.linspace(0, n - 1, length, dtype=int)], length
        out = np.zeros((length, features.shape[1]), dtype=np.float32)
        out[:n] = features
        return out, n

    def encode_videos(self, items: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        sampled = [self.sample_clips(np.asarray(item, dtype=np.float32)) for item in items]
        clips = torch.from_numpy(np.stack([s for s, _ in sampled])).to(self.device, self.compute_dtype)
        counts = torch.tensor([n for _, n in sampled], device=self.device)
        slots = torch.arange(self.clip_length + 1, device=self.device)
        valid = (slots[None, :] >= 1) & (slots[None, :] <= counts[:, None])
        return self.visual(clips, valid), valid

    def encode_token_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Text tower on token ids [B, Lt] → [B, Lt, E] (every row kept)."""
        dtype = self.compute_dtype
        length = input_ids.shape[1]
        x = self.token_embedding(input_ids).to(dtype) + self.positional_embedding[:length].to(dtype)
        x = self.transformer(x, None, is_causal=True)
        x = _layer_norm(self.ln_final, x)
        return x @ self.text_projection

    def encode_texts(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tok = tokenize(texts, self.truncation, self.max_words)
        ids = torch.from_numpy(tok.input_ids).to(self.device)
        return self.encode_token_ids(ids), torch.from_numpy(tok.valid).to(self.device), torch.from_numpy(tok.truncated)
