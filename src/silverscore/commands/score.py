"""``silverscore score``: per-sample and corpus SiLVERScore of hypotheses against references."""
from __future__ import annotations

import argparse
import csv
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io_utils import atomic_write


def add_model_options(parser: argparse.ArgumentParser, hyps_required: bool = False) -> None:
    """Options shared by every command that scores with a model (score, meta ...)."""
    group = parser.add_argument_group("model and inputs")
    group.add_argument("--model", default=None,
                       help="checkpoint file (official .pth or our .safetensors), a named variant "
                            "(phoenix, csl, how2sign), or omitted for the bundled default model")
    group.add_argument("--hyps", required=hyps_required,
                       help="folder of <id>.<ext> hypothesis files (features or .pose), or a list file with one path per line")
    group.add_argument("--refs", help="references: JSONL (id, text), TSV/CSV (id, text columns) or plain text")
    group.add_argument("--agnostic", help="folder of domain-agnostic I3D features (with --aware and --alpha)")
    group.add_argument("--aware", help="folder of domain-aware I3D features (same ids as --agnostic)")
    group.add_argument("--alpha", type=float, default=None, help="blend weight α of the agnostic stream (spec: 0.9 PHOENIX-14T, 0.8 CSL-Daily/How2Sign)")
    group.add_argument("--videos", help="folder of <id>.<ext> videos: extract I3D features (needs --agnostic-ckpt) and score them")
    group.add_argument("--agnostic-ckpt", help="with --videos: domain-agnostic I3D checkpoint (BSL-1K bsl5k.pth.tar)")
    group.add_argument("--aware-ckpt", help="with --videos: domain-aware I3D checkpoint (blended with --alpha)")
    group.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    group.add_argument("--batch-size", type=int, default=64, help="hypotheses per forward pass (bounds memory; scores do not change)")
    group.add_argument("--precision", choices=["fp32", "fp16", "fp64"], default="fp32",
                       help="fp32 (default), fp16 (the official code's numerics) or fp64")
    group.add_argument("--scale", type=float, default=3.5, help="κ (default 3.5; 1 gives raw scores)")
    group.add_argument("--truncation", choices=["head", "linspace"], default=None,
                       help="how texts longer than 30 BPE tokens are cut: head (official, default) or linspace (CiCo)")
    group.add_argument("--no-form", action="store_true",
                       help="leave out the model's form factor (models with a form head: the score is then "
                            "the similarity alone; recorded in the signature as form:off)")
    group.add_argument("--quiet", action="store_true", help="no progress bar")


def scorer_from_args(args: argparse.Namespace):
    """Build a :class:`~silverscore.api.Scorer` from the options of :func:`add_model_options`."""
    from ..api import Scorer

    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise InputError(None, f"--device {args.device}: CUDA is not available on this machine")
    if getattr(args, "aware_ckpt", None) and args.alpha is None:
        from ..extract import DEFAULT_ALPHA

        args.alpha = DEFAULT_ALPHA  # the blend that will be applied goes into the signature
    return Scorer(
        args.model,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        scale=args.scale,
        truncation=args.truncation,
        alpha=args.alpha,
        form=not getattr(args, "no_form", False),
        progress=not args.quiet and sys.stderr.isatty(),
        n_boot=getattr(args, "n_boot", 1000),
        seed=getattr(args, "seed", 0),
    )


