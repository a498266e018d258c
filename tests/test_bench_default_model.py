"""The default-model benchmark script: one seed and several seeds measure the same figures.

Small corpora (a dozen test sentences) keep this to seconds; the figures themselves are the
benchmark's business, here only that the multi-seed summary is built from the per-seed runs and
that a bad ``--seeds`` is a usage error."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_default_model.py"
SMALL = ["--items", "12", "--system-items", "4", "--threads", "1"]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_default_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    # registered by name, as a script's module is, so that its worker functions can be pickled
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    yield module
    monkeypatch.undo()


def _without_timing(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k != "seconds"}


def test_several_seeds_repeat_each_single_seed_run_and_count_passes(bench, tmp_path, capsys):
    single = tmp_path / "single.json"
    multi = tmp_path / "multi.json"
    assert bench.main(SMALL + ["--seed", "5", "--json", str(single)]) == 0
    assert bench.main(SMALL + ["--seeds", "3,5", "--json", str(multi)]) == 0
    out = capsys.readouterr().out
    one = json.loads(single.read_text())
    many = json.loads(multi.read_text())
    assert many["seeds"] == [3, 5]
    assert [run["seed"] for run in many["runs"]] == [3, 5]
    # the seed-5 run of the multi-seed call is the single-seed call, figure for figure
    assert _without_timing(many["runs"][1]) == _without_timing(one)
    assert many["runs"][0]["correct_vs_random"] != one["correct_vs_random"]  # another corpus
    summary = many["summary"]
    # thresholds written out here, not read from the script
    overlaps = [run["correct_vs_random"]["overlap"] for run in many["runs"]]
    taus = [run["systems"]["kendall_tau"] for run in many["runs"]]
    assert summary["correct_vs_random_overlap<=5"]["passed"] == sum(v <= 5.0 for v in overlaps)
    assert summary["systems_tau>=0.9"]["passed"] == sum(v >= 0.9 for v in taus)
    assert summary["systems_tau>=0.9"]["min"] == min(taus)
    assert summary["systems_tau>=0.9"]["max"] == max(taus)
    assert summary["systems_tau>=0.9"]["mean"] == pytest.approx(sum(taus) / 2)
    assert all(row["runs"] == 2 for row in summary.values())
    # the pairs ranked against the truth, recounted here from each run's table
    tally = {}
    for run in many["runs"]:
        table = run["systems"]["table"]
        wrong = sorted([a, b] for a in table for b in table
                       if table[a]["true_quality"] > table[b]["true_quality"]
                       and table[a]["silverscore"] < table[b]["silverscore"])
        assert sorted(run["systems"]["out_of_order"]) == wrong
        for a, b in wrong:
            tally[(a, b)] = tally.get((a, b), 0) + 1
    assert {(t["better"], t["worse"]): t["runs"] for t in many["out_of_order"]} == tally
    assert [t["runs"] for t in many["out_of_order"]] == sorted(tally.values(), reverse=True)
    assert "system pairs out of order (sets of 2)" in out
    assert "over test corpus seeds 3, 5:" in out
    assert out.count("test corpus seed ") == 3  # one block per run: 5, then 3 and 5


@pytest.mark.parametrize("seeds", ["", "3,x", "3,3"])
def test_bad_seed_lists_are_usage_errors(bench, seeds, capsys):
    with pytest.raises(SystemExit) as stop:
        bench.main(SMALL + ["--seeds", seeds])
    assert stop.value.code == 2
    assert "--seeds" in capsys.readouterr().err


def test_rendering_in_worker_processes_gives_the_same_figures(bench, tmp_path):
    """--processes renders the test videos in forked workers (silverscore.parallel): every figure,
    the simulated systems' table included, must be the one rendered in this process."""
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    assert bench.main(SMALL + ["--seed", "3", "--processes", "0", "--json", str(here)]) == 0
    assert bench.main(SMALL + ["--seed", "3", "--processes", "2", "--json", str(there)]) == 0
    one, two = json.loads(here.read_text()), json.loads(there.read_text())
    assert one["systems"]["table"] and one["hard_negatives"]
    assert _without_timing(one) == _without_timing(two)


def test_random_pairs_that_drew_an_items_own_pair_are_counted_and_left_out_of_the_second_auc(bench):
    """An oracle that scores 100 exactly when the text is the one the video was made for: every
    "random" pair that drew the same index twice is a correct pair to it, so the protocol's AUC
    falls below 1 by those pairs alone, and the AUC without them is 1."""
    from types import SimpleNamespace

    import numpy as np

    from silverscore.meta.pairs import draw_random_pairs

    class Oracle:
        signature = "oracle"

        def __init__(self):
            self.text_of = {}

        def score(self, videos, texts):
            if not self.text_of:  # the first call scores each test video with its own text
                self.text_of = {id(v): t for v, t in zip(videos, texts)}
            return SimpleNamespace(scores=np.array([100.0 if self.text_of.get(id(v)) == t else float(len(t) % 7)
                                                    for v, t in zip(videos, texts)]))

    pairs = draw_random_pairs(12, 3)
    own = int(np.sum(pairs[:, 0] == pairs[:, 1]))
    assert own == 1  # this corpus has one; the figures below depend on it
    figures = bench.measure(Oracle(), 12, 3, 4)["correct_vs_random"]
    assert figures["own_pairs"] == own
    # 12 correct pairs at 100 against 11 random pairs below and one tie: (12·11 + 12·0.5) / 144
    assert figures["auc"] == pytest.approx((12 * 11 + 6) / 144)
    assert figures["auc_without_own_pairs"] == 1.0


def test_out_of_order_pairs_by_hand(bench):
    truth = {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.7}
    metric = {"a": 1.0, "b": 3.0, "c": 2.0, "d": 5.0}
    # a is better than b, c and d by truth but scores under all three; b scores over c but under
    # d; c and d tie in truth and are left out
    assert bench.out_of_order(truth, metric) == [["a", "b"], ["a", "c"], ["a", "d"], ["b", "d"]]
    runs = [{"systems": {"out_of_order": [["a", "b"], ["b", "d"]]}}, {"systems": {"out_of_order": [["b", "d"]]}}]
    assert bench.tally_out_of_order(runs) == [{"better": "b", "worse": "d", "runs": 2},
                                              {"better": "a", "worse": "b", "runs": 1}]
