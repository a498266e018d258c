"""The form head: targets, save/load, the scorer's product, batch invariance, the second training stage."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from silverscore.api import Scorer
from silverscore.inputs.poses import PoseSequence
from silverscore.models.checkpoints import load_own, save_own
from silverscore.models.pose_text import PoseTextModel
from silverscore.train.form import (FORM_KINDS, FormExample, FormSettings, assign_targets, evaluate_form, exchange_rate,
                                   form_target)

from train_fixtures import NAMES, render

torch.set_num_threads(1)

SMALL = {"pose_encoder": {"frame_dim": 16, "width": 32, "layers": 1, "heads": 2, "embed_dim": 32, "window": 8, "stride": 4},
         "text_head": {"width": 32, "layers": 1, "heads": 2}}
HEAD = {"frame_dim": 8, "width": 16, "layers": 1, "heads": 2, "dropout": 0.0}


def _model(head: bool = True, **head_settings) -> PoseTextModel:
    torch.manual_seed(0)
    model = PoseTextModel(PoseTextModel.default_config(NAMES, **SMALL))
    if head:
        torch.manual_seed(1)
        model.add_form_head({**HEAD, **head_settings})
        with torch.no_grad():  # a head whose factors differ visibly from 1 and between videos
            model.form_head.out.bias.fill_(0.0)
            model.form_head.out.weight.mul_(20.0)
    return model.eval()


def _seqs(n: int = 5) -> list[PoseSequence]:
    rng = np.random.default_rng(4)
    words = [["rain"], ["sun", "wind"], ["snow", "cold", "warm"], ["north"], ["south", "rain"]]
    out = []
    for w in words[:n]:
        data, conf = render(w, rng)
        out.append(PoseSequence(data, conf, 25.0, list(NAMES)))
    return out


def test_form_target_by_hand():
    # meaning errors and clean signing: F = 1 whatever the ratio
    assert form_target("clean", 1.0, 1.0) == 1.0
    assert form_target("substitution", 0.5, 0.9) == 1.0
    assert form_target("deletion", 0.6, 0.6) == 1.0
    # form defects: q / r, capped at 1, floored at 0.02
    assert form_target("noise", 0.55, 0.8) == pytest.approx(0.6875)
    assert form_target("shuffle", 0.3, 0.9) == pytest.approx(1 / 3)
    assert form_target("frozen", 0.9, 0.6) == 1.0  # the similarity already fell further than the quality
    assert form_target("jitter", 0.001, 1.0) == 0.02
    # a non-positive or undefined ratio: nothing to correct
    assert form_target("noise", 0.5, -0.2) == 1.0
    assert form_target("noise", 0.5, math.nan) == 1.0
    assert set(FORM_KINDS) == {"noise", "jitter", "frozen", "shuffle"}
    assert form_target("insertion", 0.7, 0.875) == 1.0
    # on the towers' own scale g(q) = 1 - b (1 - q): with b = 0.6, q = 0.5 wants 0.7 of the clean score
    assert form_target("noise", 0.5, 0.875, rate=0.6) == pytest.approx(0.8)
    assert form_target("shuffle", 0.3, 0.9, rate=0.5) == pytest.approx(0.65 / 0.9)
    assert form_target("noise", 0.5, 0.6, rate=0.6) == 1.0
    assert form_target("substitution", 0.5, 0.9, rate=0.6) == 1.0


def _example(kind, quality, ratio):
    return FormExample(np.zeros((2, 3), np.float16), torch.zeros(1, 4), kind, quality, ratio)


def test_exchange_rate_pools_meaning_errors_only():
    examples = [_example("clean", 1.0, 1.0), _example("substitution", 0.6, 0.8), _example("deletion", 0.5, 0.8),
                _example("insertion", 0.9, 0.97), _example("negation", 1.0, 0.99),  # q = 1: nothing lost, skipped
                _example("noise", 0.2, 0.95), _example("direction", 0.5, math.nan)]
    # (0.2 + 0.2 + 0.03) / (0.4 + 0.5 + 0.1)
    assert exchange_rate(examples) == pytest.approx(0.43)
    assert exchange_rate([_example("deletion", 0.5, 0.2)]) == 1.0  # capped
    assert exchange_rate([_example("deletion", 0.5, 1.01)]) == 0.05  # floored
    with pytest.raises(ValueError, match="no meaning-error"):
        exchange_rate([_example("noise", 0.5, 0.8)])
    assign_targets(examples, 0.5)
    assert [e.target for e in examples[:5]] == [1.0] * 5
    assert examples[5].target == pytest.approx(0.6 / 0.95)
    # a meaning kind graded by the head leaves the rate to the others and gets a target
    graded = FORM_KINDS + ("insertion",)
    assert exchange_rate(examples, graded) == pytest.approx(0.4 / 0.9)
    assign_targets(examples, 0.5, graded)
    assert examples[3].target == pytest.approx(0.95 / 0.97)
    assert examples[1].target == 1.0


def test_evaluate_form_reports_factors_relative_to_each_clean_rendering(monkeypatch):
    """relative_mae: |F_out / F_clean(out) − target| averaged over outputs (what a score sees)."""
    examples = [_example("clean", 1.0, 1.0), _example("noise", 0.8, 0.9), _example("substitution", 0.6, 0.7),
                _example("clean", 1.0, 1.0), _example("frozen", 0.5, 0.5)]
    for e, source, target in zip(examples, (0, 0, 0, 3, 3), (1.0, 0.8, 1.0, 1.0, 0.5)):
        e.source, e.target = source, target
    factors = [0.9, 0.72, 0.81, 0.5, 0.3]
    model = _model()
    monkeypatch.setattr(model, "form_logits", lambda features, states: torch.tensor(
        [math.log(f / (1 - f)) for f in factors[:len(features)]]))
    figures = evaluate_form(model, examples)
    # 0.72 / 0.9 = 0.8 (target 0.8), 0.81 / 0.9 = 0.9 (target 1), 0.3 / 0.5 = 0.6 (target 0.5)
    assert figures["relative_mae"] == pytest.approx((0.0 + 0.1 + 0.1) / 3, abs=1e-6)
    assert figures["F_clean"] == pytest.approx(0.7, abs=1e-6) and figures["F_frozen"] == pytest.approx(0.3, abs=1e-6)


def test_recording_windows_gives_each_scored_videos_features_and_states():
    model = _model()
    seqs = _seqs()
    with model.recording_windows() as record:
        Scorer(model, batch_size=2, form=False).score(seqs, ["the rain"] * len(seqs))
    assert len(record) == len(seqs) and model._window_record is None
    for (features, states), seq in zip(record, seqs):
        expected = model.prepare_video(seq)
        assert np.array_equal(features, expected)
        assert torch.equal(states, model.window_states([expected])[0])
    with model.recording_windows(np.float16) as half:
        Scorer(model, form=False).score(seqs[:2], ["the rain"] * 2)
    assert [f.dtype for f, _ in half] == [np.float16] * 2
    assert np.array_equal(half[1][0], model.prepare_video(seqs[1]).astype(np.float16))


def test_scores_are_similarity_times_form_factor_and_signed():
    model = _model()
    seqs = _seqs()
    refs = ["the rain", "the sun and wind", "the snow and cold and warm", "the north", "the south and rain"]
    on = Scorer(model, batch_size=2).score(seqs, refs)
    off = Scorer(model, batch_size=2, form=False).score(seqs, refs)
    assert off.form is None and on.form is not None
    assert np.all((on.form > 0) & (on.form < 1))
    assert np.ptp(on.form) > 1e-3  # the factors differ between videos, so the product is checked
    np.testing.assert_allclose(on.scores, off.scores * on.form, rtol=1e-12)
    assert not np.allclose(on.scores, off.scores)
    assert "|form:on|" in on.signature and "|form:off|" in off.signature
    assert all("form" in row for row in on.rows()) and all("form" not in row for row in off.rows())
    # matrix mode: each hypothesis row times its factor
    matrix_on = Scorer(model).score_matrix(seqs, refs).scores
    matrix_off = Scorer(model, form=False).score_matrix(seqs, refs).scores
    np.testing.assert_allclose(matrix_on, matrix_off * on.form[:, None], rtol=1e-12)


def test_form_factor_does_not_depend_on_batch_or_order():
    model = _model()
    seqs = _seqs()
    refs = ["the rain"] * len(seqs)
    one = Scorer(model, batch_size=1).score(seqs, refs)
    many = Scorer(model, batch_size=5).score(seqs, refs)
    np.testing.assert_array_equal(one.form, many.form)
    order = [3, 1, 4, 0, 2]
    shuffled = Scorer(model, batch_size=3).score([seqs[i] for i in order], refs)
    np.testing.assert_array_equal(shuffled.form, one.form[order])


def test_one_pass_encoding_equals_separate_calls():
    model = _model()
    seqs = _seqs()
    emb, valid, factors = model.encode_videos_with_form(seqs)
    emb_alone, valid_alone = model.encode_videos(seqs)
    assert torch.equal(emb, emb_alone) and torch.equal(valid, valid_alone)
    assert torch.equal(factors, model.form_factors(seqs))


def test_model_without_form_head_keeps_its_signature_and_scores():
    model = _model(head=False)
    result = Scorer(model).score(_seqs(2), ["the rain", "the sun and wind"])
    assert result.form is None
    assert "form:" not in result.signature
    assert all("form" not in row for row in result.rows())


def test_form_head_round_trip(tmp_path):
    model = _model()
    path = save_own(model, tmp_path / "m.safetensors")
    loaded = load_own(path).eval()
    assert loaded.config()["form_head"]["width"] == HEAD["width"]
    seqs = _seqs(3)
    np.testing.assert_array_equal(model.form_factors(seqs).numpy(), loaded.form_factors(seqs).numpy())


def test_noise_floor_is_the_median_second_difference_of_present_points():
    from silverscore.models.form_head import noise_floor
    from silverscore.models.pose_encoder import pad_features

    rng = np.random.default_rng(0)
    points, frames, middle, sigma = 10, 300, 7, 0.01
    t = np.arange(frames, dtype=np.float64)[:, None, None]
    positions = 0.002 * t * rng.normal(size=(1, points, 3))  # straight lines: no second difference
    positions[..., :2] += rng.normal(0.0, sigma, size=(frames, points, 2))
    positions[..., 2] += rng.normal(0.0, 5.0, size=(frames, points))  # depth is not read
    present = np.ones((frames, points))
    present[:, 3] = 0.0
    positions[:, 3] = rng.normal(0.0, 100.0, size=(frames, 3))  # an absent point's values are not read
    clean = np.concatenate([positions.reshape(frames, -1), rng.normal(size=(frames, middle)), present], axis=1)
    short = clean[:2]  # two frames: no second difference
    batch, lengths = pad_features([clean.astype(np.float32), short.astype(np.float32)])
    floor, known = noise_floor(batch, lengths, points)
    # |N(0, 6 sigma^2)| has median 0.6745 * sqrt(6) * sigma
    assert floor[0].item() == pytest.approx(0.6745 * math.sqrt(6) * sigma, rel=0.06)
    assert known.tolist() == [1.0, 0.0]
    alone, _ = noise_floor(*pad_features([clean.astype(np.float32)]), points)
    assert alone[0].item() == floor[0].item()  # padding changes nothing


def test_form_head_reading_the_noise_floor_is_batch_free_and_round_trips(tmp_path):
    from silverscore.models.form_head import FormHead, FormHeadConfig

    model = _model(noise_floor=True)
    assert model.form_head.config.points == len(NAMES)
    seqs = _seqs()
    one = Scorer(model, batch_size=1).score(seqs, ["the rain"] * len(seqs)).form
    many = Scorer(model, batch_size=5).score(seqs, ["the rain"] * len(seqs)).form
    np.testing.assert_array_equal(one, many)
    loaded = load_own(save_own(model, tmp_path / "m.safetensors")).eval()
    assert loaded.config()["form_head"]["noise_floor"] is True
    np.testing.assert_array_equal(model.form_factors(seqs).numpy(), loaded.form_factors(seqs).numpy())
    with torch.no_grad():  # the floor's path enters the factor (a shift equal in every channel would not)
        loaded.form_head.noise_mlp[2].bias.add_(torch.linspace(-3.0, 3.0, HEAD["width"]))
    assert not np.allclose(model.form_factors(seqs).numpy(), loaded.form_factors(seqs).numpy())
    with pytest.raises(ValueError, match="number of keypoints"):
        FormHead(FormHeadConfig(feature_dim=70, hidden_dim=32, window=8, max_windows=8, noise_floor=True))



def test_noise_floors_computed_once_give_the_logits_the_head_computes_itself():
    from silverscore.models.form_head import noise_floor

    model = _model(noise_floor=True)
    features = [model.prepare_video(s).astype(np.float16) for s in _seqs()]  # training keeps float16
    floors, known = model.form_noise_floors(features, chunk=2)
    # by hand for one video: the median absolute second difference of its present x, y
    one = features[2].astype(np.float32)
    k = len(NAMES)
    xy = one[:, : 3 * k].reshape(len(one), k, 3)[..., :2]
    second = np.abs(xy[2:] - 2 * xy[1:-1] + xy[:-2])
    present = one[:, -k:] > 0
    both = present[2:] & present[1:-1] & present[:-2]
    values = np.sort(second[both].ravel())
    assert floors[2].item() == values[(len(values) - 1) // 2]  # torch's median: the lower middle value
    assert known.tolist() == [1.0] * len(features)
    as_float = [f.astype(np.float32) for f in features]
    with torch.no_grad():
        for picked in ([0, 3], [4, 1, 2], list(range(5))):
            inside = model.form_logits([as_float[i] for i in picked])
            given = model.form_logits([as_float[i] for i in picked], None, (floors[picked], known[picked]))
            assert torch.equal(inside, given)
        moved = model.form_logits(as_float[:2], None, (floors[:2] * 4.0, known[:2]))
    assert not torch.equal(moved, model.form_logits(as_float[:2]).detach())
    with pytest.raises(ValueError, match="does not read the noise floor"):
        _model().form_noise_floors(features)
    assert noise_floor(torch.zeros(1, 2, 4 * k), [2], k)[1].item() == 0.0

def test_form_head_gets_no_gradient_into_the_towers():
    model = _model().train()
    feats = [model.prepare_video(s) for s in _seqs(3)]
    model.form_logits(feats).sum().backward()
    assert all(p.grad is None for p in model.pose_encoder.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.form_head.parameters())


def test_form_settings_are_checked():
    assert FormSettings.from_dict({"steps": 10}).steps == 10
    with pytest.raises(ValueError, match="unknown \\[form\\] setting"):
        FormSettings.from_dict({"stepz": 10})
    with pytest.raises(ValueError, match="batch_size"):
        FormSettings.from_dict({"batch_size": 1})
    with pytest.raises(ValueError, match="meaning_variants >= 1 or give exchange_rate"):
        FormSettings.from_dict({"meaning_variants": 0})
    assert FormSettings.from_dict({"meaning_variants": 0, "exchange_rate": 1.0}).exchange_rate == 1.0
    with pytest.raises(ValueError, match="also_graded takes meaning-error kinds"):
        FormSettings.from_dict({"also_graded": ["noise"]})
    with pytest.raises(ValueError, match="exchange_rate must be in"):
        FormSettings.from_dict({"exchange_rate": 1.5})


def test_form_training_learns_to_tell_frozen_from_moving_and_leaves_towers_alone(monkeypatch):
    """A few steps on a toy set (moving signing → 1, frozen copies → 0.2) separate the two, the
    towers stay bit for bit as they were, and two runs give the same head."""
    from silverscore.train import form as form_mod

    def toy_examples(model, sentences, form_variants, meaning_variants, seed, split, progress=False, processes=0):
        out = []
        for seq in _seqs():
            frozen = PoseSequence(np.repeat(seq.data[:1], len(seq.data), 0), seq.confidence, 25.0, list(NAMES))
            for video, kind, target in ((seq, "clean", 1.0), (frozen, "frozen", 0.2)):
                feats = model.prepare_video(video)
                out.append(FormExample(feats.astype(np.float16), model.window_states([feats])[0], kind, target, 1.0))
        return out

    monkeypatch.setattr(form_mod, "build_form_examples", toy_examples)
    settings = FormSettings(sentences=1, val_sentences=1, steps=60, batch_size=4, lr=3e-3, head=HEAD,
                            exchange_rate=1.0)
    heads = []
    for _ in range(2):
        model = _model(head=False)
        towers = {k: v.clone() for k, v in model.state_dict().items()}
        validation = form_mod.train_form_head(model, settings, seed=5, progress=False)
        assert all(torch.equal(v, model.state_dict()[k]) for k, v in towers.items())
        assert validation["F_clean"] > validation["F_frozen"] + 0.3
        heads.append({k: v.clone() for k, v in model.form_head.state_dict().items()})
        assert model.config()["form_training"]["settings"]["steps"] == 60
    assert all(torch.equal(heads[0][k], heads[1][k]) for k in heads[0])


def test_score_command_applies_the_form_factor_unless_no_form(tmp_path, capsys):
    import json

    from silverscore.cli import main

    path = save_own(_model(), tmp_path / "m.safetensors")
    hyps = tmp_path / "hyps"
    hyps.mkdir()
    refs = ["the rain", "the sun and wind", "the snow and cold and warm"]
    for i, seq in enumerate(_seqs(3)):
        np.savez(hyps / f"s{i}.npz", data=seq.data, confidence=seq.confidence, keypoints=np.array(NAMES))
    (tmp_path / "refs.jsonl").write_text("".join(json.dumps({"id": f"s{i}", "text": t}) + "\n" for i, t in enumerate(refs)))
    rows = {}
    for flag in ("on", "off"):
        out = tmp_path / f"{flag}.jsonl"
        args = ["score", "--model", str(path), "--hyps", str(hyps), "--refs", str(tmp_path / "refs.jsonl"),
                "--out", str(out), "--quiet"] + (["--no-form"] if flag == "off" else [])
        assert main(args) == 0
        summary = json.loads(capsys.readouterr().out)
        assert f"|form:{flag}|" in summary["signature"]
        rows[flag] = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    for key, on in rows["on"].items():
        off = rows["off"][key]
        assert "form" not in off and 0 < on["form"] < 1
        assert on["score"] == pytest.approx(off["score"] * on["form"], rel=1e-12)


def test_acceleration_inputs_are_second_differences_and_padding_free():
    torch.manual_seed(0)
    model = PoseTextModel(PoseTextModel.default_config(NAMES, **SMALL))
    model.add_form_head({**HEAD, "accelerations": True})
    model.eval()
    feats = [model.prepare_video(s) for s in _seqs(3)]
    seen = []
    # what reaches the GELU is the first linear layer's output on [features, steps, changes]
    model.form_head.frame_mlp[1].register_forward_hook(lambda module, args, out: seen.append(args[0].detach()))
    batch = model.form_logits(feats)
    first = model.form_head.frame_mlp[0]
    weight, bias = first.weight.detach().double().numpy(), first.bias.detach().double().numpy()
    assert weight.shape[1] == 3 * feats[0].shape[1]
    for i, f in enumerate(feats):
        f = f.astype(np.float64)
        step, second = np.zeros_like(f), np.zeros_like(f)
        step[1:] = f[1:] - f[:-1]
        second[2:] = f[2:] - 2 * f[1:-1] + f[:-2]
        expected = np.concatenate([f, step, second], axis=1) @ weight.T + bias
        np.testing.assert_allclose(seen[0][i, : len(f)].numpy(), expected, rtol=1e-4, atol=1e-4)
    alone = torch.cat([model.form_logits([f]) for f in feats])
    torch.testing.assert_close(batch, alone, rtol=0, atol=1e-5)
    assert model.config()["form_head"]["accelerations"] is True


def test_pose_encoder_and_form_head_build_masks_on_the_features_device():
    """On the meta device any tensor left on the CPU raises (as it would on a GPU): the encoder's
    masks and window indices and the form head's must follow the features."""
    model = _model()
    from silverscore.models.pose_encoder import pad_features

    feats = [model.prepare_video(s) for s in _seqs(3)]
    batch, lengths = pad_features([feats[0], feats[2]])
    assert lengths[0] != lengths[1]  # one of them padded
    index, valid = model.pose_encoder.window_index(lengths)
    model.to("meta")
    tokens, weights = model.pose_encoder(batch.to("meta"), lengths)
    assert tokens.device.type == "meta" and tuple(weights.shape) == tuple(valid.shape)
    hidden, _ = model.pose_encoder.hidden(batch.to("meta"), lengths)
    logits = model.form_head(batch.to("meta"), lengths, index.to("meta"), valid.to("meta"), hidden)
    assert logits.device.type == "meta" and tuple(logits.shape) == (2,)


