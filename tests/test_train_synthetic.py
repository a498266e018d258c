"""The synthetic language as training examples: groups, hard texts, keypoint names."""
from __future__ import annotations

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
