"""The synthetic language as training examples: groups, hard texts, keypoint names."""
from __future__ import annotations

from pathlib import Path

import pytest

synth = pytest.importorskip("silverscore.synth.negatives", reason="synth package without hard negatives")


def test_synth_examples_groups_and_hard_texts():
    from silverscore.train.data import positive_mask
    from silverscore.train.synthetic import keypoint_names, synth_examples

    examples = synth_examples(6, seed=0, split="train", rendered_negatives=1, shuffle_negatives=True)
    sources = [ex for ex in examples if "source" not in ex.meta]
    variants = [ex for ex in examples if "source" in ex.meta]
    assert len(sources) == 6 and variants
    by_id = {ex.id: ex for ex in sources}
    for variant in variants:
        source = by_id[variant.meta["source"]]
        assert variant.group == source.id == source.group
        assert variant.text != source.text
        assert variant.video.keypoints == keypoint_names()
        # a rendered negative is never a positive of its source
        mask = positive_mask([source, variant], [source.text, variant.text], [])
        assert mask.tolist() == [[True, False], [False, True]]
    assert any(ex.hard_texts for ex in sources)
    assert all(source.text not in source.hard_texts for source in sources)
    names = keypoint_names()
    assert "POSE_LANDMARKS:LEFT_SHOULDER" in names and "RIGHT_HAND_LANDMARKS:WRIST" in names


def test_degraded_variants_keep_meaning_or_carry_what_they_sign():
    import math

    from silverscore.train.data import positive_mask
    from silverscore.train.synthetic import synth_examples

    examples = synth_examples(6, seed=3, split="train", degraded_variants=1)
    by_id = {ex.id: ex for ex in examples}
    variants = [ex for ex in examples if "source" in ex.meta]
    kinds = {ex.meta["set"] for ex in variants}
    assert kinds == {"noise", "jitter", "frozen"}  # the rotation reaches every kind in 6 items
    for variant in variants:
        source = by_id[variant.meta["source"]]
        assert variant.group == source.group == source.id
        assert variant.video.data.shape[1:] == source.video.data.shape[1:]
        if variant.meta["set"] == "frozen":
            assert variant.fidelity == 1.0  # lost signs show in its text instead
        else:
            # meaning intact: same text, a positive of its source, but a worse rendering
            assert variant.text == source.text and 0.0 < variant.fidelity < 1.0
            assert positive_mask([source, variant], [source.text, variant.text], []).all()
    noisy = [v for v in variants if v.meta["set"] == "noise"]
    for variant in noisy:  # the synthetic language's definition: exp(-sigma / 20), sigma in [1.5, 15]
        assert math.exp(-15 / 20) - 1e-4 <= variant.fidelity <= math.exp(-1.5 / 20) + 1e-4
    again = synth_examples(6, seed=3, split="train", degraded_variants=1)
    assert [(e.id, e.fidelity, e.text) for e in again] == [(e.id, e.fidelity, e.text) for e in examples]


def _synth_config(folder, extra_train: str) -> str:
    folder.mkdir()
    model = ('pose_encoder = { frame_dim = 16, width = 32, layers = 1, heads = 2, embed_dim = 32, window = 8, stride = 4, dropout = 0.0 }\n'
             'text_head = { width = 32, layers = 1, heads = 2, dropout = 0.0 }\n')
    text = (f'seed = 1\nout = "{folder / "run"}"\n[model]\narchitecture = "pose_minilm"\n{model}'
            '[data.train]\nkind = "synth"\nsentences = 12\nseed = 0\ndegraded_variants = 1\n'
            '[train]\nbatch_size = 8\nsteps = 4\nlr = 3e-3\nval_every = 100\ncheckpoint_every = 100\nthreads = 1\n'
            + extra_train)
    (folder / "config.toml").write_text(text)
    return str(folder / "config.toml")


