"""The authors' released PHOENIX-14T per-pair scores: reproduce their table and their baselines.

``sign_score_data.csv`` holds SiLVERScore on each correct pair and one random pair per item;
``bt_score_data.csv`` holds the back-translation baselines on the same pairs, with the German
references and back-translations. From these files this module

* recomputes overlap and AUC for every metric (must give spec §5's published rows),
* recomputes BLEU-1..4 from the texts with sacrebleu and compares with the authors' columns,
* measures how closely each offered ROUGE-L variant matches the authors' ROUGE column.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .measures import discrimination_stats
from .tables import check_columns, read_rows
from .text_baselines import BLEU_ORDERS, ROUGE_VARIANTS, sentence_bleu, sentence_rouge_l

SIGN_FILE = "sign_score_data.csv"
BT_FILE = "bt_score_data.csv"

# Published PHOENIX-14T correct-vs-random rows (spec §5 and shared/paper/README.md):
# metric → (overlap %, AUC). BLEU-2/3 come from the shared README's measured list.
PUBLISHED = {
    "SiLVERScore": (6.85, 0.9934),
    "BLEU-1": (19.78, 0.9536),
    "BLEU-2": (24.30, 0.9017),
    "BLEU-3": (38.63, 0.8096),
    "BLEU-4": (55.45, 0.7234),
    "ROUGE": (19.94, 0.9506),
    "BERTScore": (14.17, 0.9735),
    "BLEURT": (21.65, 0.9538),
}

# Metric name → (file, correct column, random column).
PAPER_COLUMNS = {
    "SiLVERScore": (SIGN_FILE, "same_scores_i2t", "different_scores_i2t"),
    **{f"BLEU-{n}": (BT_FILE, f"same_index_bleu{n}", f"different_index_bleu{n}") for n in BLEU_ORDERS},
    "ROUGE": (BT_FILE, "same_index_rouge", "different_index_rouge"),
    "BERTScore": (BT_FILE, "same_index_bert", "different_index_bert"),
    "BLEURT": (BT_FILE, "same_index_bleurt", "different_index_bleurt"),
}

# PHOENIX-14T video ids look like "25October_2010_Monday_tagesschau-17".
_VIDEO_ID = re.compile(r"^\d{1,2}[A-Za-z]+_\d{4}_[A-Za-z]+_[A-Za-z]+-\d+$")


def back_translation_from_cell(cell: str) -> str:
    """The back-translation out of the ``hyps`` cell: a set literal {video id, text}, any order.

    Parsed with ``ast.literal_eval`` (never ``eval``); the element that is not a video id is the
    text. A cell that does not hold exactly one of each is an error, not a guess.
    """
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError):
        raise ValueError(f"not a Python literal: {cell[:80]!r}") from None
    items = [item for item in value if isinstance(item, str)] if isinstance(value, (set, list, tuple)) else []
    texts = [item for item in items if not _VIDEO_ID.match(item)]
    if len(items) != 2 or len(texts) != 1:
        raise ValueError(f"expected {{video id, back-translation}}: {cell[:80]!r}")
    return texts[0]


def parse_index_pair(cell: str) -> tuple[int, int]:
    """``"(k, k)"`` or ``"[i, j]"`` → (i, j)."""
    value = ast.literal_eval(cell)
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise ValueError(f"expected two integer indices: {cell!r}")
    return int(value[0]), int(value[1])


@dataclass
class PaperBackTranslations:
    """The texts and pairs of ``bt_score_data.csv``: item k has reference ``refs[k]`` and
    back-translation ``hyps[k]`` of video k; its random pair is (video i, text j)."""

    refs: list[str]
    hyps: list[str]
    random_pairs: np.ndarray  # [N, 2]
    rows: list[dict[str, str]]


def paper_dir_default(repo_root: str | Path | None = None) -> Path:
    """``../shared/paper`` relative to the repository root (where tests and CI find it)."""
    root = Path(repo_root) if repo_root else Path(__file__).resolve().parents[3]
    return root.parent / "shared" / "paper"


def load_back_translations(path: str | Path) -> PaperBackTranslations:
    header, rows = read_rows(path)
    check_columns(path, header, ["refs", "hyps", "same_indices", "random_indices"])
    refs, hyps, pairs = [], [], []
    for line, row in enumerate(rows, start=2):
        try:
            same = parse_index_pair(row["same_indices"])
            if same != (line - 2, line - 2):
                raise ValueError(f"same_indices {same} is not ({line - 2}, {line - 2})")
            hyps.append(back_translation_from_cell(row["hyps"]))
            pairs.append(parse_index_pair(row["random_indices"]))
        except (ValueError, SyntaxError) as err:
            raise InputError(path, f"line {line}: {err}") from None
        refs.append(row["refs"])
    random_pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if random_pairs.size and random_pairs.max() >= len(rows):
        raise InputError(path, "random_indices point past the last item")
    return PaperBackTranslations(refs=refs, hyps=hyps, random_pairs=random_pairs, rows=rows)


def paper_series(paper_dir: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Metric → (correct scores, random scores) for every metric in the released files."""
    paper_dir = Path(paper_dir)
    cache: dict[str, tuple[list[str], list[dict]]] = {}
    series = {}
    for metric, (file_name, correct_col, random_col) in PAPER_COLUMNS.items():
        path = paper_dir / file_name
        if file_name not in cache:
            cache[file_name] = read_rows(path)
        header, rows = cache[file_name]
        check_columns(path, header, [correct_col, random_col])
        try:
            correct = np.asarray([float(r[correct_col]) for r in rows])
            random = np.asarray([float(r[random_col]) for r in rows])
        except ValueError as err:
            raise InputError(path, f"non-numeric score in {correct_col}/{random_col} ({err})") from None
        series[metric] = (correct, random)
    return series


