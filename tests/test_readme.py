"""Every marked command of the README runs as written, in order, in one workspace holding the
files it names (a small official-layout checkpoint, feature folders, a reference file, the
authors' released score table). The only change: the synthetic set has 8 sentences, not 100."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO, SHARED, official_state

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"<!-- readme-test(?P<opts>[^>]*)-->\s*```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)
BLOCKS = [(m.group("opts").split(), m.group("lang"), m.group("body")) for m in BLOCK.finditer(README)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    torch.save(official_state(seed=11), root / "ph_sota.pth")
    g = np.random.default_rng(0)
    for folder in ("features", "features_aware", "features_b"):
        (root / folder).mkdir()
        for name, n in (("a", 30), ("b", 90)):
            np.save(root / folder / f"{name}.npy", g.standard_normal((n, 1024)).astype(np.float32))
    (root / "refs.jsonl").write_text(
        json.dumps({"id": "a", "text": "am tag regen im norden"}) + "\n" + json.dumps({"id": "b", "text": "morgen sonne"}) + "\n"
    )
    paper = SHARED / "paper" / "sign_score_data.csv"
    if paper.is_file():
        (root / "sign_score_data.csv").symlink_to(paper)
    return root


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", HOME=str(cwd / "home"))
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_readme_has_marked_blocks():
    kinds = [lang for _, lang, _ in BLOCKS]
    assert kinds.count("bash") >= 5 and "python" in kinds


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block(workspace, index):
    opts, lang, body = BLOCKS[index]
    if "sign_score_data.csv" in body and not (workspace / "sign_score_data.csv").exists():
        pytest.skip("../shared/paper is absent")
    expected = int(next((o.split("=")[1] for o in opts if o.startswith("exit=")), 0))
    if lang == "python":
        proc = subprocess.run([sys.executable, "-c", body], cwd=workspace, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return
    for line in (l for l in body.splitlines() if l.strip() and not l.startswith("#")):
        proc = shell(line.replace("--sentences 100", "--sentences 8"), workspace)
        assert proc.returncode == expected, f"{line}\n{proc.stderr[-2000:]}"
        if expected == 2:
            assert proc.stderr.startswith("silverscore: error: ") and "Traceback" not in proc.stderr
        if "--scores sign_score_data.csv" in line:
            out = json.loads(proc.stdout[proc.stdout.index("{"):])
            assert round(out["overlap"], 2) == 6.85 and round(out["auc"], 4) == 0.9934


def test_readme_main_job(tmp_path):
    """The first set-up command, minus the install that CI has already done, runs the main job."""
    if not (REPO / "src" / "silverscore" / "data" / "default.safetensors").is_file():
        pytest.fail("the bundled default model (src/silverscore/data/default.safetensors) is missing")
    first = re.search(r"```bash\n(.*?)\n```", README, re.S).group(1)
    job = first[first.index("silverscore "):]
    proc = shell(job, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout[proc.stdout.rindex("{\n"):])
    assert summary["n"] == 40 and summary["signature"].startswith("silverscore|model:default@")
    rows = (tmp_path / "demo" / "scores.jsonl").read_text().splitlines()
    assert len(rows) == 40


def test_readme_test_command_is_the_ci_command():
    test_command = re.findall(r"```bash\n(.*?)\n```", README, re.S)[1]
    assert test_command in (REPO / ".ci" / "run").read_text()
