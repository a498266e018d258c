"""`silverscore meta` on small tables the tests write: skipping, errors, every table mode, report."""
import json

import numpy as np
import pytest
from scipy import stats as sps

from silverscore.cli import main


def _write(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
    return path


def _run(capsys, *argv):
    code = main(["meta", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_discrimination_skips_and_counts_bad_rows(tmp_path, capsys):
    table = _write(tmp_path / "s.csv", ["c", "r"], [[3, 1], [4, 3], ["", 2], ["x", 1], [5, "nan"]])
    code, out, _ = _run(capsys, "discrimination", "--scores", str(table), "--correct", "c", "--random", "r")
    assert code == 0
    result = json.loads(out)
    assert result["skipped"] == 3
    assert result["auc"] == pytest.approx(0.875)  # pos [3, 4], neg [1, 3], worked out by hand


def test_missing_column_names_the_existing_ones(tmp_path, capsys):
    table = _write(tmp_path / "s.csv", ["alpha", "beta"], [[1, 2]])
    code, out, err = _run(capsys, "discrimination", "--scores", str(table), "--correct", "gamma", "--random", "beta")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "gamma" in err and "alpha, beta" in err


def test_reorder_table_mode(tmp_path, capsys):
    rows = [[v, v - 10] for v in (1.0, 2.0, 3.0, 7.0)] + [["", 1]]
    table = _write(tmp_path / "r.csv", ["orig", "reord"], rows)
    code, out, _ = _run(capsys, "reorder", "--scores", str(table), "--original", "orig", "--rewritten", "reord")
    result = json.loads(out)
    assert code == 0 and result["skipped"] == 1
    assert result["overlap"] == pytest.approx(100.0) and result["auc"] == pytest.approx(0.5)


def test_prosody_table_mode(tmp_path, capsys):
    rows = [[1, "none"], [2, "none"], [3, "none"], [3, "high"], [4, "high"], [5, "high"], ["", "low"]]
    table = _write(tmp_path / "p.csv", ["s", "g"], rows)
    code, out, _ = _run(capsys, "prosody", "--scores", str(table), "--score", "s", "--group", "g")
    result = json.loads(out)
    assert result["skipped"] == 1
    assert result["groups"]["high"]["shift"] == pytest.approx(2.0)
    assert result["kruskal_wallis"]["p_value"] == pytest.approx(sps.kruskal([1, 2, 3], [3, 4, 5]).pvalue)


def test_hard_negatives_table_mode_keys_name_the_set(tmp_path, capsys):
    table = _write(tmp_path / "h.csv", ["ok", "neg", "mp"], [[5, 1, 5], [6, 2, 7], [7, 8, 6]])
    code, out, _ = _run(capsys, "hard-negatives", "--scores", str(table), "--correct", "ok",
                        "--negative", "negation=neg", "--negative", "minimal_pair=mp")
    result = json.loads(out)
    # negation: pos [5,6,7] vs neg [1,2,8]: wins 2+2+2 = 6 of 9
    assert result["negation"]["auc"] == pytest.approx(6 / 9)
    # minimal pair: pos [5,6,7] vs [5,7,6]: 5:(0.5,0,0) 6:(1,0,0.5) 7:(1,0.5,1) -> 4.5 / 9
    assert result["minimal_pair"]["auc"] == pytest.approx(0.5)


def test_ranking_table_mode(tmp_path, capsys):
    rng = np.random.default_rng(0)
    base = rng.random(40)
    rows = [[b, b + 1, b + 2] for b in base]
    table = _write(tmp_path / "k.csv", ["bad", "mid", "good"], rows)
    code, out, _ = _run(capsys, "ranking", "--scores", str(table), "--systems", "bad,mid,good", "--quality", "1,2,3")
    result = json.loads(out)
    assert result["kendall_tau"] == pytest.approx(1.0)
    assert all(n["correct_order"] and n["randomization_p"] < 0.01 for n in result["neighbours"])


def test_correlation_table_mode(tmp_path, capsys):
    rng = np.random.default_rng(1)
    human = rng.random(30)
    metric = human + 0.3 * rng.random(30)
    table = _write(tmp_path / "c.csv", ["m", "h"], list(zip(metric, human)) + [["", 1]])
    code, out, _ = _run(capsys, "correlation", "--scores", str(table), "--metric", "m", "--human", "h", "--n-boot", "200")
    result = json.loads(out)
    assert result["skipped"] == 1
    assert result["kendall"]["value"] == pytest.approx(sps.kendalltau(metric, human)[0])
    assert result["pearson"]["value"] == pytest.approx(np.corrcoef(metric, human)[0, 1])
    lo, hi = result["spearman"]["ci"]
    assert lo <= result["spearman"]["value"] <= hi


def test_generalization_table_mode(tmp_path, capsys):
    rows = [["A", "x", 5, 1], ["A", "x", 6, 2], ["A", "y", 1, 5], ["A", "y", 2, 6], ["B", "x", 1, 1], ["B", "x", 2, 2]]
    table = _write(tmp_path / "g.csv", ["model", "test", "c", "r"], rows)
    code, out, _ = _run(capsys, "generalization", "--scores", str(table), "--row", "model", "--column", "test",
                        "--correct", "c", "--random", "r")
    result = json.loads(out)
    assert result["auc"]["A"]["x"] == pytest.approx(1.0)
    assert result["auc"]["A"]["y"] == pytest.approx(0.0)
    assert result["auc"]["B"]["x"] == pytest.approx(0.5)


def test_outputs_and_report(tmp_path, capsys):
    rng = np.random.default_rng(2)
    table = _write(tmp_path / "s.csv", ["c", "r"], [[a, b] for a, b in zip(rng.normal(2, 1, 50), rng.normal(0, 1, 50))])
    out_dir = tmp_path / "res"
    assert _run(capsys, "discrimination", "--scores", str(table), "--correct", "c", "--random", "r", "--out", str(out_dir))[0] == 0
    assert (out_dir / "discrimination.json").is_file()
    assert (out_dir / "discrimination_hist.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = _run(capsys, "report", str(out_dir))
    report = (out_dir / "report.md").read_text()
    assert code == 0 and "## discrimination" in report and "(discrimination_roc.png)" in report
    # written elsewhere, figure links point back into the results folder
    assert _run(capsys, "report", str(out_dir), "--output", str(tmp_path / "r.md"))[0] == 0
    assert "(res/discrimination_roc.png)" in (tmp_path / "r.md").read_text()


def test_report_of_empty_folder_is_a_user_error(tmp_path, capsys):
    code, _, err = _run(capsys, "report", str(tmp_path))
    assert code == 2 and "no experiment sections" in err


def test_vectorised_bootstrap_replicates_equal_scipy():
    from silverscore.meta.analyses import bootstrap_correlations

    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, 40).astype(float)  # ties, as ratings have
    y = x + rng.normal(size=40)
    samples = rng.integers(0, 40, size=(15, 40))
    reps = bootstrap_correlations(x, y, samples)
    for i, idx in enumerate(samples):
        assert reps["kendall"][i] == pytest.approx(sps.kendalltau(x[idx], y[idx])[0], abs=1e-12)
        assert reps["spearman"][i] == pytest.approx(sps.spearmanr(x[idx], y[idx])[0], abs=1e-12)
        assert reps["pearson"][i] == pytest.approx(sps.pearsonr(x[idx], y[idx])[0], abs=1e-12)
