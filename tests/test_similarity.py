"""The similarity maths against a plain loop written straight from spec §1.6."""
import math

import numpy as np
import pytest
import torch

from silverscore.similarity import combine, infonce_loss, matrix_similarity, paired_similarity


def loop_reference(v, vvalid, t, tvalid, lam, tau=0.07, masked=False):
    """Item-by-item, slot-by-slot evaluation of Z_V2T and Z_T2V in float64 Python."""
    v = [row / np.linalg.norm(row) for row in v]
    t = [row / np.linalg.norm(row) for row in t]
    s = [[float(np.dot(a, b)) for b in t] for a in v]
    r = []
    for i in range(len(v)):
        js = [j for j in range(len(t)) if tvalid[j] or not masked]
        w = [math.exp(s[i][j] / tau) for j in js]
        r.append(sum(s[i][j] * wj for j, wj in zip(js, w)) / sum(w))
    c = []
    for j in range(len(t)):
        is_ = [i for i in range(len(v)) if vvalid[i] or not masked]
        w = [math.exp(s[i][j] / tau) for i in is_]
        c.append(sum(s[i][j] * wi for i, wi in zip(is_, w)) / sum(w))
    z_v2t = lam * np.mean([r[i] for i in range(len(v)) if vvalid[i]])
    z_t2v = lam * np.mean([c[j] for j in range(len(t)) if tvalid[j]])
    return z_v2t, z_t2v


def random_batch(seed, n=3, lv=9, lt=6, e=5):
    g = np.random.default_rng(seed)
    v = g.standard_normal((n, lv, e))
    t = g.standard_normal((n, lt, e))
    vvalid = np.zeros((n, lv), bool)
    tvalid = np.zeros((n, lt), bool)
    for k in range(n):
        vvalid[k, 1 : 1 + g.integers(1, lv)] = True  # slot 0 is CLS
        tvalid[k, : g.integers(2, lt + 1)] = True
    return v, vvalid, t, tvalid


@pytest.mark.parametrize("softmax", ["official", "masked"])
def test_paired_matches_loop(softmax):
    v, vvalid, t, tvalid = random_batch(1)
    zv, zt = paired_similarity(torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 90.0, softmax=softmax)
    for k in range(len(v)):
        ev, et = loop_reference(v[k], vvalid[k], t[k], tvalid[k], 90.0, masked=softmax == "masked")
        assert zv[k].item() == pytest.approx(ev, abs=1e-9)
        assert zt[k].item() == pytest.approx(et, abs=1e-9)


@pytest.mark.parametrize("softmax", ["official", "masked"])
def test_matrix_entries_equal_paired_and_chunking_is_invisible(softmax):
    v, vvalid, t, tvalid = random_batch(2, n=5)
    args = (torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 50.0)
    zv, zt = matrix_similarity(*args, softmax=softmax)
    zv_small, zt_small = matrix_similarity(*args, softmax=softmax, chunk_elements=1)  # one pair per block
    assert torch.allclose(zv, zv_small, atol=1e-12, rtol=0) and torch.allclose(zt, zt_small, atol=1e-12, rtol=0)
    for a in range(5):
        for b in range(5):
            ev, et = loop_reference(v[a], vvalid[a], t[b], tvalid[b], 50.0, masked=softmax == "masked")
            assert zv[a, b].item() == pytest.approx(ev, abs=1e-9)
            assert zt[a, b].item() == pytest.approx(et, abs=1e-9)


def test_official_softmax_sees_padding_and_masked_does_not():
    v, vvalid, t, tvalid = random_batch(3, n=1)
    base = [torch.tensor(x) for x in (v, vvalid, t, tvalid)]
    changed_t = t.copy()
    changed_t[0, ~tvalid[0]] += 3.0  # only the padding rows change
    official = paired_similarity(base[0], base[1], torch.tensor(changed_t), base[3], 1.0, softmax="official")
    masked = paired_similarity(base[0], base[1], torch.tensor(changed_t), base[3], 1.0, softmax="masked")
    official0 = paired_similarity(*base, 1.0, softmax="official")
    masked0 = paired_similarity(*base, 1.0, softmax="masked")
    assert not torch.allclose(official[0], official0[0])  # official: padding inside the v→t softmax
    assert torch.allclose(masked[0], masked0[0]) and torch.allclose(masked[1], masked0[1])


def test_combine_and_loss():
    assert combine(torch.tensor(2.0), torch.tensor(4.0)).item() == pytest.approx(3.5 * 3.0)
    assert combine(torch.tensor(2.0), torch.tensor(4.0), mix=1.0, scale=1.0).item() == pytest.approx(2.0)
    eye = torch.eye(4) * 50
    assert infonce_loss(eye, eye).item() < 1e-10
    flat = torch.zeros(4, 4)
    assert infonce_loss(flat, flat).item() == pytest.approx(math.log(4))