def test_form_examples_built_chunk_by_chunk_are_the_same_examples():
    """The form stage renders, scores and drops a few sentences at a time (memory); the examples,
    their ratios and the index of each one's clean rendering must not depend on the chunk."""
    from silverscore.train.form import build_form_examples
    from silverscore.train.synthetic import keypoint_names

    torch.manual_seed(0)
    model = PoseTextModel(PoseTextModel.default_config(keypoint_names(), **SMALL)).eval()
    whole = build_form_examples(model, 5, 1, 1, 3, "train", chunk=100)
    pieces = build_form_examples(model, 5, 1, 1, 3, "train", chunk=2)
    assert len(whole) == len(pieces) >= 10
    for a, b in zip(whole, pieces):
        np.testing.assert_array_equal(a.features, b.features)
        torch.testing.assert_close(a.states, b.states, rtol=0, atol=0)
        assert (a.kind, a.quality, a.source) == (b.kind, b.quality, b.source)
        # the ratios come from one product per padded chunk (as when the shipped head was trained):
        # the chunk's longest text may move their last bits on some CPUs (seen: AMD EPYC, 1e-16)
        assert a.ratio == pytest.approx(b.ratio, rel=1e-12, abs=0) or (math.isnan(a.ratio) and math.isnan(b.ratio))
    for i, e in enumerate(pieces):
        assert pieces[e.source].kind == "clean" and e.source <= i
        assert e.kind != "clean" or (e.source == i and e.ratio == 1.0)
    assert sum(e.kind == "clean" for e in pieces) == 5
    with pytest.raises(ValueError, match="chunk"):
        build_form_examples(model, 1, 1, 0, 3, "train", chunk=0)
    # rendered in worker processes ahead of the chunk being scored, two sentences per rendering
    # task joined into each scoring chunk: the same examples, every bit
    from silverscore.train import form as form_mod

    was, form_mod.RENDER_CHUNK = form_mod.RENDER_CHUNK, 2
    try:
        there = build_form_examples(model, 5, 1, 1, 3, "train", chunk=100, processes=2)
    finally:
        form_mod.RENDER_CHUNK = was
    assert len(there) == len(whole)
    for a, b in zip(whole, there):
        np.testing.assert_array_equal(a.features, b.features)
        torch.testing.assert_close(a.states, b.states, rtol=0, atol=0)
        assert (a.kind, a.quality, a.source) == (b.kind, b.quality, b.source)
        assert a.ratio == b.ratio or (math.isnan(a.ratio) and math.isnan(b.ratio))


