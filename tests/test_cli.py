"""The command line: outputs, one-line errors with exit code 2, no partial files, compare."""
import contextlib
import io
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from silverscore.cli import main


def run_cli(*args):
    """Run the CLI in this process (fast); returns returncode, stdout and stderr like subprocess."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def run_process(*args):
    """Run the real console entry point in a separate process."""
    return subprocess.run([sys.executable, "-m", "silverscore.cli", *map(str, args)], capture_output=True, text=True, check=False)


@pytest.fixture
def corpus(tmp_path):
    g = np.random.default_rng(0)
    feats = tmp_path / "feats"
    feats.mkdir()
    texts = ["the sun shines in the south", "heavy rain tomorrow", "snow in the alps", "  "]
    with open(tmp_path / "refs.jsonl", "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            np.save(feats / f"item{i}.npy", g.standard_normal((5 + 20 * i, 1024)).astype(np.float32))
            f.write(json.dumps({"id": f"item{i}", "text": text}) + "\n")
    return tmp_path


def assert_clean_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("silverscore: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_score_writes_rows_and_summary(corpus, small_ckpt):
    out = corpus / "scores.csv"
    proc = run_cli("score", "--model", small_ckpt, "--hyps", corpus / "feats", "--refs", corpus / "refs.jsonl", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    header, *rows = out.read_text().splitlines()
    assert header == "id,score,z_v2t,z_t2v,clips,truncated,empty_reference"
    assert [r.split(",")[0] for r in rows] == ["item0", "item1", "item2", "item3"]
    assert [r.split(",")[4] for r in rows] == ["5", "25", "45", "65"]
    assert rows[3].endswith(",True")  # the whitespace-only reference is flagged
    assert "warning" in proc.stderr and "empty or whitespace-only" in proc.stderr
    summary = json.loads(proc.stdout)
    scores = [float(r.split(",")[1]) for r in rows]
    assert summary["mean"] == pytest.approx(np.mean(scores))
    assert summary["signature"].startswith("silverscore|model:small_official@")


def test_matrix_mode(corpus, small_ckpt):
    out = corpus / "matrix.npy"
    proc = run_cli("score", "--model", small_ckpt, "--hyps", corpus / "feats", "--refs", corpus / "refs.jsonl", "--matrix", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    matrix = np.load(out)
    assert matrix.shape == (4, 4)
    summary = json.loads(proc.stdout)
    for key in ("v2t_R@1", "v2t_R@5", "v2t_R@10", "v2t_MedR", "t2v_R@1", "t2v_MedR"):
        assert key in summary


def test_two_streams_blend(corpus, small_ckpt, tmp_path):
    aware = tmp_path / "aware"
    aware.mkdir()
    for f in (corpus / "feats").iterdir():
        np.save(aware / f.name, np.zeros_like(np.load(f)))
    blended = tmp_path / "blended"
    blended.mkdir()
    for f in (corpus / "feats").iterdir():
        np.save(blended / f.name, (0.9 * np.load(f).astype(np.float64)).astype(np.float32))
    proc = run_cli("score", "--model", small_ckpt, "--agnostic", corpus / "feats", "--aware", aware, "--alpha", "0.9",
                   "--refs", corpus / "refs.jsonl", "--out", tmp_path / "two.jsonl", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "|alpha:0.9|" in json.loads(proc.stdout)["signature"]
    assert run_cli("score", "--model", small_ckpt, "--hyps", blended, "--refs", corpus / "refs.jsonl",
                   "--out", tmp_path / "one.jsonl", "--quiet").returncode == 0
    two = [json.loads(line)["score"] for line in (tmp_path / "two.jsonl").read_text().splitlines()]
    one = [json.loads(line)["score"] for line in (tmp_path / "one.jsonl").read_text().splitlines()]
    np.testing.assert_allclose(two, one, atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "case,needles",
    [
        ("missing_refs", ["no such reference file"]),
        ("missing_model", ["no such model file"]),
        ("bad_width", ["item1.npy", "feature width is 512"]),
        ("nan", ["item2.npy", "NaN or Inf"]),
        ("zero_rows", ["item0.npy", "zero rows"]),
        ("extra_hyp", ["hypotheses without a reference: stray"]),
        ("missing_hyp", ["references without a hypothesis: item3"]),
        ("empty_refs", ["reference file is empty"]),
        ("latin1_refs", ["not UTF-8"]),
        ("not_ckpt", ["not a PyTorch checkpoint"]),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(corpus, small_ckpt, case, needles):
    model, refs, feats = small_ckpt, corpus / "refs.jsonl", corpus / "feats"
    if case == "missing_refs":
        refs = corpus / "nope.jsonl"
    elif case == "missing_model":
        model = corpus / "nope.pth"
    elif case == "bad_width":
        np.save(feats / "item1.npy", np.zeros((4, 512), np.float32))
    elif case == "nan":
        np.save(feats / "item2.npy", np.full((4, 1024), np.nan, np.float32))
    elif case == "zero_rows":
        np.save(feats / "item0.npy", np.zeros((0, 1024), np.float32))
    elif case == "extra_hyp":
        np.save(feats / "stray.npy", np.zeros((4, 1024), np.float32))
    elif case == "missing_hyp":
        (feats / "item3.npy").unlink()
    elif case == "empty_refs":
        refs.write_text("")
    elif case == "latin1_refs":
        refs.write_bytes('{"id": "item0", "text": "caf\xe9"}\n'.encode("latin-1"))
    elif case == "not_ckpt":
        model = corpus / "junk.pth"
        model.write_text("junk")
    out = corpus / "out.jsonl"
    proc = run_cli("score", "--model", model, "--hyps", feats, "--refs", refs, "--out", out, "--quiet")
    assert_clean_error(proc, *needles)
    assert not out.exists()
    assert not [p for p in corpus.iterdir() if p.name.startswith(".out.jsonl")]


def test_named_variant_offline(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERSCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    proc = run_process("score", "--model", "phoenix", "--hyps", corpus / "feats", "--refs", corpus / "refs.jsonl")
    assert_clean_error(proc, "ph_sota.pth", str(tmp_path / "home"))


def test_compare(tmp_path):
    g = np.random.default_rng(0)
    base = g.normal(50, 5, size=40)
    (tmp_path / "a.jsonl").write_text("".join(json.dumps({"id": f"s{i}", "score": float(x + 3)}) + "\n" for i, x in enumerate(base)))
    (tmp_path / "b.csv").write_text("id,score\n" + "".join(f"s{i},{x}\n" for i, x in enumerate(base)))
    proc = run_cli("compare", tmp_path / "a.jsonl", tmp_path / "b.csv", "--trials", "2000")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n"] == 40
    assert out["paired_bootstrap"]["mean_diff"] == pytest.approx(3.0)
    assert out["approximate_randomization"]["p_value"] == pytest.approx(1 / 2001)
    (tmp_path / "c.csv").write_text("id,score\ns0,1\n")
    assert_clean_error(run_cli("compare", tmp_path / "a.jsonl", tmp_path / "c.csv"), "ids differ")


def test_help_imports_no_heavy_library():
    """`silverscore --help` must be instant: no torch, scipy, scikit-learn or matplotlib."""
    code = ("import sys; from silverscore.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'scipy', 'sklearn', 'matplotlib', 'rouge_score') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