def reproduce_paper_table(paper_dir: str | Path) -> list[dict]:
    """Overlap and AUC for every metric in the released files, beside the published values."""
    table = []
    for metric, (correct, random) in paper_series(paper_dir).items():
        stats = discrimination_stats(correct, random)
        pub_overlap, pub_auc = PUBLISHED[metric]
        table.append({
            "metric": metric,
            "overlap": stats["overlap"],
            "auc": stats["auc"],
            "published_overlap": pub_overlap,
            "published_auc": pub_auc,
            "matches": round(stats["overlap"], 2) == pub_overlap and round(stats["auc"], 4) == pub_auc,
            "n": int(correct.size),
        })
    return table


def _paired_texts(data: PaperBackTranslations) -> tuple[list[str], list[str], list[str], list[str]]:
    same_h, same_r = list(data.hyps), list(data.refs)
    diff_h = [data.hyps[i] for i, _ in data.random_pairs]
    diff_r = [data.refs[j] for _, j in data.random_pairs]
    return same_h, same_r, diff_h, diff_r


def reproduce_bleu(bt_path: str | Path) -> dict:
    """Recompute BLEU-1..4 for every correct and random pair; max |ours − authors'| per order."""
    data = load_back_translations(bt_path)
    same_h, same_r, diff_h, diff_r = _paired_texts(data)
    result = {"n_items": len(data.refs), "orders": {}}
    for order in BLEU_ORDERS:
        ours_same = sentence_bleu(same_h, same_r, order)
        ours_diff = sentence_bleu(diff_h, diff_r, order)
        theirs_same = np.asarray([float(r[f"same_index_bleu{order}"]) for r in data.rows])
        theirs_diff = np.asarray([float(r[f"different_index_bleu{order}"]) for r in data.rows])
        result["orders"][f"BLEU-{order}"] = {
            "max_abs_diff_same": float(np.max(np.abs(ours_same - theirs_same))),
            "max_abs_diff_different": float(np.max(np.abs(ours_diff - theirs_diff))),
        }
    return result


def rouge_variant_agreement(bt_path: str | Path) -> dict:
    """How closely each ROUGE-L variant matches the authors' ``rouge`` columns (1284 pairs)."""
    data = load_back_translations(bt_path)
    same_h, same_r, diff_h, diff_r = _paired_texts(data)
    theirs = np.asarray(
        [float(r["same_index_rouge"]) for r in data.rows] + [float(r["different_index_rouge"]) for r in data.rows]
    )
    report = {}
    for variant in ROUGE_VARIANTS:
        ours = np.concatenate([sentence_rouge_l(same_h, same_r, variant), sentence_rouge_l(diff_h, diff_r, variant)])
        diff = np.abs(ours - theirs)
        report[variant] = {
            "max_abs_diff": float(diff.max()),
            "mean_abs_diff": float(diff.mean()),
            "share_within_1e-6": float(np.mean(diff <= 1e-6)),
            "pearson": float(np.corrcoef(ours, theirs)[0, 1]),
            "n_pairs": int(diff.size),
        }
    return report
