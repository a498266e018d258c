"""CPU work in worker processes, results in order: for the synthetic language's rendering.

Why: rendering one synthetic video is about 4 ms of single-threaded NumPy, and a training run
renders tens of thousands of them (the default recipe: 8,500 before its first step, 48,000 for
its second stage), while PyTorch's threads wait or, in the second stage, could score the chunk
before. A renderer is a pure function of its item (every seed it draws from is in the item), so
the process it runs in changes no bit of its output; tests check this for every caller.

Workers are *forked*, on Linux, as PyTorch's DataLoader's are there: a forked child needs no
import of the caller's ``__main__`` (``spawn`` would re-run a script without a ``__main__``
guard) and starts in milliseconds. The children run NumPy only, never PyTorch's thread pool, so
the parent's OpenMP threads do not matter to them. Elsewhere (macOS, whose system libraries are
not safe to use after a fork, and Windows) the work runs in the calling process, with the same
results.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether :class:`Workers` start processes here (Linux with the ``fork`` start method)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _start_worker(niceness: int) -> None:
    """A worker's first act: its priority, and glibc's default allocator (a training process
    keeps freed blocks, see :mod:`silverscore.allocator`; a worker that did would hold on to the
    largest chunk it ever rendered)."""
    from .allocator import return_freed_memory

    if niceness:
        try:
            os.nice(niceness)
        except (AttributeError, OSError):
            pass
    return_freed_memory()


class Workers:
    """``processes`` forked worker processes, started *now* and reused until :meth:`close`.

    Why start them early: a forked child shares its parent's memory until either writes to it,
    and a child's allocations reuse the free blocks of the heap it inherited, copying each page
    it touches. Forked from a training run's second stage (whose heap held gigabytes, kept by
    :func:`silverscore.allocator.keep_freed_memory`), two renderers added about 6 GB; forked
    before the run builds anything, they hold what they render (and give it back: each starts
    with glibc's default allocator settings). ``niceness`` lowers the workers' priority
    (for work that runs beside PyTorch's threads). ``processes = 0``, or no ``fork`` here: no
    processes; :meth:`map` then works in the calling process.
    """

    def __init__(self, processes: int, niceness: int = 0):
        if processes < 0:
            raise ValueError(f"processes must be >= 0, got {processes}")
        self.processes = processes if can_fork() else 0
        self._pool = None
        if self.processes:
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_start_worker, initargs=(niceness,))
            # the pool forks on demand; make it fork every worker here, while this process is small
            started = [self._submit(os.getpid) for _ in range(self.processes)]
            for future in started:
                future.result()

    def _submit(self, fn, *args):
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork in a process with threads; see the module
            # docstring for why these children are safe (NumPy only)
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._pool.submit(fn, *args)

    def map(self, fn: Callable[[T], R], tasks: Iterable[T], ahead: int = 2) -> Iterator[R]:
        """``fn(task)`` for each task, yielded in the tasks' order, with up to ``processes ×
        ahead`` tasks submitted before their results are taken: the workers compute the next tasks
        while the caller works on the current result. ``fn`` must be a module-level function;
        tasks and results travel between our own processes by pickle. An exception in ``fn`` is
        raised here, at its task's place in the order."""
        if ahead < 1:
            raise ValueError(f"ahead must be >= 1, got {ahead}")
        if self._pool is None:
            for task in tasks:
                yield fn(task)
            return
        queue = deque()
        todo = iter(tasks)

        def submit_next() -> None:
            for task in todo:
                queue.append(self._submit(fn, task))
                return

        try:
            for _ in range(self.processes * ahead):
                submit_next()
            while queue:
                result = queue.popleft().result()
                submit_next()
                yield result
        finally:
            for future in queue:  # a caller that stops early leaves nothing running for it
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ordered_map(fn: Callable[[T], R], tasks: Iterable[T], processes: int | Workers, ahead: int = 2,
                niceness: int = 0) -> Iterator[R]:
    """:meth:`Workers.map` on ``processes``: running :class:`Workers`, or a count of workers
    started for this call (0: in this process, one task at a time)."""
    if isinstance(processes, Workers):
        yield from processes.map(fn, tasks, ahead)
        return
    if processes < 0 or ahead < 1:
        raise ValueError(f"processes must be >= 0 and ahead >= 1, got {processes}, {ahead}")
    with Workers(processes, niceness) as workers:
        yield from workers.map(fn, tasks, ahead)


__all__ = ["Workers", "available_cores", "can_fork", "ordered_map"]