def load_inputs(args: argparse.Namespace, scorer):
    """References and the matching hypotheses (paths, or blended arrays for two streams)."""
    from ..inputs.features import FEATURE_EXTENSIONS, BlendedStreams
    from ..inputs.hypotheses import resolve_hypotheses
    from ..inputs.references import read_references

    if not args.refs:
        raise InputError(None, "--refs is required")
    refs = read_references(args.refs)
    extensions = FEATURE_EXTENSIONS if scorer.input_kind == "i3d" else (".pose", ".npy", ".npz")
    if args.agnostic or args.aware:
        if not (args.agnostic and args.aware and args.alpha is not None):
            raise InputError(None, "two streams need all of --agnostic, --aware and --alpha")
        if scorer.input_kind != "i3d":
            raise InputError(None, "--agnostic/--aware are I3D feature streams; this model reads poses")
        agnostic = resolve_hypotheses(args.agnostic, refs, extensions)
        aware = resolve_hypotheses(args.aware, refs, extensions)
        hyps = [BlendedStreams(a, b, args.alpha) for a, b in zip(agnostic, aware)]
    elif getattr(args, "videos", None):
        hyps = _features_from_videos(args, refs, scorer)
    else:
        if not args.hyps:
            raise InputError(None, "--hyps is required (or --agnostic/--aware/--alpha)")
        hyps = resolve_hypotheses(args.hyps, refs, extensions)
    return refs, hyps


def _features_from_videos(args: argparse.Namespace, refs, scorer) -> list[np.ndarray]:
    """Extract I3D features of ``--videos`` in memory (the same arrays `silverscore extract` writes)."""
    from ..extract import DEFAULT_ALPHA, extract_features
    from ..inputs.hypotheses import resolve_hypotheses
    from ..inputs.video import VIDEO_SUFFIXES

    if scorer.input_kind != "i3d":
        raise InputError(args.videos, "this model reads poses, not I3D features; use `silverscore extract-poses` first")
    if not args.agnostic_ckpt:
        raise InputError(None, "--videos needs --agnostic-ckpt (and optionally --aware-ckpt with --alpha)")
    paths = resolve_hypotheses(args.videos, refs, VIDEO_SUFFIXES)
    alpha = DEFAULT_ALPHA if args.alpha is None else args.alpha
    features = extract_features(paths, args.agnostic_ckpt, args.aware_ckpt, alpha=alpha, device=args.device,
                                progress=not args.quiet)
    return [features[str(p)] for p in paths]


def _write_rows(path: Path, rows: list[dict]) -> None:
    if path.suffix.lower() in (".csv", ".tsv"):
        with atomic_write(path) as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            writer.writeheader()
            writer.writerows(rows)
    else:
        with atomic_write(path) as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_matrix(path: Path, result) -> None:
    if path.suffix.lower() == ".npy":
        with atomic_write(path, "wb") as handle:
            np.save(handle, result.scores)
        return
    with atomic_write(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", *result.ref_ids])
        for hyp_id, row in zip(result.hyp_ids, result.scores):
            writer.writerow([hyp_id, *(f"{x:.6f}" for x in row)])


def run(args: argparse.Namespace) -> int:
    scorer = scorer_from_args(args)
    refs, hyps = load_inputs(args, scorer)
    texts = [r.text for r in refs]
    ids = [r.id for r in refs]
    if args.matrix:
        result = scorer.score_matrix(hyps, texts, ids, ids)
        if args.out:
            _write_matrix(Path(args.out), result)
        summary = {"n": len(ids), "matrix": True, **result.retrieval(), "signature": result.signature}
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = scorer.score(hyps, texts, ids)
        for w in caught:
            print(f"silverscore: warning: {args.refs}: {w.message}", file=sys.stderr)
        if args.out:
            _write_rows(Path(args.out), result.rows())
        summary = result.summary()
    print(json.dumps(summary, indent=1))
    print(summary["signature"], file=sys.stderr)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score hypotheses against references",
        description="Score hypotheses (I3D feature files or pose files) against reference sentences. "
                    "Prints a JSON summary (mean, median, std, 95%% bootstrap CI, signature); --out "
                    "writes per-sample rows (JSONL, or CSV/TSV by extension).",
    )
    add_model_options(parser)
    parser.add_argument("--out", help="per-sample output file (.jsonl, .csv, .tsv); with --matrix, the matrix (.csv or .npy)")
    parser.add_argument("--matrix", action="store_true", help="score every hypothesis against every reference; report retrieval R@1/5/10 and median rank")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the CI (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (goes into the signature)")
    parser.set_defaults(func=run)
