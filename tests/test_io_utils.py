"""atomic_write: all or nothing, with ordinary permissions."""
import os
import stat

import pytest

from silverscore.io_utils import atomic_write


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_success_replaces_and_uses_umask(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    old = os.umask(0o022)
    try:
        with atomic_write(target) as handle:
            handle.write("new")
    finally:
        os.umask(old)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
