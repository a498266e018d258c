"""CLIP BPE tokenisation as the official SiLVERScore/CiCo code does it (spec §1.3).

The byte-level BPE itself (ftfy fix, HTML-unescape twice, whitespace collapse, lower-case, CLIP
regex split, merges from ``bpe_simple_vocab_16e6.txt.gz``) comes from the maintained
``clip-anytorch`` package, which bundles the vocabulary. Its package ``__init__`` imports
torchvision, which is neither needed nor importable beside the pinned CPU torch, so we load only
its ``simple_tokenizer`` module by file location (the package is located, not executed).

What this module adds is the part that belongs to SiLVERScore: the fixed 32-slot layout
``[49406] + ids[:30] + [49407]`` right-padded with id 0, the choice of truncation (``head`` like
the official package, ``linspace`` like CiCo's loader) and a flag for truncated texts.
"""
from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

START_ID = 49406
END_ID = 49407
PAD_ID = 0
MAX_WORDS = 32  # slots per text, start and end tokens included

Truncation = Literal["head", "linspace"]


@functools.lru_cache(maxsize=1)
def _simple_tokenizer():
    """The bundled CLIP tokenizer, built once on first use (reading the vocabulary takes ~0.3 s)."""
    spec = importlib.util.find_spec("clip")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the CLIP tokenizer needs the 'clip-anytorch' package: pip install clip-anytorch")
    location = list(spec.submodule_search_locations)[0]
    module_spec = importlib.util.spec_from_file_location(
        "silverscore._clip_simple_tokenizer", f"{location}/simple_tokenizer.py"
    )
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.SimpleTokenizer()


@dataclass(frozen=True)
class TokenizedTexts:
    """Token ids [N, 32] (int64), valid mask [N, 32] (bool: start..end), truncated flags [N]."""

    input_ids: np.ndarray
    valid: np.ndarray
    truncated: np.ndarray


def bpe_ids(text: str) -> list[int]:
    """CLIP BPE ids of ``text`` without start/end tokens."""
    return _simple_tokenizer().encode(text)


def _truncate(ids: list[int], budget: int, truncation: Truncation) -> list[int]:
    if len(ids) <= budget:
        return ids
    if truncation == "head":
        return ids[:budget]
    if truncation == "linspace":
        keep = np.linspace(0, len(ids) - 1, budget, dtype=int)
        return [ids[i] for i in keep]
    raise ValueError(f"unknown truncation {truncation!r} (use 'head' or 'linspace')")


def tokenize(texts: Sequence[str], truncation: Truncation = "head", max_words: int = MAX_WORDS) -> TokenizedTexts:
    """Tokenise sentences into the fixed ``max_words``-slot layout the CLIP text tower expects."""
    budget = max_words - 2
    n = len(texts)
    input_ids = np.full((n, max_words), PAD_ID, dtype=np.int64)
    valid = np.zeros((n, max_words), dtype=bool)
    truncated = np.zeros(n, dtype=bool)
    for row, text in enumerate(texts):
        ids = bpe_ids(text)
        truncated[row] = len(ids) > budget
        seq = [START_ID, *_truncate(ids, budget, truncation), END_ID]
        input_ids[row, : len(seq)] = seq
        valid[row, : len(seq)] = True
    return TokenizedTexts(input_ids, valid, truncated)