def test_fidelity_term_is_wired_into_training(tmp_path):
    from silverscore.cli import main

    def weights(name: str, extra: str) -> bytes:
        assert main(["train", "--config", _synth_config(tmp_path / name, extra), "--no-progress"]) == 0
        return (tmp_path / name / "run" / "model.safetensors").read_bytes()

    off = weights("off", "")
    on = weights("on", "fidelity_weight = 50.0\n")
    late = weights("late", "fidelity_weight = 50.0\nfidelity_from = 1.0\n")  # never starts within 4 steps
    assert on != off
    assert late == off
    # with the degraded rows out of InfoNCE and the calibration, training takes another path
    apart = weights("apart", "fidelity_weight = 50.0\ndegraded_in_contrastive = false\n")
    assert apart not in (on, off)


def test_degraded_kinds_restrict_the_rotation():
    from silverscore.train.synthetic import synth_examples

    examples = synth_examples(5, seed=3, split="train", degraded_variants=2, degraded_kinds=("frozen",))
    variants = [ex for ex in examples if "source" in ex.meta]
    assert variants and {ex.meta["set"] for ex in variants} == {"frozen"}
    assert len(variants) <= 5  # one kind allowed: at most one variant per item


def test_degraded_every_renders_variants_for_every_kth_item_only():
    from silverscore.train.synthetic import synth_examples

    every = synth_examples(6, seed=3, split="train", degraded_variants=1, degraded_kinds=("noise",))
    third = synth_examples(6, seed=3, split="train", degraded_variants=1, degraded_kinds=("noise",), degraded_every=3)
    sources = [ex.id for ex in every if "source" not in ex.meta]
    assert [ex.id for ex in third if "source" not in ex.meta] == sources
    # noise keeps the meaning, so every item gets its variant with every = 1; items 0 and 3 with 3
    assert sorted(ex.meta["source"] for ex in every if "source" in ex.meta) == sorted(sources)
    assert sorted(ex.meta["source"] for ex in third if "source" in ex.meta) == sorted([sources[0], sources[3]])
    with pytest.raises(ValueError, match="degraded_every"):
        synth_examples(2, seed=3, split="train", degraded_variants=1, degraded_every=0)


def test_graded_outputs_keep_the_reference_and_carry_the_true_quality():
    from silverscore.synth.corpus import generate_corpus
    from silverscore.synth.systems import system_output
    from silverscore.train.synthetic import MEANING_ERRORS, synth_examples

    examples = synth_examples(12, seed=3, split="train", degraded_variants=1, degraded_target="quality")
    items = {it.id: it for it in generate_corpus(12, 3, "train")}
    by_id = {ex.id: ex for ex in examples}
    graded = [ex for ex in examples if ex.meta.get("graded")]
    assert len(graded) == 12  # every item has some error that applies to it
    assert {ex.meta["set"] for ex in graded} & {kind for kind, _, _ in MEANING_ERRORS}
    for output in graded:
        source = by_id[output.meta["source"]]
        assert output.group == source.id == source.group
        # scored against the reference, as a system's output is, and never a positive of anything
        assert output.text == source.text and output.paraphrases == []
        kind, strength = output.meta["set"], output.meta["strength"]
        _, fields = system_output(items[source.id], f"train-{kind}", kind, strength)
        assert output.fidelity == fields["quality"] < 1.0
    again = synth_examples(12, seed=3, split="train", degraded_variants=1, degraded_target="quality")
    assert [(e.id, e.fidelity) for e in again] == [(e.id, e.fidelity) for e in examples]
    with pytest.raises(ValueError, match="degraded_target"):
        synth_examples(2, seed=3, split="train", degraded_variants=1, degraded_target="meaning")
    with pytest.raises(ValueError, match="unknown degraded_kinds"):  # meaning errors need the quality target
        synth_examples(2, seed=3, split="train", degraded_variants=1, degraded_kinds=("deletion",))


