"""Scoring speed and memory with a full-size random CiCo checkpoint (ViT-B/32 shapes).

Prints, as JSON lines:
* the machine's fp32 matmul peak (GFLOP/s, best of a few 2048² products, measured in this run);
* ``silverscore`` in-process paired scoring of 200 and 2,000 items: items/s, GFLOP/s, fraction of
  the matmul peak;
* an official-style path on the same items (both towers in fp16 as the official package runs
  them on CPU, then all pairs, then the diagonal) and our speed-up over it, with the largest score
  difference between the two (the fp16 numerics differ from exact fp32 by up to ~5e-2 raw);
* the whole ``silverscore score`` process on 400 feature files (start-up, loading, reading,
  writing included): wall time, GFLOP/s and fraction of peak, peak RSS;
* peak RSS of the process for 200 and 2,000 items (memory linear in N, not quadratic).

Usage: ``python benchmarks/bench_score.py [--items 200 2000] [--official-max 200]``.
The official-style path is quadratic and slow in fp16 on CPU, so it runs on at most
``--official-max`` items; its rate is per item.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from silverscore.api import Scorer
from silverscore.models.checkpoints import load_model
from silverscore.models.cico import CiCoModel
from silverscore.similarity import combine, matrix_similarity

FULL = dict(vision_width=768, vision_layers=12, text_width=512, text_layers=12, embed_dim=512)
WORDS = ("regen schnee sonne wolken nord sued morgen abend wind gewitter temperatur grad "
         "the rain in north south tomorrow evening will be heavy mostly sunny warm cold front").split()


def matmul_peak(size: int = 2048, repeats: int = 6) -> float:
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def flops_per_item(dims: dict, text_fraction: float = 1.0) -> float:
    """Multiply-adds ×2 of the visual tower (65 slots) and text tower (32 slots) per item."""

    def tower(tokens: int, width: int, layers: int) -> float:
        per_layer = 2 * tokens * width * 3 * width + 4 * tokens * tokens * width + 2 * tokens * width * width + 16 * tokens * width * width
        return layers * per_layer

    visual = 2 * 64 * dims["input_dim"] * dims["vision_width"] + tower(65, dims["vision_width"], dims["vision_layers"])
    visual += 2 * 65 * dims["vision_width"] * dims["embed_dim"]
    text = tower(32, dims["text_width"], dims["text_layers"]) + 2 * 32 * dims["text_width"] * dims["embed_dim"]
    similarity = 2 * 65 * 32 * dims["embed_dim"]
    return visual + text_fraction * text + similarity


def make_checkpoint(path: Path) -> None:
    torch.manual_seed(0)
    model = CiCoModel(**FULL)
    state = {f"clip.{k}": v.detach().half() for k, v in model.state_dict().items()}
    state["clip.logit_scale"] = torch.tensor(np.log(100.0), dtype=torch.float32)
    torch.save(state, path)


def make_items(n: int, seed: int = 0):
    g = np.random.default_rng(seed)
    feats = [g.standard_normal((int(k), 1024)).astype(np.float32) for k in g.integers(16, 200, size=n)]
    texts = [" ".join(g.choice(WORDS, size=int(g.integers(4, 24)))) for _ in range(n)]
    return feats, texts


@torch.no_grad()
def official_style(model, feats, texts, batch: int = 64):
    """Both towers in fp16 (official numerics), the full N×N similarity, then its diagonal."""
    model.set_precision("fp16")
    v_parts, m_parts = [], []
    for a in range(0, len(feats), batch):
        v, m = model.encode_videos(feats[a : a + batch])
        v_parts.append(v)
        m_parts.append(m)
    t, tv, _ = model.encode_texts(texts)
    lam = model.logit_scale_value()
    zv, zt = matrix_similarity(torch.cat(v_parts).float(), torch.cat(m_parts), t.float(), tv, lam)
    model.set_precision("fp32")
    return combine(zv.diagonal(), zt.diagonal(), 0.5, 1.0).numpy()


def process_run(ckpt: Path, n: int, workdir: Path) -> dict:
    """``silverscore score`` as a separate process on n feature files; wall time and peak RSS."""
    feats, texts = make_items(n, seed=n)
    hyps = workdir / f"hyps{n}"
    hyps.mkdir(exist_ok=True)
    with open(workdir / f"refs{n}.jsonl", "w", encoding="utf-8") as refs:
        for i, (f, t) in enumerate(zip(feats, texts)):
            np.save(hyps / f"{i:05d}.npy", f)
            refs.write(json.dumps({"id": f"{i:05d}", "text": t}) + "\n")
    # VmHWM (this process's own peak RSS, reset by exec) rather than ru_maxrss, which a child
    # inherits from the parent that forked it.
    code = (
        "import sys; from silverscore.cli import main; rc = main(sys.argv[1:]); "
        "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM')); "
        "print('RSS', hwm.split()[1], file=sys.stderr); sys.exit(rc)"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, "score", "--model", str(ckpt), "--hyps", str(hyps), "--refs",
         str(workdir / f"refs{n}.jsonl"), "--out", str(workdir / f"out{n}.jsonl"), "--quiet"],
        capture_output=True, text=True, check=True,
    )
    wall = time.perf_counter() - start
    rss_kb = int(next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("RSS")))
    return {"items": n, "wall_s": wall, "peak_rss_mb": rss_kb / 1024, "texts_unique": len(set(texts))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--official-max", type=int, default=200)
    parser.add_argument("--process-items", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads here and in the child process (default: torch's choice); "
                             "the peak is measured with the same number")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # inherited by the `silverscore score` process

    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu_count": os.cpu_count()}))
    peak = matmul_peak()
    print(json.dumps({"fp32_matmul_peak_gflops": round(peak, 1)}))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = tmp / "full_random.pth"
        make_checkpoint(ckpt)
        loaded = load_model(ckpt)
        dims = loaded.model.config()
        scorer = Scorer(loaded, batch_size=args.batch_size, scale=1.0)
        for n in args.items:
            feats, texts = make_items(n)
            start = time.perf_counter()
            ours = scorer.score(feats, texts).scores
            took = time.perf_counter() - start
            gflop = n * flops_per_item(dims, len(set(texts)) / n) / 1e9
            row = {"items": n, "ours_items_per_s": round(n / took, 2), "ours_s": round(took, 2),
                   "ours_gflops": round(gflop / took, 1), "fraction_of_peak": round(gflop / took / peak, 3)}
            m = min(n, args.official_max)
            start = time.perf_counter()
            official = official_style(loaded.model, feats[:m], texts[:m])
            official_took = time.perf_counter() - start
            row.update({
                "official_style_items": m,
                "official_style_items_per_s": round(m / official_took, 2),
                "speedup": round((n / took) / (m / official_took), 2),
                "max_abs_score_diff_vs_official_style": float(np.abs(official - ours[:m]).max()),
            })
            print(json.dumps(row))
        for n in sorted({args.process_items, *args.items}):
            res = process_run(ckpt, n, tmp)
            gflop = n * flops_per_item(dims, res.pop("texts_unique") / n) / 1e9
            res.update({"process_gflops": round(gflop / res["wall_s"], 1),
                        "process_fraction_of_peak": round(gflop / res["wall_s"] / peak, 3),
                        "wall_s": round(res["wall_s"], 2), "peak_rss_mb": round(res["peak_rss_mb"], 1)})
            print(json.dumps({"whole_process": res}))
    print(json.dumps({"self_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
