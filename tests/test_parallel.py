"""Worker processes for rendering (silverscore.parallel): same results as in this process, in order."""
import os

import numpy as np
import pytest

from silverscore.parallel import can_fork, ordered_map

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork start method here: the work runs in-process")


def _draw(seed: int) -> tuple[int, int, float]:
    """A task whose result depends on its seed only, and says which process computed it."""
    return seed, os.getpid(), float(np.random.default_rng(seed).normal())


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("task three is bad")
    return x * 10


def _niceness(_: int) -> int:
    return os.nice(0)


@needs_fork
def test_ordered_map_keeps_the_order_and_the_results_of_the_calling_process():
    tasks = list(range(23))
    here = list(ordered_map(_draw, tasks, 0))
    there = list(ordered_map(_draw, tasks, 3, ahead=2))
    assert [r[0] for r in there] == tasks
    assert [r[2] for r in there] == [r[2] for r in here]
    assert {r[1] for r in here} == {os.getpid()}
    assert os.getpid() not in {r[1] for r in there}  # really computed elsewhere


@needs_fork
def test_ordered_map_raises_a_workers_error_at_its_place_in_the_order():
    results = ordered_map(_fail_on_three, range(6), 2)
    assert [next(results) for _ in range(3)] == [0, 10, 20]
    with pytest.raises(ValueError, match="task three"):
        next(results)


@needs_fork
def test_ordered_map_workers_run_at_the_niceness_asked_for():
    base = os.nice(0)
    assert set(ordered_map(_niceness, range(4), 2, niceness=5)) == {min(19, base + 5)}
    assert set(ordered_map(_niceness, range(2), 1)) == {base}


def test_ordered_map_rejects_bad_counts():
    with pytest.raises(ValueError, match="processes"):
        list(ordered_map(_draw, [1], -1))
    with pytest.raises(ValueError, match="ahead"):
        list(ordered_map(_draw, [1], 1, ahead=0))


@needs_fork
def test_workers_start_at_once_and_serve_several_maps():
    """Workers fork every process when made (while the caller is small), then reuse them."""
    from silverscore.parallel import Workers

    with Workers(2, niceness=3) as workers:
        assert len(workers._pool._processes) == 2  # forked already, before any map
        first = list(workers.map(_draw, range(8)))
        second = list(ordered_map(_draw, range(8, 12), workers))
        assert [r[2] for r in first + second] == [r[2] for r in ordered_map(_draw, range(12), 0)]
        assert {r[1] for r in first + second} <= set(workers._pool._processes)
        assert set(workers.map(_niceness, range(3))) == {min(19, os.nice(0) + 3)}
    assert workers._pool is None
    with pytest.raises(ValueError, match="processes"):
        Workers(-1)


def _rss_kept_after_free(megabytes: int) -> int:
    """Resident MB this process still holds after filling and freeing ``megabytes`` of array."""
    def resident() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20

    before = resident()
    block = np.ones(megabytes << 17)  # float64: 8 bytes each
    del block
    return resident() - before


@needs_fork
def test_workers_give_freed_memory_back_when_the_parent_keeps_it(tmp_path):
    """`silverscore train` keeps freed blocks in its heap (allocator.keep_freed_memory); its
    rendering workers must not inherit that, or each holds on to the largest chunk it rendered."""
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")
    script = (
        "import sys; sys.path.insert(0, {tests!r}); import test_parallel as t\n"
        "from silverscore.allocator import keep_freed_memory\n"
        "from silverscore.parallel import Workers\n"
        "assert keep_freed_memory()\n"
        "with Workers(1) as w: print(next(w.map(t._rss_kept_after_free, [200])))\n"
        "print(t._rss_kept_after_free(200))\n"  # after: a block freed before the fork would be reused
    ).format(tests=os.path.dirname(__file__))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    worker, parent = int(out[0]), int(out[1])
    assert parent >= 150  # the parent kept the freed 200 MB, as asked
    assert worker <= 20  # the worker gave them back