def test_graded_term_is_wired_into_training_and_needs_them_out_of_infonce(tmp_path, capsys):
    from silverscore.cli import main

    def run(name: str, extra: str) -> int:
        config = Path(_synth_config(tmp_path / name, extra))
        config.write_text(config.read_text().replace(
            "degraded_variants = 1\n", 'degraded_variants = 1\ndegraded_target = "quality"\n'))
        return main(["train", "--config", str(config), "--no-progress"])

    assert run("inside", "fidelity_weight = 50.0\n") == 2
    assert "degraded_in_contrastive = false" in capsys.readouterr().err
    assert run("off", "degraded_in_contrastive = false\n") == 0
    assert run("on", "fidelity_weight = 50.0\ndegraded_in_contrastive = false\n") == 0
    assert run("late", "fidelity_weight = 50.0\nfidelity_from = 1.0\ndegraded_in_contrastive = false\n") == 0
    weights = {name: (tmp_path / name / "run" / "model.safetensors").read_bytes() for name in ("off", "on", "late")}
    assert weights["on"] != weights["off"]
    assert weights["late"] == weights["off"]


def test_more_wordings_per_sentence_and_per_hard_text():
    import numpy as np

    from silverscore.synth.corpus import generate_corpus
    from silverscore.train.data import all_texts, choose_texts
    from silverscore.train.synthetic import synth_examples

    plain = synth_examples(8, seed=2, split="train", rendered_negatives=1)
    items = {it.id: it for it in generate_corpus(8, 2, "train", render_pose=False)}
    rich = synth_examples(8, seed=2, split="train", rendered_negatives=1, renderings=8, hard_text_renderings=3)
    assert [ex.id for ex in plain] == [ex.id for ex in rich]
    for a, b in zip(plain, rich):
        assert a.text == b.text and a.hard_texts == b.hard_texts
        if a.id in items:  # the defaults keep the corpus's wordings
            assert a.paraphrases == items[a.id].paraphrases and not a.hard_variants
        else:  # rendered negatives have no paraphrases by default
            assert a.paraphrases == []
        # the corpus's wordings come first, more are added up to 8, none repeated
        assert b.paraphrases[: len(a.paraphrases)] == a.paraphrases
        assert len(b.texts()) == len(set(b.texts())) <= 8
        for hard, options in b.hard_variants.items():
            assert hard in b.hard_texts and options[0] == hard and len(options) <= 3
    assert sum(len(ex.texts()) for ex in rich) > 1.5 * sum(len(ex.texts()) for ex in plain)
    assert any(ex.paraphrases for ex in rich if "source" in ex.meta)
    assert any(len(v) > 1 for ex in rich for v in ex.hard_variants.values())
    # every wording a step may draw is among the texts whose states are precomputed
    texts = set(all_texts(rich))
    assert all(v in texts for ex in rich for vs in ex.hard_variants.values() for v in vs)

    # with variants the hard texts a step draws are wordings of the chosen negatives ...
    _, extra = choose_texts(rich, np.random.default_rng(5), 0.5, 2)
    for ex, mine in zip(rich, extra):
        allowed = {v for vs in ex.hard_variants.values() for v in vs} | set(ex.hard_texts)
        assert set(mine) <= allowed and len(mine) == min(2, len(ex.hard_texts))
    drawn = [t for seed in range(30) for per in choose_texts(rich, np.random.default_rng(seed), 0.5, 4)[1] for t in per]
    assert set(drawn) - {t for ex in rich for t in ex.hard_texts}  # ... and not only the first wordings
    with pytest.raises(ValueError, match="hard_text_renderings"):
        synth_examples(2, seed=0, hard_text_renderings=0)


def test_wording_keys_of_a_synth_data_section():
    from silverscore.train.sources import build_examples, unknown_data_keys

    section = {"kind": "synth", "sentences": 3, "seed": 4, "renderings": 6, "hard_text_renderings": 2}
    assert unknown_data_keys(section) == []
    examples = build_examples(section)
    assert max(len(ex.texts()) for ex in examples) == 6
    assert any(len(v) == 2 for ex in examples for v in ex.hard_variants.values())
    assert all(len(ex.texts()) <= 4 and not ex.hard_variants
               for ex in build_examples({"kind": "synth", "sentences": 3, "seed": 4}))


