"""How close a model must come to perfect for the two hardest "Done when" targets.

    python benchmarks/target_noise_floor.py [--model PATH] [--items 400] [--draws 100]
                                            [--bench-json OUT_OF_bench_default_model.py ...]

Two protocol questions, answered by simulation on the model's own test-split scores (the same
items, seed and scorer as ``bench_default_model.py``):

* **Paraphrase overlap ≥ 90 %.** Each series is min-max normalised on its own and binned in 50
  bins, so the figure is noisy at 400 items. Printed: the model's measured overlap and per-item
  paraphrase-score differences, then the overlap obtained when the paraphrase scores are replaced
  by the *original* scores plus independent noise of a few sizes (what a model with that much
  per-item paraphrase sensitivity and no other defect would score).
* **Kendall τ ≥ 0.9 over the simulated systems.** Printed: the probability that a metric whose
  corpus score is each system's true quality plus an independent error of SD β reaches the
  target, for a few β; and, for every ``--bench-json`` given, the SD of the model's residuals
  (score = a · quality + b fitted over the systems, residuals divided by a) in quality units.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from bench_default_model import _poses

NOISE_SDS = (0.25, 0.5, 0.75, 1.0)
ERROR_SDS = (0.01, 0.02, 0.03, 0.05)


def residual_sd(table: dict) -> tuple[float, float]:
    """(slope, SD of the residuals in quality units) of a fit score = a · quality + b."""
    quality = np.array([row["true_quality"] for row in table.values()])
    score = np.array([row["silverscore"] for row in table.values()])
    slope, intercept = np.polyfit(quality, score, 1)
    return float(slope), float(((score - (slope * quality + intercept)) / slope).std())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="checkpoint (default: the bundled default model)")
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--system-items", type=int, default=120)
    parser.add_argument("--draws", type=int, default=100, help="simulated draws per noise level")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bench-json", nargs="*", default=[], help="outputs of bench_default_model.py --json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from scipy.stats import kendalltau

    from silverscore.api import Scorer
    from silverscore.meta.measures import robustness_stats
    from silverscore.synth.corpus import generate_corpus
    from silverscore.synth.systems import SYSTEMS, system_output

    rng = np.random.default_rng(0)
    scorer = Scorer(model=args.model, progress=False)
    print(scorer.signature)
    corpus = generate_corpus(args.items, args.seed, "test")
    items = [it for it in corpus if it.paraphrases]
    videos = _poses(items)
    original = scorer.score(videos, [it.text for it in items]).scores
    paraphrase = scorer.score(videos, [it.paraphrases[0] for it in items]).scores
    diff = paraphrase - original
    print(f"paraphrase: {len(items)} items, overlap {robustness_stats(original, paraphrase)['overlap']:.2f} %, "
          f"per-item difference SD {diff.std():.2f} points (correct scores SD {original.std():.2f}, "
          f"range {original.min():.1f}-{original.max():.1f})")
    for sd in NOISE_SDS:
        overlaps = np.array([robustness_stats(original, original + rng.normal(0.0, sd, original.size))["overlap"]
                             for _ in range(args.draws)])
        print(f"  original + noise SD {sd:.2f}: overlap {overlaps.mean():.1f} ± {overlaps.std():.1f} %, "
              f">= 90 % in {100 * np.mean(overlaps >= 90):.0f} % of draws")

    system_items = corpus[: args.system_items]
    truth = np.array([np.mean([system_output(it, name, kind, strength)[1]["quality"] for it in system_items])
                      for name, kind, strength in SYSTEMS])
    print(f"systems: {len(truth)}, true qualities {np.round(np.sort(truth), 3).tolist()}")
    for beta in ERROR_SDS:
        taus = np.array([kendalltau(truth, truth + rng.normal(0.0, beta, truth.size)).statistic
                         for _ in range(20 * args.draws)])
        print(f"  truth + error SD {beta:.2f}: mean tau {taus.mean():.3f}, >= 0.9 in {100 * np.mean(taus >= 0.9):.1f} %")
    for path in args.bench_json:
        with open(path, encoding="utf-8") as handle:
            figures = json.load(handle)
        slope, sd = residual_sd(figures["systems"]["table"])
        print(f"  {path}: tau {figures['systems']['kendall_tau']:.3f}, slope {slope:.1f} points per quality unit, "
              f"residual SD {sd:.3f} quality units")
    return 0


if __name__ == "__main__":
    sys.exit(main())
