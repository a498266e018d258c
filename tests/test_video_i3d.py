"""InceptionI3d: TF "same" padding, BSL-1K state-dict names, strict and safe loading of bsl5k files."""
from __future__ import annotations

import pathlib

import pytest
import torch
import torch.nn.functional as F

from silverscore.errors import CheckpointError, InputError
from silverscore.models.i3d import InceptionI3d, Unit3D, load_i3d, same_padding

torch.set_num_threads(1)


@pytest.mark.parametrize("size, kernel, stride, expected", [
    (16, 7, 2, (2, 3)),    # Conv3d_1a in time: 16 % 2 == 0 -> total 7-2 = 5
    (224, 7, 2, (2, 3)),
    (8, 3, 1, (1, 1)),     # 3x3x3 convs: total 2
    (8, 1, 1, (0, 0)),     # MaxPool3d_2a in time (kernel 1)
    (112, 3, 2, (0, 1)),   # MaxPool3d_2a in space: total 1, front gets 0
    (7, 3, 2, (1, 1)),     # odd size: total 3 - 7 % 2 = 2
    (4, 2, 2, (0, 0)),     # MaxPool3d_5a: total 0
    (5, 3, 2, (1, 1)),     # 3 - 5 % 2 = 2
])
def test_same_padding_matches_tensorflow_rule(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride) == expected


def test_unit3d_equals_explicit_padding_conv_bn_relu():
    torch.manual_seed(0)
    unit = Unit3D(3, 5, kernel=(7, 7, 7), stride=(2, 2, 2)).eval()
    with torch.no_grad():
        unit.bn.running_mean.uniform_(-0.5, 0.5)
        unit.bn.running_var.uniform_(0.5, 2.0)
        unit.bn.weight.uniform_(0.5, 1.5)
        unit.bn.bias.uniform_(-0.2, 0.2)
    x = torch.randn(2, 3, 16, 20, 18)
    # By hand: T 16 -> (2, 3); H 20 -> (2, 3); W 18 -> (2, 3); then conv, BN (eps 1e-3), ReLU.
    padded = F.pad(x, (2, 3, 2, 3, 2, 3))
    y = F.conv3d(padded, unit.conv3d.weight, stride=2)
    bn = unit.bn
    y = (y - bn.running_mean[None, :, None, None, None]) / torch.sqrt(bn.running_var + 1e-3)[None, :, None, None, None]
    y = torch.relu(y * bn.weight[None, :, None, None, None] + bn.bias[None, :, None, None, None])
    with torch.no_grad():
        got = unit(x)
    assert got.shape == (2, 5, 8, 10, 9)
    assert torch.allclose(got, y, atol=1e-5)


def test_state_dict_uses_bsl1k_names_and_shapes():
    state = InceptionI3d().state_dict()
    expected = {  # written from the BSL-1K/pytorch-i3d layout, not read off the code
        "Conv3d_1a_7x7.conv3d.weight": (64, 3, 7, 7, 7),
        "Conv3d_1a_7x7.bn.running_var": (64,),
        "Conv3d_2b_1x1.conv3d.weight": (64, 64, 1, 1, 1),
        "Conv3d_2c_3x3.conv3d.weight": (192, 64, 3, 3, 3),
        "Mixed_3b.b0.conv3d.weight": (64, 192, 1, 1, 1),
        "Mixed_3b.b1b.conv3d.weight": (128, 96, 3, 3, 3),
        "Mixed_4b.b2b.conv3d.weight": (48, 16, 3, 3, 3),
        "Mixed_4f.b3b.conv3d.weight": (128, 528, 1, 1, 1),
        "Mixed_5c.b1b.conv3d.weight": (384, 192, 3, 3, 3),
        "Mixed_5c.b3b.bn.num_batches_tracked": (),
    }
    for key, shape in expected.items():
        assert tuple(state[key].shape) == shape, key
    assert not any(k.startswith("logits") for k in state)
    assert not any("bias" in k and "conv3d" in k for k in state)  # convs have no bias
    # 9 inception blocks x 6 units + 3 stem units, each conv weight + 5 BN entries.
    assert len(state) == (9 * 6 + 3) * 6


