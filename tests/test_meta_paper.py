"""The authors' released PHOENIX-14T scores (../shared/paper): published table, BLEU and ROUGE.

Expected values are the published numbers (spec §5 / shared README) and the authors' own columns.
"""
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from silverscore.cli import main
from silverscore.meta.paper import (
    back_translation_from_cell,
    load_back_translations,
    reproduce_paper_table,
)
from silverscore.meta.text_baselines import sentence_bleu, sentence_rouge_l

PAPER = Path(__file__).resolve().parents[1].parent / "shared" / "paper"
needs_paper = pytest.mark.skipif(not (PAPER / "bt_score_data.csv").is_file(),
                                 reason="../shared/paper (the authors' released scores) is not present")

# metric: (correct column, random column, file, published overlap %, published AUC)
PUBLISHED = {
    "SiLVERScore": ("same_scores_i2t", "different_scores_i2t", "sign_score_data.csv", 6.85, 0.9934),
    "BLEU-1": ("same_index_bleu1", "different_index_bleu1", "bt_score_data.csv", 19.78, 0.9536),
    "BLEU-2": ("same_index_bleu2", "different_index_bleu2", "bt_score_data.csv", 24.30, 0.9017),
    "BLEU-3": ("same_index_bleu3", "different_index_bleu3", "bt_score_data.csv", 38.63, 0.8096),
    "BLEU-4": ("same_index_bleu4", "different_index_bleu4", "bt_score_data.csv", 55.45, 0.7234),
    "ROUGE": ("same_index_rouge", "different_index_rouge", "bt_score_data.csv", 19.94, 0.9506),
    "BERTScore": ("same_index_bert", "different_index_bert", "bt_score_data.csv", 14.17, 0.9735),
    "BLEURT": ("same_index_bleurt", "different_index_bleurt", "bt_score_data.csv", 21.65, 0.9538),
}


def test_back_translation_cell_either_order():
    a = "{'25October_2010_Monday_tagesschau-17', 'es regnet .'}"
    b = "{'es regnet .', '25October_2010_Monday_tagesschau-17'}"
    assert back_translation_from_cell(a) == back_translation_from_cell(b) == "es regnet ."
    with pytest.raises(ValueError):
        back_translation_from_cell("__import__('os')")
    with pytest.raises(ValueError):
        back_translation_from_cell("{'a b', 'c d'}")


@needs_paper
@pytest.mark.parametrize("metric", list(PUBLISHED))
def test_cli_reproduces_published_row(metric, capsys):
    correct, random, file_name, overlap, auc = PUBLISHED[metric]
    code = main(["meta", "discrimination", "--scores", str(PAPER / file_name), "--correct", correct, "--random", random])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert round(result["overlap"], 2) == pytest.approx(overlap, abs=1e-9)
    assert round(result["auc"], 4) == pytest.approx(auc, abs=1e-9)
    assert result["skipped"] == 0
    assert "signature" in result


@needs_paper
def test_table_covers_every_metric_in_the_files():
    table = reproduce_paper_table(PAPER)
    assert {row["metric"] for row in table} == set(PUBLISHED)
    assert all(row["matches"] for row in table)


@needs_paper
def test_bleu_reproduces_authors_columns_for_all_items():
    data = load_back_translations(PAPER / "bt_score_data.csv")
    with open(PAPER / "bt_score_data.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(data.refs) == 642
    diff_h = [data.hyps[i] for i, _ in data.random_pairs]
    diff_r = [data.refs[j] for _, j in data.random_pairs]
    for n in (1, 2, 3, 4):
        same = sentence_bleu(data.hyps, data.refs, n)
        different = sentence_bleu(diff_h, diff_r, n)
        assert np.max(np.abs(same - [float(r[f"same_index_bleu{n}"]) for r in rows])) <= 1e-6
        assert np.max(np.abs(different - [float(r[f"different_index_bleu{n}"]) for r in rows])) <= 1e-6


@needs_paper
def test_rouge_slt_variant_matches_authors_column_and_plain_rouge_score_does_not():
    data = load_back_translations(PAPER / "bt_score_data.csv")
    theirs = np.array([float(r["same_index_rouge"]) for r in data.rows])
    assert np.max(np.abs(sentence_rouge_l(data.hyps, data.refs, "rougeL-slt") - theirs)) <= 1e-6
    assert np.max(np.abs(sentence_rouge_l(data.hyps, data.refs, "rougeL") - theirs)) > 1.0


@needs_paper
def test_paper_command_writes_report_files(tmp_path, capsys):
    assert main(["meta", "paper", "--paper-dir", str(PAPER), "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["all_match_published"] is True
    for name in ("paper.json", "paper.md", "paper_hist.png", "paper_roc.png"):
        assert (tmp_path / name).is_file()
    assert (tmp_path / "paper_hist.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