def test_fit_calibration_by_hand():
    from silverscore.train.form import fit_calibration

    a, b = math.exp(-0.1), math.exp(-0.05)
    factor = [0.9, 0.95, 1.0, 0.9 * a, 0.95 * a, 0.9 * b, 1.0 * b]
    sources = [0, 1, 2, 0, 1, 0, 2]
    kinds = ["clean"] * 3 + ["noise"] * 2 + ["substitution"] * 2
    targets = [1.0] * 3 + [math.exp(-0.2)] * 2 + [1.0] * 2
    reference, exponent = fit_calibration(factor, sources, kinds, targets)
    # median clean 0.95; kind means: noise (-0.1, -0.2), substitution (-0.05, 0), two outputs each:
    # exponent = 2 (0.1 × 0.2) / (2 × 0.1² + 2 × 0.05²) = 0.04 / 0.025
    assert reference == pytest.approx(0.95) and exponent == pytest.approx(1.6)
    # a head that already grades as asked keeps exponent 1; the exponent is bounded
    assert fit_calibration(factor, sources, kinds, [1.0] * 3 + [a] * 2 + [b] * 2)[1] == pytest.approx(1.0)
    assert fit_calibration(factor, sources, kinds, [1.0] * 3 + [1e-6] * 2 + [1.0] * 2)[1] == 4.0
    assert fit_calibration([0.9, 0.9], [0, 0], ["clean", "noise"], [1.0, 0.5])[1] == 1.0  # nothing to fit
    with pytest.raises(ValueError, match="clean"):
        fit_calibration([0.9], [0], ["noise"], [0.5])
    with pytest.raises(ValueError, match="source index"):
        fit_calibration([0.9, 0.8], [0, -1], ["clean", "noise"], [1.0, 0.5])


