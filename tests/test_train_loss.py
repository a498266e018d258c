"""Training losses: the generalised InfoNCE reduces to spec §4's, and multi-positive/hard columns act as defined."""
from __future__ import annotations

import math

import torch

from silverscore.similarity import infonce_loss
from silverscore.train.loss import calibration_loss, contrastive_loss


def test_reduces_to_cico_infonce_without_extras():
    g = torch.Generator().manual_seed(0)
    zv, zt = torch.randn(5, 5, generator=g) * 3, torch.randn(5, 5, generator=g) * 3
    ours = contrastive_loss(zv, zt, torch.eye(5, dtype=torch.bool))
    assert torch.allclose(ours, infonce_loss(zv, zt), atol=1e-6)


def test_two_by_two_by_hand_with_a_hard_column():
    # videos 0,1; texts 0,1 and one extra hard negative column for video 0
    zv = torch.tensor([[2.0, 0.0, 1.0], [0.0, 3.0, 0.0]])
    zt = zv.clone()
    pos = torch.tensor([[True, False, False], [False, True, False]])

    def ce(row, target):
        return -(row[target] - math.log(sum(math.exp(x) for x in row)))

    row_v = 0.5 * (ce([2, 0, 1], 0) + ce([0, 3, 0], 1))      # video anchors see the hard column
    col_t = 0.5 * (ce([2, 0], 0) + ce([0, 3], 1))            # text anchors see videos only
    expected = 0.5 * (0.5 * row_v + 0.5 * col_t) + 0.5 * (0.5 * col_t + 0.5 * row_v)
    assert abs(contrastive_loss(zv, zt, pos).item() - expected) < 1e-6


def test_duplicate_meaning_is_not_punished():
    # texts 0 and 1 mean the same: video 0 matching text 1 as well must lower the loss
    zv = torch.tensor([[5.0, 5.0], [5.0, 5.0]])
    single = contrastive_loss(zv, zv, torch.eye(2, dtype=torch.bool))
    both = contrastive_loss(zv, zv, torch.ones(2, 2, dtype=torch.bool))
    assert abs(single.item() - math.log(2)) < 1e-6
    assert abs(both.item()) < 1e-6


def test_calibration_by_hand():
    lam = torch.tensor(10.0)
    # mixed similarity s = (zv + zt) / 2 / λ: positive 0.5, hard negative 0.1, easy -0.2
    zv = torch.tensor([[5.0, 1.0, -2.0]])
    pos = torch.tensor([[True, False, False]])
    hard = torch.tensor([[False, True, False]])
    loss = calibration_loss(zv, zv, pos, hard, lam, torch.tensor(0.2), sharpness=10.0)
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    expected = 0.5 * softplus(-3.0) + 0.25 * softplus(-1.0) + 0.25 * softplus(-4.0)
    assert abs(loss.item() - expected) < 1e-6


def test_fidelity_by_hand():
    from silverscore.train.loss import fidelity_loss

    lam = torch.tensor(10.0)
    # rows: clean video 0, its degraded rendering 1 (fidelity 0.5), an unrelated video 2
    zv = torch.tensor([[8.0, 0.0, 0.0], [6.0, 0.0, 0.0], [1.0, 0.0, 7.0]])
    zt = torch.tensor([[6.0, 0.0, 0.0], [2.0, 0.0, 0.0], [1.0, 0.0, 7.0]], requires_grad=True)
    loss = fidelity_loss(zv, zt, lam, torch.tensor([1]), torch.tensor([0]), torch.tensor([0.5]), margin=0.4)
    # s(0, text 0) = (8 + 6) / 2 / 10 = 0.7, s(1, text 0) = (6 + 2) / 2 / 10 = 0.4: gap 0.3,
    # wanted 0.4 * (1 - 0.5) = 0.2
    assert abs(loss.item() - 0.1 ** 2) < 1e-7
    loss.backward()
    # only the gap matters: equal and opposite gradients, nothing else touched
    assert zt.grad[0, 0] == -zt.grad[1, 0] != 0
    assert zt.grad.abs().sum() == 2 * zt.grad[0, 0].abs()
    empty = torch.tensor([], dtype=torch.long)
    assert fidelity_loss(zv, zt, lam, empty, empty, torch.tensor([]), margin=0.4).item() == 0.0