@pytest.mark.parametrize("softmax", ["official", "masked"])
def test_training_gradient_is_exact(softmax):
    """The hand-written backward of the re-weighting (used whenever gradients are needed) passes
    a numerical gradient check, and its forward values equal the no-grad path bit for bit."""
    v, vvalid, t, tvalid = random_batch(5)
    v = torch.tensor(v, requires_grad=True)
    t = torch.tensor(t, requires_grad=True)
    vv, tv = torch.tensor(vvalid), torch.tensor(tvalid)

    def both(v_, t_):
        return matrix_similarity(v_, vv, t_, tv, 3.0, softmax=softmax)

    assert torch.autograd.gradcheck(both, (v, t))
    with torch.no_grad():
        plain = both(v, t)
    for a, b in zip(both(v, t), plain):
        assert torch.equal(a.detach(), b)


@pytest.mark.parametrize("softmax", ["official", "masked"])
def test_slot_weights_give_weighted_averages(softmax):
    """Float masks are slot weights: the softmaxes see the slots with weight > 0 exactly as a bool
    mask's, and both averages are weighted (checked against a plain loop)."""
    v, vvalid, t, tvalid = random_batch(11)
    g = np.random.default_rng(3)
    vw = np.where(vvalid, g.uniform(0.05, 1.0, vvalid.shape), 0.0)
    tw = np.where(tvalid, g.uniform(0.05, 1.0, tvalid.shape), 0.0)
    zv, zt = paired_similarity(torch.tensor(v), torch.tensor(vw), torch.tensor(t), torch.tensor(tw), 2.0,
                               softmax=softmax)
    masked = softmax == "masked"
    for k in range(len(v)):
        vn = v[k] / np.linalg.norm(v[k], axis=1, keepdims=True)
        tn = t[k] / np.linalg.norm(t[k], axis=1, keepdims=True)
        s = vn @ tn.T
        v_allowed = vvalid[k] if masked else np.ones_like(vvalid[k])
        t_allowed = tvalid[k] if masked else np.ones_like(tvalid[k])
        wr = np.exp(s / 0.07) * t_allowed[None, :]
        r = (s * wr).sum(1) / wr.sum(1)
        wc = np.exp(s / 0.07) * v_allowed[:, None]
        c = (s * wc).sum(0) / wc.sum(0)
        assert float(zv[k]) == pytest.approx(2.0 * (r * vw[k]).sum() / vw[k].sum(), abs=1e-10)
        assert float(zt[k]) == pytest.approx(2.0 * (c * tw[k]).sum() / tw[k].sum(), abs=1e-10)
    # weights that are all 1 on the valid slots give the unweighted scores
    ones = paired_similarity(torch.tensor(v), torch.tensor(vvalid, dtype=torch.float64), torch.tensor(t),
                             torch.tensor(tvalid, dtype=torch.float64), 2.0, softmax=softmax)
    plain = paired_similarity(torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 2.0,
                              softmax=softmax)
    for a, b in zip(ones, plain):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("softmax", ["official", "masked"])