def test_calibrated_factor_enters_scores_checkpoint_and_hash(tmp_path):
    from silverscore.models.checkpoints import file_sha256

    model = _model()
    seqs = _seqs(3)
    plain_path = save_own(model, tmp_path / "plain.safetensors")
    raw = model.form_factors(seqs)
    with pytest.raises(ValueError, match="reference"):
        model.calibrate_form_head(1.5, 2.0)
    model.calibrate_form_head(0.8, 2.0)
    assert model.config()["form_head"]["calibrated"] is True
    expected = torch.clamp(raw / 0.8, max=1.0) ** 2.0
    torch.testing.assert_close(model.form_factors(seqs), expected, rtol=1e-6, atol=1e-7)
    texts = ["rain", "sun wind", "snow cold warm"]
    with_form = Scorer(model, progress=False).score(seqs, texts).scores
    without = Scorer(model, progress=False, form=False).score(seqs, texts).scores
    np.testing.assert_allclose(with_form, without * expected.numpy(), rtol=1e-5)
    path = save_own(model, tmp_path / "calibrated.safetensors")
    loaded = load_own(path).eval()
    assert loaded.form_head.config.calibrated and loaded.form_head.calibration.tolist() == pytest.approx([0.8, 2.0])
    np.testing.assert_array_equal(loaded.form_factors(seqs).numpy(), model.form_factors(seqs).numpy())
    assert file_sha256(path) != file_sha256(plain_path)  # the signature's hash tells them apart
    assert not load_own(plain_path).form_head.config.calibrated