def test_fidelity_pairs_need_the_source_in_the_batch():
    from silverscore.train.data import Example, fidelity_pairs

    clean = Example(id="a", video=None, text="x", group="a")
    noisy = Example(id="a~noise", video=None, text="x", group="a", fidelity=0.7)
    frozen = Example(id="a~frozen", video=None, text="y", group="a")
    orphan = Example(id="b~noise", video=None, text="z", group="b", fidelity=0.6)
    assert fidelity_pairs([frozen, noisy, clean, orphan]) == ([1], [2], [0.7])


def test_degraded_rows_can_be_left_out_of_the_contrastive_terms():
    from silverscore.train.data import Example
    from silverscore.train.trainer import without_degraded_rows

    clean = Example(id="a", video=None, text="x", group="a")
    noisy = Example(id="a~noise", video=None, text="x", group="a", fidelity=0.7)
    other = Example(id="b", video=None, text="z", group="b")
    # 3 rows, 3 own-text columns + 2 extra columns; entry (i, j) = 10 i + j
    z = torch.arange(3)[:, None] * 10.0 + torch.arange(5)[None, :]
    flags = z.remainder(2) == 0
    kept_z, kept_flags = without_degraded_rows([clean, noisy, other], z, flags)
    assert kept_z.tolist() == [[0.0, 2.0, 3.0, 4.0], [20.0, 22.0, 23.0, 24.0]]
    assert kept_flags.tolist() == [[True, True, False, True], [True, True, False, True]]
    no_degraded = z[:2, [0, 2, 3, 4]]
    assert without_degraded_rows([clean, other], no_degraded)[0] is no_degraded


def test_gap_loss_by_hand():
    from silverscore.train.loss import gap_loss

    s_clean = torch.tensor([0.8, 0.7])
    s_output = torch.tensor([0.6, 0.7])
    # gaps 0.2 and 0.0; wanted 0.5 * (1 - 0.8) = 0.1 and 0.5 * (1 - 0.4) = 0.3
    loss = gap_loss(s_clean, s_output, torch.tensor([0.8, 0.4]), margin=0.5)
    assert abs(loss.item() - (0.1 ** 2 + 0.3 ** 2) / 2) < 1e-7


def test_process_slices_cover_every_row_once(monkeypatch):
    from silverscore.train.trainer import Dist

    monkeypatch.setenv("WORLD_SIZE", "1")
    assert Dist().slice(7) == slice(0, 7)
    shares = []
    for rank in range(3):
        dist = Dist.__new__(Dist)  # no process group: only the arithmetic
        dist.world, dist.rank = 3, rank
        shares.append(dist.slice(10))
    assert [list(range(10))[s] for s in shares] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    for rank in range(2):  # an even split is unchanged
        dist = Dist.__new__(Dist)
        dist.world, dist.rank = 2, rank
        assert dist.slice(96) == slice(48 * rank, 48 * (rank + 1))


def test_one_sided_gap_loss_ignores_gaps_beyond_the_target():
    from silverscore.train.loss import gap_loss

    s_clean = torch.tensor([0.8, 0.7], requires_grad=True)
    s_output = torch.tensor([0.2, 0.7])
    # gap 0.6 exceeds its target 0.1 (no loss, no gradient); gap 0 falls 0.3 short
    loss = gap_loss(s_clean, s_output, torch.tensor([0.8, 0.4]), margin=0.5, one_sided=True)
    assert abs(loss.item() - 0.3 ** 2 / 2) < 1e-7
    loss.backward()
    assert s_clean.grad[0] == 0 and s_clean.grad[1] < 0
    both = gap_loss(s_clean, s_output, torch.tensor([0.8, 0.4]), margin=0.5)
    assert abs(both.item() - (0.5 ** 2 + 0.3 ** 2) / 2) < 1e-7