@pytest.mark.parametrize("weights", [False, True])
def test_fused_matrix_matches_loop_and_its_gradient_is_exact(softmax, weights):
    """The training path's rearranged maths (shift-free exponent, shift and exclusions as extra
    embedding coordinates, hand-written backward) gives the plain loop's values, a numerical
    gradient check passes, and splitting into blocks of videos changes nothing. A text with no
    valid token and a video with no valid clip are included: they must give 0, not NaN."""
    v, vvalid, t, tvalid = random_batch(21, n=4)
    tvalid[2] = False
    vvalid[3] = False
    g = np.random.default_rng(4)
    vw = np.where(vvalid, g.uniform(0.05, 1.0, vvalid.shape), 0.0) if weights else vvalid
    tw = np.where(tvalid, g.uniform(0.05, 1.0, tvalid.shape), 0.0) if weights else tvalid
    masked = softmax == "masked"
    vt, tt = torch.tensor(v, requires_grad=True), torch.tensor(t, requires_grad=True)
    zv, zt = matrix_similarity(vt, torch.tensor(vw), tt, torch.tensor(tw), 7.0, softmax=softmax, fused=True)
    for a in range(4):
        for b in range(4):
            vn = v[a] / np.linalg.norm(v[a], axis=1, keepdims=True)
            tn = t[b] / np.linalg.norm(t[b], axis=1, keepdims=True)
            s = vn @ tn.T
            wr = np.exp(s / 0.07) * (tvalid[b] if masked else np.ones(len(tvalid[b])))[None, :]
            wc = np.exp(s / 0.07) * (vvalid[a] if masked else np.ones(len(vvalid[a])))[:, None]
            r = np.divide((s * wr).sum(1), wr.sum(1), out=np.zeros(len(s)), where=wr.sum(1) > 0)
            c = np.divide((s * wc).sum(0), wc.sum(0), out=np.zeros(s.shape[1]), where=wc.sum(0) > 0)
            va, tb = np.asarray(vw[a], float), np.asarray(tw[b], float)
            ev = 7.0 * (r * va).sum() / va.sum() if va.sum() else 0.0
            et = 7.0 * (c * tb).sum() / tb.sum() if tb.sum() else 0.0
            assert float(zv[a, b]) == pytest.approx(ev, abs=1e-10)
            assert float(zt[a, b]) == pytest.approx(et, abs=1e-10)
    blocks = matrix_similarity(vt, torch.tensor(vw), tt, torch.tensor(tw), 7.0, softmax=softmax, chunk_elements=1,
                               fused=True)
    for whole, split in zip((zv, zt), blocks):
        assert torch.allclose(whole, split, rtol=0, atol=1e-12)

    def both(v_, t_):
        return matrix_similarity(v_, torch.tensor(vw), t_, torch.tensor(tw), 3.0, softmax=softmax, fused=True)

    assert torch.autograd.gradcheck(both, (vt, tt))
    loss = sum(z.sum() for z in both(vt, tt))
    loss.backward()
    assert torch.isfinite(vt.grad).all() and torch.isfinite(tt.grad).all()


def test_fused_matrix_falls_back_where_its_exponent_is_unsafe():
    """Below τ = 0.03 (and for half precision) the reference path runs, bit for bit."""
    v, vvalid, t, tvalid = random_batch(22, n=3)
    args = (torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 5.0)
    for a, b in zip(matrix_similarity(*args, tau=0.01, softmax="masked", fused=True),
                    matrix_similarity(*args, tau=0.01, softmax="masked")):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="softmax"):
        matrix_similarity(*args, softmax="other", fused=True)


def test_fused_exponent_is_bit_for_bit_plain_exp_with_padding_excluded():
    """The fused forward takes exp of the logits clamped at a floor (fast path) and zeroes the
    excluded slots afterwards: the result must equal plain ``exp`` bit for bit, down to the
    lowest logit an allowed slot can have at the smallest fused temperature (cosine −1 at τ = 0.03)."""
    from silverscore.similarity import _FUSED_MIN_TAU, _FusedReweightFunction

    g = torch.Generator().manual_seed(5)
    tau = _FUSED_MIN_TAU
    logits = -2.0 / tau * torch.rand(3, 7, 4, 9, generator=g)
    logits[0, 0, 0, 0] = -2.0 / tau  # the extreme allowed value
    logits[:, 5:] -= 1000.0  # excluded clips
    logits[:, :, :, 6:] -= 1000.0  # excluded tokens
    r, c = _FusedReweightFunction.apply(logits, tau)
    e = logits.exp()
    assert float(e[0, 0, 0, 0]) > 0 and float(e[0, 5, 0, 0]) == 0.0
    d_r, d_c = e.sum(3), e.sum(1)  # excluded clips and tokens have nothing allowed: they give 0
    expect_r = torch.where(d_r > 0, 1.0 + tau * ((logits * e).sum(3) / d_r), 0.0)
    expect_c = torch.where(d_c > 0, 1.0 + tau * ((logits * e).sum(1) / d_c), 0.0)
    assert torch.equal(r, expect_r)
    assert torch.equal(c, expect_c)


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("buckets", [2, 3, 7])
def test_bucketed_fused_matrix_matches_unbucketed_values_and_gradients(weights, buckets):
    """Grouping videos and texts by length and cutting each block to its own longest members
    (masked softmax) gives the one-block values and gradients, in the callers' order; rows with
    no valid slot still give 0. The official softmax, which counts padding, is never bucketed."""
    v, vvalid, t, tvalid = random_batch(23, n=7, lv=11, lt=8)
    tvalid[4] = False
    vvalid[2] = False
    g = np.random.default_rng(6)
    vw = torch.tensor(np.where(vvalid, g.uniform(0.05, 1.0, vvalid.shape), 0.0) if weights else vvalid)
    tw = torch.tensor(np.where(tvalid, g.uniform(0.05, 1.0, tvalid.shape), 0.0) if weights else tvalid)
    results = []
    for k in (1, buckets):
        vt, tt = torch.tensor(v, requires_grad=True), torch.tensor(t, requires_grad=True)
        zv, zt = matrix_similarity(vt, vw, tt, tw, 7.0, softmax="masked", fused=True, buckets=k)
        (zv * torch.arange(49.0).view(7, 7)).sum().add((zt ** 2).sum()).backward()
        results.append((zv.detach(), zt.detach(), vt.grad, tt.grad))
    for one, many in zip(*results):
        torch.testing.assert_close(many, one, rtol=0, atol=1e-12)
    assert float(results[1][0][2].abs().max()) == 0.0 and float(results[1][1][:, 4].abs().max()) == 0.0
    args = (torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 7.0)
    for a, b in zip(matrix_similarity(*args, softmax="official", fused=True, buckets=buckets),
                    matrix_similarity(*args, softmax="official", fused=True)):
        assert torch.equal(a, b)