def test_form_training_can_calibrate_the_factor_on_the_dev_outputs(monkeypatch):
    from silverscore.train import form as form_mod

    def toy_examples(model, sentences, form_variants, meaning_variants, seed, split, progress=False, processes=0):
        out = []
        for seq in _seqs():
            frozen = PoseSequence(np.repeat(seq.data[:1], len(seq.data), 0), seq.confidence, 25.0, list(NAMES))
            source = len(out)
            for video, kind, target in ((seq, "clean", 1.0), (frozen, "frozen", 0.2)):
                feats = model.prepare_video(video)
                out.append(FormExample(feats.astype(np.float16), model.window_states([feats])[0], kind, target, 1.0,
                                       source=source))
        return out

    monkeypatch.setattr(form_mod, "build_form_examples", toy_examples)
    settings = FormSettings(sentences=1, val_sentences=1, steps=20, batch_size=4, lr=3e-3, head=HEAD,
                            exchange_rate=1.0, calibrate=True)
    model = _model(head=False)
    validation = form_mod.train_form_head(model, settings, seed=5, progress=False)
    calibration = validation["calibration"]
    assert model.form_head.config.calibrated and model.config()["form_head"]["calibrated"]
    assert model.form_head.calibration.tolist() == pytest.approx([calibration["reference"], calibration["exponent"]],
                                                                 rel=1e-5)
    examples = toy_examples(model, 1, 1, 0, 0, "dev")
    form_mod.assign_targets(examples, 1.0)
    with torch.no_grad():
        raw = torch.sigmoid(torch.cat([model.form_logits([e.features.astype(np.float32)], [e.states])
                                       for e in examples])).numpy()
    reference, exponent = form_mod.fit_calibration(raw, [e.source for e in examples], [e.kind for e in examples],
                                                   [e.target for e in examples])
    assert (reference, exponent) == pytest.approx((calibration["reference"], calibration["exponent"]), rel=1e-5)
    assert "relative_mae_calibrated" in validation