def test_forward_gives_one_1024_feature_per_window():
    torch.manual_seed(0)
    with torch.no_grad():
        out = InceptionI3d().eval()(torch.randn(1, 3, 16, 224, 224) * 0.3)
    assert out.shape == (1, 1024)
    with pytest.raises(ValueError):
        InceptionI3d().eval()(torch.randn(1, 3, 16, 100, 100))


def _bsl5k_file(path: pathlib.Path, model: InceptionI3d, classes: int = 5383, legacy: bool = True, **edits):
    """A checkpoint in the layout of bsl5k.pth.tar: wrapper dict, `module.` prefixes, logits head."""
    state = {f"module.{k}": v.clone() for k, v in model.state_dict().items()}
    state["module.logits.conv3d.weight"] = torch.randn(classes, 1024, 1, 1, 1) * 0.01
    state["module.logits.conv3d.bias"] = torch.zeros(classes)
    for key, value in edits.items():
        if value is None:
            del state[key]
        else:
            state[key] = value
    checkpoint = {"epoch": 41, "arch": "InceptionI3d", "state_dict": state,
                  "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "momentum": 0.9, "params": [0, 1]}]}}
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    return path


@pytest.fixture(scope="module")
def reference_model():
    torch.manual_seed(3)
    model = InceptionI3d()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("running_mean"):
                tensor.uniform_(-0.1, 0.1)
            elif name.endswith("running_var"):
                tensor.uniform_(0.5, 2.0)
    return model


@pytest.mark.parametrize("legacy", [True, False])
def test_load_i3d_reads_bsl5k_layout_strictly(tmp_path, reference_model, legacy):
    path = _bsl5k_file(tmp_path / "bsl5k.pth.tar", reference_model, legacy=legacy)
    loaded = load_i3d(path, "cpu")
    assert not loaded.training
    for key, tensor in reference_model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor), key


@pytest.mark.parametrize("edit, message", [
    ({"module.Mixed_4c.b1b.conv3d.weight": None}, "missing"),
    ({"module.Mixed_4c.extra.weight": torch.zeros(3)}, "unknown"),
    ({"module.Mixed_3b.b0.conv3d.weight": torch.zeros(64, 192, 3, 3, 3)}, "wrong shape"),
    ({"module.logits.conv3d.weight": torch.zeros(10, 512, 1, 1, 1)}, "head"),
])
def test_load_i3d_refuses_layout_mismatches(tmp_path, reference_model, edit, message):
    path = _bsl5k_file(tmp_path / "bad.pth.tar", reference_model, classes=10, **edit)
    with pytest.raises(CheckpointError) as err:
        load_i3d(path)
    assert message in err.value.problem
    assert str(path) in str(err.value)


class _Touch:
    """Unpickling this would create a file: stands in for any code-executing pickle."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.target),))


@pytest.mark.parametrize("legacy", [True, False])
def test_load_i3d_refuses_code_executing_pickle(tmp_path, reference_model, legacy):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth.tar"
    state = {f"module.{k}": v for k, v in reference_model.state_dict().items()}
    torch.save({"state_dict": state, "hook": _Touch(marker)}, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError) as err:
        load_i3d(path)
    assert str(path) in str(err.value)
    assert not marker.exists()


def test_load_i3d_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as err:
        load_i3d(tmp_path / "nope.pth.tar")
    assert "nope.pth.tar" in str(err.value)


# ---------------------------------------------------------------------------------------------
# Background prefetch of decoded windows (extract.prefetch)
# ---------------------------------------------------------------------------------------------
def test_prefetch_keeps_order_raises_where_the_source_raised_and_stops_early():
    import threading

    from silverscore.extract import prefetch

    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))
    assert list(prefetch(iter([]))) == []

    def failing():
        yield 1
        yield 2
        raise InputError("clip.mp4", "decoding failed at frame 3")

    got = []
    with pytest.raises(InputError, match="frame 3"):
        for item in prefetch(failing()):
            got.append(item)
    assert got == [1, 2]

    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    stream = prefetch(endless(), depth=2)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()  # the consumer stops: the producer thread ends and closes its source
    assert closed.wait(5.0)
    assert not any(t.name == "silverscore-prefetch" and t.is_alive() for t in threading.enumerate())
