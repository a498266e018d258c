"""``silverscore meta <experiment>``: meta-evaluation of the metric and of its baselines.

Thin layer: each sub-command parses its options and calls :mod:`silverscore.meta.runners`
(tables of precomputed scores, or a model with hypotheses and references) or
:mod:`silverscore.meta.synthetic` (a synthetic test folder), prints the result as JSON and, with
``--out DIR``, leaves the JSON, a Markdown section and PNG figures in DIR
(``silverscore meta report DIR`` joins them).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import InputError


def _print(result: dict) -> int:
    from ..meta.report import to_json

    print(to_json(result))
    if result.get("signature"):
        print(result["signature"], file=sys.stderr)
    return 0


def _out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="folder for the JSON result, Markdown section and PNG figures")


def _text_baseline_options(parser: argparse.ArgumentParser) -> None:
    from ..meta.options import DEFAULT_ROUGE, ROUGE_VARIANTS, TOKENIZATIONS

    parser.add_argument("--tokenize", choices=TOKENIZATIONS, default="13a",
                        help="tokenization for BLEU/ROUGE-L of --bt texts: 13a (sacrebleu standard, default) or "
                             "none (already tokenised, as PHOENIX-14T in the paper)")
    parser.add_argument("--rouge-variant", choices=ROUGE_VARIANTS, default=DEFAULT_ROUGE,
                        help=f"ROUGE-L variant (default {DEFAULT_ROUGE}: the one that reproduces the paper's column)")


def _model_options(parser: argparse.ArgumentParser) -> None:
    from .score import add_model_options

    add_model_options(parser)
    parser.add_argument("--synth", help="a synthetic test folder (from `silverscore synth`): its manifest gives "
                                        "references, poses and the experiment's extra data")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random pairs and resampling (default 0)")


def _scorer(args):
    from .score import scorer_from_args

    return scorer_from_args(args)


def _model_inputs(args, scorer):
    """(hypotheses, texts, ids) from --synth or from --hyps/--refs."""
    if args.synth:
        from ..meta.synthetic import load_test_set

        test = load_test_set(args.synth)
        return test.poses, test.texts, test.ids
    from .score import load_inputs

    refs, hyps = load_inputs(args, scorer)
    return hyps, [r.text for r in refs], [r.id for r in refs]


def _read_aligned_texts(path: str, ids: list[str], what: str) -> list[str]:
    """Texts from a reference-format file (JSONL/TSV/CSV with id and text), aligned with ``ids``."""
    from ..inputs.references import read_references

    by_id = {r.id: r.text for r in read_references(path)}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise InputError(path, f"no {what} for id(s) {', '.join(missing[:5])}" + (" …" if len(missing) > 5 else ""))
    return [by_id[i] for i in ids]


def _named_files(values: list[str] | None) -> dict[str, str]:
    """``NAME=FILE`` or ``FILE`` (named by its stem) → {name: file}."""
    named = {}
    for value in values or []:
        name, _, path = value.partition("=") if "=" in value else (Path(value).stem, "", value)
        named[name] = path
    return named


# ------------------------------------------------------------------------------- sub-commands
def run_paper(args) -> int:
    from ..meta.experiments import paper_experiment
    from ..meta.paper import paper_dir_default

    paper_dir = Path(args.paper_dir) if args.paper_dir else paper_dir_default()
    if not paper_dir.is_dir():
        raise InputError(paper_dir, "folder of the authors' released scores not found (use --paper-dir)")
    result = paper_experiment(paper_dir, args.out)
    return _print(result)


def run_discrimination(args) -> int:
    from ..meta import runners

    if args.scores:
        if not (args.correct and args.random):
            raise InputError(args.scores, "--scores needs --correct COL and --random COL")
        return _print(runners.discrimination_from_table(args.scores, args.correct, args.random, args.out, args.metric_name))
    scorer = _scorer(args)
    if args.synth:
        from ..meta import synthetic

        return _print(synthetic.run_discrimination(scorer, args.synth, args.out, seed=args.seed,
                                                   pairs_file=args.pairs, save_pairs_to=args.save_pairs))
    hyps, texts, ids = _model_inputs(args, scorer)
    bts = {name: _read_aligned_texts(path, ids, "back-translation") for name, path in _named_files(args.bt).items()}
    ref_poses = None
    if args.ref_poses:
        from ..inputs.hypotheses import resolve_hypotheses
        from ..inputs.references import Reference

        ref_poses = resolve_hypotheses(args.ref_poses, [Reference(i, t) for i, t in zip(ids, texts)], (".pose", ".npy", ".npz"))
    return _print(runners.discrimination_with_model(scorer, hyps, texts, ids, seed=args.seed, pairs_file=args.pairs,
                                                    save_pairs_to=args.save_pairs, back_translations=bts,
                                                    reference_poses=ref_poses, out_dir=args.out,
                                                    rouge_variant=args.rouge_variant, tokenize=args.tokenize))


def _run_robustness(args, kind: str) -> int:
    from ..meta import runners

    if args.scores:
        if not (args.original and args.rewritten):
            raise InputError(args.scores, "--scores needs --original COL and --rewritten COL")
        return _print(runners.robustness_from_table(args.scores, args.original, args.rewritten, kind, args.out))
    scorer = _scorer(args)
    if args.synth and not args.rewritten:
        from ..meta import synthetic

        return _print(synthetic.run_robustness(scorer, args.synth, args.out, kind=kind))
    hyps, texts, ids = _model_inputs(args, scorer)
    if not args.rewritten:
        raise InputError(None, f"--rewritten FILE is needed: the rewritten reference of every id (JSONL/TSV/CSV with id, text)")
    rewritten = _read_aligned_texts(args.rewritten, ids, "rewritten reference")
    bts = {name: _read_aligned_texts(path, ids, "back-translation") for name, path in _named_files(args.bt).items()}
    return _print(runners.robustness_with_model(scorer, hyps, texts, rewritten, kind, bts, args.out,
                                                rouge_variant=args.rouge_variant, tokenize=args.tokenize))


def run_reorder(args) -> int:
    return _run_robustness(args, "reorder")


def run_paraphrase(args) -> int:
    return _run_robustness(args, "paraphrase")


def run_prosody(args) -> int:
    from ..meta import runners

    if args.scores:
        if not (args.score and args.group):
            raise InputError(args.scores, "--scores needs --score COL and --group COL")
        return _print(runners.prosody_from_table(args.scores, args.score, args.group, args.out))
    if not args.synth:
        raise InputError(None, "prosody needs --scores FILE (--score, --group) or --synth DIR")
    from ..meta import synthetic

    return _print(synthetic.run_prosody(_scorer(args), args.synth, args.out))


def run_hard_negatives(args) -> int:
    from ..meta import runners

    if args.scores:
        negatives = dict(v.split("=", 1) if "=" in v else (v, v) for v in args.negative or [])
        if not (args.correct and negatives):
            raise InputError(args.scores, "--scores needs --correct COL and at least one --negative SET=COL")
        return _print(runners.hard_negatives_from_table(args.scores, args.correct, negatives, args.out))
    if not args.synth:
        raise InputError(None, "hard-negatives needs --synth DIR (or --scores FILE --correct COL --negative SET=COL)")
    from ..meta import synthetic

    return _print(synthetic.run_hard_negatives(_scorer(args), args.synth, args.out))


def run_ranking(args) -> int:
    from ..meta import runners

    if args.scores:
        systems = [s for s in (args.systems or "").split(",") if s]
        try:
            quality = [float(q) for q in (args.quality or "").split(",") if q]
        except ValueError:
            raise InputError(None, f"--quality must be comma-separated numbers, got {args.quality!r}") from None
        if not systems:
            raise InputError(args.scores, "--scores needs --systems COL1,COL2,... and --quality Q1,Q2,...")
        return _print(runners.ranking_from_table(args.scores, systems, quality, args.out, seed=args.seed))
    if not args.synth:
        raise InputError(None, "ranking needs --synth DIR (or --scores FILE --systems ... --quality ...)")
    from ..meta import synthetic

    return _print(synthetic.run_ranking(_scorer(args), args.synth, args.out, seed=args.seed))


def run_correlation(args) -> int:
    from ..meta import runners

    metrics = [m for m in args.metric.split(",") if m]
    return _print(runners.correlation_from_table(args.scores, metrics, args.human, args.out, args.n_boot, args.seed))


def run_generalization(args) -> int:
    from ..meta import runners

    if args.scores:
        needed = [args.row, args.column, args.correct, args.random]
        if not all(needed):
            raise InputError(args.scores, "--scores needs --row COL --column COL --correct COL --random COL")
        return _print(runners.generalization_from_table(args.scores, args.row, args.column, args.correct, args.random, args.out))
    if not args.synth:
        raise InputError(None, "generalization needs --synth DIR (or a --scores table)")
    from ..meta import synthetic

    models = _named_files(args.models)
    scorers = {}
    for name, checkpoint in (models or {"model": args.model}).items():
        scorers[name] = _scorer(argparse.Namespace(**{**vars(args), "model": checkpoint}))
    return _print(synthetic.run_generalization(scorers, args.synth, args.out, seed=args.seed))


def run_report(args) -> int:
    from ..meta.report import assemble_report

    path = assemble_report(args.directory, args.output)
    print(str(path))
    return 0


def run_all(args) -> int:
    from ..meta import synthetic

    if not args.synth:
        raise InputError(None, "meta all needs --synth DIR")
    if not args.out:
        raise InputError(None, "meta all needs --out DIR")
    summary = synthetic.run_all(_scorer(args), args.synth, args.out, seed=args.seed, paper_dir=args.paper_dir)
    return _print(summary)


# ------------------------------------------------------------------------------- registration
def register(subparsers) -> None:
    meta = subparsers.add_parser(
        "meta", help="meta-evaluation: correct vs random, robustness, hard negatives, ranking, baselines, report",
        description="Meta-evaluate SiLVERScore (or any metric from a score table) as in the paper, with "
                    "text and pose baselines, plots and a Markdown report.")
    sub = meta.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    meta.set_defaults(func=lambda args: (meta.print_help(), 2)[1])

    p = sub.add_parser("paper", help="recompute the paper's PHOENIX-14T table and BLEU/ROUGE columns from the released scores")
    p.add_argument("--paper-dir", help="folder with sign_score_data.csv and bt_score_data.csv (default ../shared/paper)")
    _out(p)
    p.set_defaults(func=run_paper)

    p = sub.add_parser("discrimination", help="correct vs random: ROC AUC and overlap (spec §5)")
    _model_options(p)
    p.add_argument("--scores", help="CSV/TSV of precomputed scores (instead of a model)")
    p.add_argument("--correct", help="column of correct-pair scores (with --scores)")
    p.add_argument("--random", help="column of random-pair scores (with --scores)")
    p.add_argument("--metric-name", help="name of the metric in the table (default: the --correct column)")
    p.add_argument("--pairs", help="reuse random pairs saved earlier (JSON from --save-pairs)")
    p.add_argument("--save-pairs", help="save the random pairs (JSON) to reuse them for another metric or model")
    p.add_argument("--bt", action="append", help="back-translations [NAME=]FILE (id, text) for the text baselines; repeatable")
    p.add_argument("--ref-poses", help="folder of reference poses <id>.pose for the DTW baseline")
    _text_baseline_options(p)
    _out(p)
    p.set_defaults(func=run_discrimination)

    for name, func in (("reorder", run_reorder), ("paraphrase", run_paraphrase)):
        done = {"reorder": "reordered", "paraphrase": "paraphrased"}[name]
        p = sub.add_parser(name, help=f"original vs {done} references, each series normalised on its own (spec §5)")
        _model_options(p)
        p.add_argument("--scores", help="CSV/TSV of precomputed scores (instead of a model)")
        p.add_argument("--original", help="column of scores against the original references (with --scores)")
        p.add_argument("--rewritten", help="with --scores: column of scores against the rewritten references; "
                                           "with a model: file of rewritten references (id, text)")
        p.add_argument("--bt", action="append", help="back-translations [NAME=]FILE for the text baselines; repeatable")
        _text_baseline_options(p)
        _out(p)
        p.set_defaults(func=func)

    p = sub.add_parser("prosody", help="score distributions by intensity group, shifts and Kruskal-Wallis")
    _model_options(p)
    p.add_argument("--scores", help="CSV/TSV of precomputed scores")
    p.add_argument("--score", help="score column (with --scores)")
    p.add_argument("--group", help="intensity group column (with --scores)")
    _out(p)
    p.set_defaults(func=run_prosody)

    p = sub.add_parser("hard-negatives", help="correct vs negation / minimal pair / role swap / number change")
    _model_options(p)
    p.add_argument("--scores", help="CSV/TSV of precomputed scores")
    p.add_argument("--correct", help="column of correct-pair scores (with --scores)")
    p.add_argument("--negative", action="append", help="SET=COL hard-negative scores (with --scores); repeatable")
    _out(p)
    p.set_defaults(func=run_hard_negatives)

    p = sub.add_parser("ranking", help="corpus scores of systems vs known quality: Kendall tau and neighbour tests")
    _model_options(p)
    p.add_argument("--scores", help="CSV/TSV with one column of per-item scores per system")
    p.add_argument("--systems", help="comma-separated system columns (with --scores)")
    p.add_argument("--quality", help="comma-separated known quality of each system (with --scores)")
    _out(p)
    p.set_defaults(func=run_ranking)

    p = sub.add_parser("correlation", help="Kendall/Spearman/Pearson with bootstrap CIs against human ratings")
    p.add_argument("--scores", required=True, help="CSV/TSV with metric and human-rating columns")
    p.add_argument("--metric", required=True, help="metric column(s), comma-separated")
    p.add_argument("--human", required=True, help="human rating column")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    _out(p)
    p.set_defaults(func=run_correlation)

    p = sub.add_parser("generalization", help="AUC matrix of models (rows) x test sets / signer groups (columns)")
    _model_options(p)
    p.add_argument("--models", action="append", help="[NAME=]CHECKPOINT of a model to compare (repeatable; default: --model)")
    p.add_argument("--scores", help="long CSV/TSV: one line per item with row label, column label, correct and random scores")
    p.add_argument("--row", help="row-label column (with --scores)")
    p.add_argument("--column", help="column-label column (with --scores)")
    p.add_argument("--correct", help="correct-score column (with --scores)")
    p.add_argument("--random", help="random-score column (with --scores)")
    _out(p)
    p.set_defaults(func=run_generalization)

    p = sub.add_parser("report", help="assemble the Markdown sections and figures of DIR into report.md")
    p.add_argument("directory", help="folder written by `meta ... --out DIR` or `meta all`")
    p.add_argument("--output", help="report file (default DIR/report.md)")
    p.set_defaults(func=run_report)

    p = sub.add_parser("all", help="every experiment on a synthetic test folder, baselines included, and the report")
    _model_options(p)
    p.add_argument("--paper-dir", help="also reproduce the paper's table from this folder (default ../shared/paper if present)")
    _out(p)
    p.set_defaults(func=run_all)