def _more_slots(x: np.ndarray, extra: int) -> torch.Tensor:
    """``x`` with ``extra`` padding slots (zeros, invalid) after its slots (axis 1)."""
    pad = [(0, 0)] * x.ndim
    pad[1] = (0, extra)
    return torch.tensor(np.pad(x, pad))


def test_each_pair_alone_equals_the_loop_with_weights_and_empty_rows():
    """paired_similarity_each is the masked paired similarity: against the spec loop, with bool
    masks, slot weights and a text with no valid slot (an empty reference scores 0 one way)."""
    from silverscore.similarity import paired_similarity_each

    v, vvalid, t, tvalid = random_batch(7, n=4, lv=12, lt=9, e=6)
    tvalid[3] = False
    zv, zt = paired_similarity_each(torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 40.0)
    batched = paired_similarity(torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 40.0,
                                softmax="masked")
    torch.testing.assert_close(zv, batched[0], rtol=0, atol=1e-12)
    torch.testing.assert_close(zt, batched[1], rtol=0, atol=1e-12)
    for k in range(3):
        ev, et = loop_reference(v[k], vvalid[k], t[k], tvalid[k], 40.0, masked=True)
        assert zv[k].item() == pytest.approx(ev, abs=1e-9) and zt[k].item() == pytest.approx(et, abs=1e-9)
    assert zt[3].item() == 0.0
    weights = np.where(tvalid, np.random.default_rng(8).uniform(0.1, 2.0, tvalid.shape), 0.0)
    zw = paired_similarity_each(torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(weights), 40.0)
    bw = paired_similarity(torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(weights), 40.0,
                           softmax="masked")
    torch.testing.assert_close(zw[1], bw[1], rtol=0, atol=1e-12)
    assert paired_similarity_each(torch.zeros(0, 3, 6), torch.zeros(0, 3, dtype=torch.bool), torch.zeros(0, 2, 6),
                                  torch.zeros(0, 2, dtype=torch.bool), 1.0)[0].shape == (0,)


def test_each_pair_alone_keeps_every_bit_whatever_the_batch_pads():
    """A pair's Z values are the same to the last bit alone and inside a batch padded to longer
    videos and texts (model-sized slots: 40 × 26 of width 256, float64 as the Scorer computes).
    One masked product over the padded batch fails this on an AMD EPYC machine (9 to 13 of 24
    values differ in their last bits)."""
    from silverscore.similarity import paired_similarity_each

    g = np.random.default_rng(11)
    n, lv, lt, e = 12, 40, 26, 256
    v, t = g.standard_normal((n, lv, e)), g.standard_normal((n, lt, e))
    vvalid = np.zeros((n, lv), bool)
    tvalid = np.zeros((n, lt), bool)
    for k in range(n):
        vvalid[k, : g.integers(5, lv + 1)] = True
        tvalid[k, : g.integers(3, lt + 1)] = True
    whole = paired_similarity_each(torch.tensor(v), torch.tensor(vvalid), torch.tensor(t), torch.tensor(tvalid), 70.0)
    wider = paired_similarity_each(_more_slots(v, 9), _more_slots(vvalid, 9), _more_slots(t, 17),
                                   _more_slots(tvalid, 17), 70.0)
    for k in range(n):
        a, b = int(vvalid[k].sum()), int(tvalid[k].sum())  # alone: no padding at all (a batch of one)
        alone = paired_similarity_each(torch.tensor(v[k:k + 1, :a]), torch.tensor(vvalid[k:k + 1, :a]),
                                       torch.tensor(t[k:k + 1, :b]), torch.tensor(tvalid[k:k + 1, :b]), 70.0)
        for z in range(2):
            assert alone[z][0].item() == whole[z][k].item() == wider[z][k].item()
