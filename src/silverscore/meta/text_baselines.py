"""Text-side baselines on back-translations: BLEU-1..4, chrF (sacrebleu) and ROUGE-L variants.

These are what a SiLVERScore user would otherwise compute: translate the generated signing back
to text with a recogniser and compare it with the reference. The configuration is the one that
reproduces the authors' released columns exactly (see docs/meta.md):

* **BLEU-n** – sacrebleu sentence BLEU with ``max_ngram_order=n``, ``effective_order=False``,
  ``smooth_method="none"``, ``tokenize="none"`` (the PHOENIX texts are already tokenised and
  lower-cased). Without smoothing a sentence with no matching n-gram scores exactly 0, which is
  what the paper's BLEU-3/4 distributions show.
* **ROUGE-L** – three variants, because the paper's column is not plain rouge-score:
  ``rougeL`` (rouge-score F1 with its default tokenizer, which treats non-ASCII letters such as
  German umlauts as separators: "schön" becomes "sch n"), ``rougeL-ws`` (rouge-score F1 on whitespace tokens) and ``rougeL-slt`` (the
  sentence ROUGE-L of the TensorFlow-NMT / sign-language-transformer evaluation scripts:
  F = (1+β²)·P·R / (R + β²·P) with β = P/R and 1e-12 guards, on whitespace tokens). The last one
  reproduces the authors' column to ~1e-14; its LCS counts come from rouge-score.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
from rouge_score import rouge_scorer, tokenizers
from sacrebleu.metrics import BLEU, CHRF

from .options import DEFAULT_ROUGE, ROUGE_VARIANTS, TOKENIZATIONS  # noqa: F401  (re-exported)
BLEU_ORDERS = (1, 2, 3, 4)


class _WhitespaceTokenizer(tokenizers.Tokenizer):
    """rouge-score tokenizer that keeps tokens as given (the texts are pre-tokenised)."""

    def tokenize(self, text):
        return text.split()


def _quiet_sacrebleu() -> None:
    # Sentence BLEU without effective order is deliberate (it is what the paper computed);
    # sacrebleu warns about it once per sentence, which would flood stderr.
    logging.getLogger("sacrebleu").setLevel(logging.ERROR)


def _check_lengths(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} references")


def pretokenize(texts: Sequence[str], tokenize: str) -> list[str]:
    """``none``: texts as given (already tokenised, like PHOENIX-14T); ``13a``: sacrebleu's
    standard tokenizer (splits punctuation), for raw sentences such as the synthetic English."""
    if tokenize == "none":
        return list(texts)
    if tokenize == "13a":
        from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

        tokenizer = Tokenizer13a()
        return [tokenizer(t) for t in texts]
    raise ValueError(f"unknown tokenization {tokenize!r}; choose from {', '.join(TOKENIZATIONS)}")


def sentence_bleu(hyps: Sequence[str], refs: Sequence[str], order: int = 4, tokenize: str = "none") -> np.ndarray:
    """Per-sentence BLEU-``order`` (0–100), the paper's configuration."""
    _check_lengths(hyps, refs)
    _quiet_sacrebleu()
    bleu = BLEU(max_ngram_order=order, effective_order=False, smooth_method="none", tokenize=tokenize)
    return np.asarray([bleu.sentence_score(h, [r]).score for h, r in zip(hyps, refs)], dtype=np.float64)


def sentence_chrf(hyps: Sequence[str], refs: Sequence[str]) -> np.ndarray:
    """Per-sentence chrF (sacrebleu defaults: character 6-grams, β = 2), 0–100."""
    _check_lengths(hyps, refs)
    chrf = CHRF()
    return np.asarray([chrf.sentence_score(h, [r]).score for h, r in zip(hyps, refs)], dtype=np.float64)


def _slt_f(precision: float, recall: float) -> float:
    beta = precision / (recall + 1e-12)
    numerator = (1.0 + beta**2) * recall * precision
    denominator = recall + beta**2 * precision
    return numerator / (denominator + 1e-12)


def sentence_rouge_l(hyps: Sequence[str], refs: Sequence[str], variant: str = DEFAULT_ROUGE) -> np.ndarray:
    """Per-sentence ROUGE-L (0–100) in one of :data:`ROUGE_VARIANTS`."""
    _check_lengths(hyps, refs)
    if variant not in ROUGE_VARIANTS:
        raise ValueError(f"unknown ROUGE variant {variant!r}; choose from {', '.join(ROUGE_VARIANTS)}")
    tokenizer = None if variant == "rougeL" else _WhitespaceTokenizer()
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=tokenizer)
    out = []
    for hyp, ref in zip(hyps, refs):
        score = scorer.score(ref, hyp)["rougeL"]  # (target, prediction)
        if variant == "rougeL-slt":
            out.append(100.0 * _slt_f(score.precision, score.recall))
        else:
            out.append(100.0 * score.fmeasure)
    return np.asarray(out, dtype=np.float64)


def text_baselines(hyps: Sequence[str], refs: Sequence[str], rouge_variant: str = DEFAULT_ROUGE,
                   tokenize: str = "none") -> dict[str, np.ndarray]:
    """Every text baseline on (hyp k, ref k) pairs: name → per-sentence scores, report order.

    ``tokenize`` applies to BLEU and ROUGE-L (chrF works on characters and needs none).
    """
    _check_lengths(hyps, refs)
    tok_hyps, tok_refs = pretokenize(hyps, tokenize), pretokenize(refs, tokenize)
    scores = {f"BLEU-{order}": sentence_bleu(tok_hyps, tok_refs, order) for order in BLEU_ORDERS}
    scores["chrF"] = sentence_chrf(hyps, refs)
    scores["ROUGE-L"] = sentence_rouge_l(tok_hyps, tok_refs, rouge_variant)
    return scores
