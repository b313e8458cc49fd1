"""Each execution of a step in a thread of its own, started ahead of its turn.

A kernel's start and a notebook's imports are a good part of every step (the benchmark's
floor), and they read nothing the earlier steps write. So the chain starts a
:class:`StepWorker` for a step while the steps before it are still running: the worker starts
the step's kernel and runs its imports at once (:func:`runner.start_kernel`), says it is ready,
and waits. When the step's turn comes the chain either tells it to go, with the run's
parameters, or stops it (the step turned out to be up to date). The worker answers with the
executed notebook, or the exception, and only then shuts its kernel down, off the run's
critical path.

Threads rather than processes: the work is in the kernels (processes of their own); a worker
only sends cells and receives outputs, each on its own event loop. A forked process per worker
cost a copy of the command's memory each (about 100 MB of resident memory per step).
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

from citycluster.chain.runner import (
    execute_step,
    kill_kernel,
    new_kernel,
    shutdown_kernel,
    start_kernel,
)
from citycluster.chain.steps import Step

#: What a worker says once its kernel has started and imported.
READY = "ready"

#: A message from a worker: the worker, and READY, the outcome or an exception.
Message = tuple["StepWorker", Any]


class StepWorker:
    """One execution of ``step`` (in ``lang``): a thread that starts its kernel and imports
    (once :meth:`start` is called), and runs the notebook on :meth:`go`. What it has to say
    goes to ``inbox``."""

    def __init__(self, step: Step, lang: str | None, executed_dir: Path,
                 inbox: queue.SimpleQueue[Message]) -> None:
        self.step, self.lang, self.executed_dir, self.inbox = step, lang, executed_dir, inbox
        self.ready = False  # its kernel has started and imported
        self.went: float | None = None  # when it was told to go (perf_counter)
        self._orders: queue.SimpleQueue[tuple[dict[str, Any], bool] | None] = \
            queue.SimpleQueue()
        self._kernel: Any = new_kernel()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"citycluster {step.name} {lang or ''}".rstrip())

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def go(self, params: dict[str, Any], progress: bool) -> None:
        """Run the notebook now (or as soon as its kernel is ready), with these parameters."""
        self.went = time.perf_counter()
        self._orders.put((params, progress))

    def stop(self) -> None:
        """Not needed, or the run is being stopped: whatever it is doing ends (its kernel is
        killed, which fails the cell it runs) and so does the worker, saying nothing more."""
        self._stopping.set()
        self._orders.put(None)
        kill_kernel(self._kernel)

    def join(self) -> None:
        """Wait for the worker to end, its kernel shut down."""
        if self._thread.ident is not None:
            self._thread.join()

    def _serve(self) -> None:
        outcome: Any = None
        try:
            start_kernel(self._kernel, self.step, self._stopping)
            if self._stopping.is_set():
                return
            self.inbox.put((self, READY))
            order = self._orders.get()
            if order is None:
                return
            params, progress = order
            executed = execute_step(self.step, params, self.executed_dir, lang=self.lang,
                                    progress=progress, kernel=self._kernel)
            outcome = executed
        except BaseException as exc:  # every failure goes back to the chain
            outcome = exc
        finally:
            if outcome is not None and not self._stopping.is_set():
                self.inbox.put((self, outcome))
            shutdown_kernel(self._kernel)
