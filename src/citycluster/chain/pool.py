"""The run's step workers: up to ``jobs`` executing at once, and kernels started ahead for
the next executions in the plan while a core is free (:mod:`.workers` drives each one).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from citycluster.chain.plan import Execution
from citycluster.chain.steps import Step
from citycluster.chain.workers import READY, Message, StepWorker
from citycluster.kernel import remove_orphaned_socket_dirs

#: How many executions may wait ahead of their turn with their kernel ready, each holding a
#: kernel with its notebook's imports (90-380 MB resident; with 5, the cold chain's peak was
#: 1.10-1.20 GB in four runs on a 2-core machine).
AHEAD = 5


def load_papermill() -> None:
    """Import papermill (about 1.5 s) in this thread while the first kernels start, rather
    than in the first worker thread, where it waited for nothing else."""
    import papermill  # noqa: F401


class WorkerPool:
    """The run's step workers (:class:`workers.StepWorker`): up to ``jobs`` executing at once,
    and, while fewer than ``jobs`` are busy (executing, or starting their kernel), workers
    started ahead for the next executions in the plan, so that their kernels start and import
    on a core the steps running now leave idle. At most :data:`AHEAD` wait with their kernel
    ready. With ``jobs=1`` nothing starts ahead."""

    def __init__(self, plan: Sequence[tuple[Step, str | None]], executed_dir: Path,
                 jobs: int) -> None:
        self.queue = list(plan)  # executions not yet told to go (or cancelled)
        self.executed_dir, self.jobs = executed_dir, jobs
        self.inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.waiting: dict[tuple[str, str | None], StepWorker] = {}
        self.going: dict[StepWorker, Execution] = {}
        self.all: list[StepWorker] = []
        remove_orphaned_socket_dirs()  # left by a run killed outright (it could not clean up)

    def _start(self, step: Step, lang: str | None) -> StepWorker:
        worker = StepWorker(step, lang, self.executed_dir, self.inbox)
        self.all.append(worker)  # first, so that a stop now cannot miss it
        worker.start()
        return worker

    def _fill(self) -> None:
        """Start a worker ahead for the next executions while a core is free."""
        if self.jobs <= 1:
            return
        for step, lang in self.queue:
            busy = len(self.going) + sum(not w.ready for w in self.waiting.values())
            if busy >= self.jobs or len(self.waiting) >= AHEAD:
                break
            if (step.name, lang) not in self.waiting:
                self.waiting[(step.name, lang)] = self._start(step, lang)

    def _dequeue(self, step: Step, lang: str | None) -> StepWorker | None:
        self.queue = [(s, la) for s, la in self.queue if (s.name, la) != (step.name, lang)]
        return self.waiting.pop((step.name, lang), None)

    def cancel(self, step: Step, lang: str | None) -> None:
        """The execution is not needed (up to date): a worker started for it ends."""
        worker = self._dequeue(step, lang)
        if worker is not None:
            worker.stop()

    def run(self, todo: list[Execution], params: dict[str, Any],
            progress: bool) -> Iterator[tuple[Execution, tuple[Path, float]]]:
        """Execute a wave, ``jobs`` at a time, yielding each execution as it ends, with the
        seconds since it was told to go (its kernel's start too, when that was not done
        ahead). The first failure is raised once the executions already going have ended."""
        pending = list(todo)
        failure: BaseException | None = None
        while pending or self.going:
            while pending and failure is None and len(self.going) < self.jobs:
                item = pending.pop(0)
                worker = self._dequeue(item.step, item.lang)
                if worker is None or not worker.alive:  # none ahead, or its start failed
                    worker = self._start(item.step, item.lang)
                worker.go(params, progress)
                self.going[worker] = item
            if not self.going:
                break
            if failure is None:
                self._fill()
            load_papermill()
            worker, message = self.inbox.get()
            if message == READY:
                worker.ready = True
                continue
            if worker not in self.going:
                # a worker ahead whose kernel failed to start: its turn starts another, which
                # fails again, where it can be reported as that step's failure, or succeeds
                key = (worker.step.name, worker.lang)
                if self.waiting.get(key) is worker:
                    del self.waiting[key]
                continue
            item = self.going.pop(worker)
            if isinstance(message, BaseException):
                failure = failure or message
            elif failure is None:
                assert worker.went is not None
                yield item, (message, time.perf_counter() - worker.went)
        if failure is not None:
            raise failure

    def stop(self) -> None:
        """A failure or a signal: every worker stops, its kernel killed."""
        for worker in self.all:
            worker.stop()

    def close(self) -> None:
        """Workers started ahead for executions that never came are stopped; then every worker
        is waited for, its kernel shut down."""
        for worker in self.waiting.values():
            worker.stop()
        for worker in self.all:
            worker.join()
        self.all, self.waiting, self.going = [], {}, {}
