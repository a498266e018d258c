"""Timings of the meta-evaluation building blocks; prints figures, asserts nothing.

    python benchmarks/bench_meta.py [--synth DIR] [--model M]

* the paper reproduction (``meta paper``: 8 metrics, BLEU and ROUGE checks, 2 figures);
* one DTW mean joint error of two synthetic-size pose sequences (batched cost matrix + dtw-python);
* the correlation bootstrap (1000 resamples, 3 coefficients) vectorised vs SciPy per resample;
* with ``--synth``: correct-vs-random on the folder's reference signing through ``SynthSession``
  (one ``score_matrix`` per pose set) vs plain paired scoring of correct and random pairs.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats as sps


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synth", help="a `silverscore synth` test folder for the model-driven timing")
    parser.add_argument("--model", default=None, help="model for --synth (default: the bundled model)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from silverscore.meta.analyses import bootstrap_correlations
    from silverscore.meta.experiments import paper_experiment
    from silverscore.meta.paper import paper_dir_default
    from silverscore.meta.pose_baselines import dtw_mean_joint_error
    from silverscore.inputs.poses import pose_from_array

    paper = paper_dir_default()
    if (paper / "bt_score_data.csv").is_file():
        with tempfile.TemporaryDirectory() as out:
            print(f"meta paper (642 items, 8 metrics, BLEU+ROUGE checks, 2 PNGs): {timed(lambda: paper_experiment(paper, out)):.2f} s")
    else:
        print(f"meta paper: skipped ({paper} absent)")

    rng = np.random.default_rng(0)
    a = pose_from_array(rng.random((92, 104, 3)).astype(np.float32))
    b = pose_from_array(rng.random((111, 104, 3)).astype(np.float32))
    print(f"DTW-MJE, 92 x 111 frames, 104 joints: {1000 * timed(lambda: dtw_mean_joint_error(a, b), 5):.1f} ms")

    n = 300
    x = rng.random(n)
    y = x + rng.random(n)
    samples = rng.integers(0, n, size=(1000, n))
    vec = timed(lambda: bootstrap_correlations(x, y, samples))
    loop = timed(lambda: [(sps.kendalltau(x[i], y[i])[0], sps.spearmanr(x[i], y[i])[0], sps.pearsonr(x[i], y[i])[0])
                          for i in samples])
    print(f"correlation bootstrap, {n} items x 1000 resamples: vectorised {vec:.2f} s, SciPy loop {loop:.2f} s")

    if args.synth:
        from silverscore.api import Scorer
        from silverscore.meta.pairs import draw_random_pairs
        from silverscore.meta.synthetic import SynthSession, load_test_set

        scorer = Scorer(args.model)
        test = load_test_set(args.synth)
        pairs = draw_random_pairs(len(test.ids), 0)

        def session_route():
            session = SynthSession(scorer, Path(args.synth))
            session.score(test.poses, test.texts)
            session.score([test.poses[i] for i, _ in pairs], [test.texts[j] for _, j in pairs])

        def paired_route():
            scorer.score(test.poses, test.texts)
            scorer.score([test.poses[i] for i, _ in pairs], [test.texts[j] for _, j in pairs])

        paired_route()  # warm the text cache so both routes pay only for the videos
        print(f"correct+random on {len(test.ids)} items: matrix route {timed(session_route):.2f} s, "
              f"paired route {timed(paired_route):.2f} s ({scorer.signature})")


if __name__ == "__main__":
    main()