def test_deletion_negatives_drop_signs_and_leave_the_rotation_as_it_was():
    """deletion_negatives = 2: every 2nd item gets a video with some of its signs dropped (in
    order), whose text is what it signs and which is no positive of its source; the other
    rendered negatives are those of the recipe without them."""
    from silverscore.synth.grammar import gloss_english
    from silverscore.train.data import positive_mask
    from silverscore.train.sources import build_examples, unknown_data_keys
    from silverscore.train.synthetic import synth_examples

    kwargs = dict(rendered_negatives=1, renderings=6, hard_text_renderings=2)
    plain = synth_examples(12, seed=5, split="train", **kwargs)
    more = synth_examples(12, seed=5, split="train", deletion_negatives=2, **kwargs)
    deleted = [ex for ex in more if ex.meta.get("set") == "deletion"]
    rest = [ex for ex in more if ex.meta.get("set") != "deletion"]
    assert [(ex.id, ex.text, ex.paraphrases, ex.hard_texts) for ex in rest] == \
        [(ex.id, ex.text, ex.paraphrases, ex.hard_texts) for ex in plain]
    sources = [ex for ex in more if "source" not in ex.meta]
    expected = [ex.id for i, ex in enumerate(sources) if i % 2 == 0 and len(ex.glosses) > 1]
    assert [ex.meta["source"] for ex in deleted] == expected and len(expected) >= 5
    by_id = {ex.id: ex for ex in sources}
    for neg in deleted:
        source = by_id[neg.meta["source"]]
        kept = iter(source.glosses)
        assert 0 < len(neg.glosses) < len(source.glosses)
        assert all(g in kept for g in neg.glosses)  # a subsequence: signs dropped, none moved
        assert neg.text == gloss_english(list(neg.glosses)) != source.text
        assert neg.paraphrases == [] and neg.group == source.id == source.group
        assert len(neg.video.data) < len(source.video.data)
        mask = positive_mask([source, neg], [source.text, neg.text], [])
        assert mask.tolist() == [[True, False], [False, True]]
    section = {"kind": "synth", "sentences": 4, "seed": 5, "rendered_negatives": 1, "deletion_negatives": 1}
    assert unknown_data_keys(section) == []
    assert sum(ex.meta.get("set") == "deletion" for ex in build_examples(section)) >= 3


def test_scrambled_negatives_get_no_wordings_of_the_sentence_they_scramble():
    """A scrambled rendering's text is its gloss English; wordings of the source sentence would
    make the source's own texts positives of the scrambled video."""
    from silverscore.train.synthetic import synth_examples

    examples = synth_examples(10, seed=1, split="train", rendered_negatives=3, shuffle_negatives=True, renderings=6)
    scrambled = [ex for ex in examples if ex.meta.get("set") == "shuffle"]
    assert scrambled and all(ex.paraphrases == [] for ex in scrambled)
    assert any(ex.paraphrases for ex in examples if ex.meta.get("set") not in (None, "shuffle"))


def test_synth_examples_rendered_in_worker_processes_are_the_same_examples():
    """processes=2 renders the items and their rendered negatives in forked workers, after the
    loop that decides them (silverscore.parallel); scrambled and degraded renderings stay inline.
    Every field and every pose bit must equal the in-process build."""
    import numpy as np

    from silverscore.train.synthetic import synth_examples

    kwargs = dict(rendered_negatives=2, shuffle_negatives=True, deletion_negatives=2, degraded_variants=1,
                  renderings=5, hard_text_renderings=2)
    here = synth_examples(7, seed=2, split="train", **kwargs)
    there = synth_examples(7, seed=2, split="train", processes=2, **kwargs)
    assert len(here) == len(there) > 14
    assert {ex.meta.get("set") for ex in here} >= {None, "shuffle", "deletion"}
    for a, b in zip(here, there):
        assert (a.id, a.text, a.paraphrases, a.hard_texts, a.hard_variants, a.glosses, a.group, a.signer, a.meta,
                a.fidelity) == (b.id, b.text, b.paraphrases, b.hard_texts, b.hard_variants, b.glosses, b.group,
                                b.signer, b.meta, b.fidelity)
        assert a.video.keypoints == b.video.keypoints and a.video.fps == b.video.fps
        np.testing.assert_array_equal(a.video.data, b.video.data)
        np.testing.assert_array_equal(a.video.confidence, b.video.confidence)
