"""The chain: run the steps that are out of date, in order, and publish what they produce.

Steps that read nothing the others write (the model and the fact-check; the figures and each
language's report, as :data:`catalog.FLOWS` declares them) form a wave and run at the same
time, up to ``jobs`` at once. While fewer than ``jobs`` are busy, the kernel of the next
execution in the plan starts ahead and imports what its notebook imports (:class:`_Ahead`,
:mod:`citycluster.chain.workers`).

A run executes the requested steps against a staging copy of ``reports/``; only when every
requested step succeeds are the executed notebooks and the reports published (an atomic folder
swap), so a failed run leaves the last good outputs in place and keeps the failing executed
notebook in ``build/executed/`` for inspection. Either way the run leaves a short record of
how it went in its build folder (:data:`OUTCOME`). A step's hooks (see :class:`Step`) are called
around it with a :class:`HookContext`; the chain knows them only by name.
"""

from __future__ import annotations

import copy
import importlib
import json
import queue
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from citycluster.chain import catalog, provenance, runlock
from citycluster.chain.cache import RECORD as CACHE_RECORD
from citycluster.chain.cache import (
    Cache,
    StepKey,
    code_digest,
    file_digest,
    files_digest,
    params_digest,
    reason_to_run,
)
from citycluster.chain.runner import kernel_environment
from citycluster.chain.steps import STEPS, Pattern, Step, declared_parameters, step_label
from citycluster.chain.workers import READY, Message, StepWorker
from citycluster.errors import CityclusterError
from citycluster.kernel import remove_orphaned_socket_dirs
from citycluster.paths import repo_root, resolve
from citycluster.publish import recover, swap_directory, write_text_atomic

#: The record every run leaves in its build folder, failed or not (:func:`write_outcome`).
OUTCOME = "outcome.json"
#: How many executions may wait ahead of their turn with their kernel ready, each holding a
#: kernel with its notebook's imports (90-380 MB resident; with 5, the cold chain's peak was
#: 1.10-1.20 GB in four runs on a 2-core machine).
AHEAD = 5


@dataclass(frozen=True)
class HookContext:
    """What a step's hooks may use: the run's parameters, the staging copy of the reports,
    the language of this execution (None for ``finish``) and the timings so far."""

    params: dict[str, Any]
    stage: Path
    lang: str | None
    timings: dict[str, float]


@dataclass
class RunResult:
    """What ran and how long each notebook took (seconds)."""

    timings: dict[str, float] = field(default_factory=dict)
    reports_dir: Path | None = None
    executed_dir: Path | None = None
    ran: dict[str, str] = field(default_factory=dict)       # label -> why it ran
    skipped: dict[str, str] = field(default_factory=dict)   # label -> why it did not
    #: after a partial run: later steps it did not run that are now out of date, with why
    stale: list[str] = field(default_factory=list)
    #: the run's wall time (steps of a wave overlap, so it is less than their sum)
    wall_s: float = 0.0


def _files(patterns: Sequence[Pattern], dirs: dict[str, Path],
           lang: str | None) -> list[tuple[str, Path]]:
    out = []
    for param, pattern in patterns:
        base = dirs[param]
        for path in sorted(base.glob(pattern.format(lang=lang))):
            if path.is_file():
                out.append((f"{param}/{path.relative_to(base).as_posix()}", path))
    return out


class _Planner:
    """Decides, step by step, whether a step must run, from the cache and the files now."""

    def __init__(self, root: Path, params: dict[str, Any], cache: Cache, force: bool) -> None:
        self.root, self.params, self.cache, self.force = root, params, cache, force
        import citycluster  # the code the kernels import, wherever it is installed from

        self.code = code_digest(Path(citycluster.__file__).parent)
        self.lock = provenance.lock_sha256(root) or ""

    def key(self, step: Step, lang: str | None, dirs: dict[str, Path]) -> StepKey:
        declared = declared_parameters(self.root / step.notebook)
        injected = ({**self.params} if step.shows_provenance
                    else {k: self.params[k] for k in declared if k in self.params})
        if lang is not None:
            injected["lang"] = lang
        return StepKey(notebook=file_digest(self.root / step.notebook), code=self.code,
                       lock=self.lock, params=params_digest(injected),
                       inputs=files_digest(_files(step.inputs, dirs, lang)))

    def outputs(self, step: Step, lang: str | None, dirs: dict[str, Path]) -> dict[str, str]:
        return {name: file_digest(path) for name, path in _files(step.outputs, dirs, lang)}

    def reason(self, step: Step, lang: str | None,
               dirs: dict[str, Path]) -> tuple[str | None, StepKey]:
        """Why the step must run (None: up to date), and the key it was judged by."""
        key = self.key(step, lang, dirs)
        why = reason_to_run(self.cache.get(step_label(step, lang)), key,
                            self.outputs(step, lang, dirs), self.force)
        return why, key


def _dirs(params: dict[str, Any], root: Path, reports: Path) -> dict[str, Path]:
    return {"raw_dir": resolve(params["raw_dir"], root),
            "staging_dir": resolve(params["staging_dir"], root),
            "processed_dir": resolve(params["processed_dir"], root), "reports_dir": reports}


def run_chain(
    params: dict[str, Any],
    steps: Sequence[Step],
    *,
    echo: Callable[[str], None] = print,
    progress: bool | None = None,
    force: bool = False,
    wait: bool = True,
    jobs: int = 2,
) -> RunResult:
    """Run the steps that are out of date, in order, independent ones ``jobs`` at a time; then
    publish reports and executed notebooks together. With nothing out of date, nothing is
    touched but the run's record (:data:`OUTCOME`), which every run leaves, failed or not.
    One run at a time holds the build folder; ``wait=False`` refuses at once
    (:class:`runlock.RunLocked`)."""
    root = repo_root()
    build = resolve(params["build_dir"], root)
    with runlock.held(build, wait=wait, echo=echo):
        start = time.perf_counter()  # once the folders are ours: waiting is not running
        # "running" until it ends: a run killed outright (SIGKILL, a job's time limit) leaves
        # that, not the record of an earlier attempt
        made_with = provenance.made_with(root)
        write_outcome(build, made_with, 0.0, steps, status="running")
        try:
            result = _run_chain(params, steps, echo=echo, progress=progress, force=force,
                                jobs=jobs)
        except BaseException as exc:  # a failing step, a missing input, an interruption
            write_outcome(build, made_with, time.perf_counter() - start, steps, error=exc)
            raise
        result.wall_s = time.perf_counter() - start
        write_outcome(build, made_with, result.wall_s, steps)
    return result


def write_outcome(build: Path, made_with: dict[str, str | None], seconds: float,
                  steps: Sequence[Step], *, error: BaseException | None = None,
                  status: str | None = None) -> Path:
    """Leave :data:`OUTCOME` in the build folder: how the run went (ok, failed, or still
    running), which steps it was asked for, and what made it (commit, lock, interpreter,
    installed packages), so runs made anywhere (a CI matrix, a job array) can be collected and
    checked to be comparable (``citycluster sweep --collect``)."""
    reason = None
    if error is not None:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
    record = {"status": status or ("failed" if error is not None else "ok"), "error": reason,
              "steps": [s.name for s in steps], "seconds": round(seconds, 2),
              "finished": datetime.now(UTC).isoformat(timespec="seconds"), **made_with}
    path = build / OUTCOME
    write_text_atomic(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return path


def _run_chain(
    params: dict[str, Any],
    steps: Sequence[Step],
    *,
    echo: Callable[[str], None],
    progress: bool | None,
    force: bool,
    jobs: int = 2,
) -> RunResult:
    root = repo_root()
    kernel_environment(root)
    progress = sys.stderr.isatty() if progress is None else progress
    reports = resolve(params["reports_dir"], root)
    build = resolve(params["build_dir"], root)
    recover(reports)
    cache = Cache(build / CACHE_RECORD)
    planner = _Planner(root, params, cache, force)
    result = RunResult(reports_dir=reports, executed_dir=reports / "executed")
    plan = [(step, lang) for step in steps
            for lang in (params["report_languages"] if step.per_language else [None])]

    # Fast path: everything up to date, so no staging copy, no swap, nothing written.
    first = next((i for i, (step, lang) in enumerate(plan)
                  if planner.reason(step, lang, _dirs(params, root, reports))[0]), None)
    if first is None:
        for step, lang in plan:
            result.skipped[step_label(step, lang)] = "up to date"
        scope = "everything is" if len(steps) == len(STEPS) else "the requested steps are"
        echo(f"{scope} up to date (use --force to rerun)")
        return result

    executed_dir = build / "executed"
    if executed_dir.exists():
        shutil.rmtree(executed_dir)
    executed_dir.mkdir(parents=True)
    # The staging copy lives in build/ and survives a failure, so the Data Docs and outputs a
    # failing run points at can still be opened.
    stage = build / "reports-stage"
    if stage.exists():
        shutil.rmtree(stage)
    if reports.exists():
        shutil.copytree(reports, stage)
    else:
        stage.mkdir(parents=True)
    run_params = dict(params, reports_dir=str(stage))
    dirs = _dirs(params, root, stage)
    names = [s.name for s in steps]

    done: list[tuple[str, StepKey, Step, str | None]] = []
    ahead = _Ahead(plan, executed_dir, jobs)
    try:
        for wave in waves(plan):
            todo = []
            for step, lang in wave:
                label = step_label(step, lang)
                n = f"[{names.index(step.name) + 1}/{len(steps)}]"
                why, key = planner.reason(step, lang, dirs)
                if why is None:
                    ahead.cancel(step, lang)
                    result.skipped[label] = "up to date"
                    echo(f"{n} {label} up to date")
                    continue
                echo(f"{n} {label} ... ({why})")
                _require_inputs(step, dirs)
                result.ran[label] = why
                if step.shows_provenance:  # with the timings of the steps before it
                    provenance.write(stage, provenance.collect(params, result.timings))
                hooks = importlib.import_module(step.hooks) if step.hooks else None
                context = HookContext(params, stage, lang, result.timings)
                if hooks is not None and hasattr(hooks, "before"):
                    hooks.before(context)
                todo.append(_Execution(n, label, key, step, lang, hooks, context))
            alone = len(todo) == 1 or jobs <= 1
            for item, (executed, took) in ahead.run(todo, run_params, progress and alone):
                start = time.perf_counter()
                if item.hooks is not None and hasattr(item.hooks, "after"):
                    item.hooks.after(item.context, executed)
                took += time.perf_counter() - start
                result.timings[item.label] = round(took, 2)
                echo(f"{item.n} {item.label} done in {took:.1f} s")
                _record_timings(build, result, params)
                done.append((item.label, item.key, item.step, item.lang))

        # Executed notebooks of steps not run this time stay; those run now replace theirs.
        published_executed = stage / "executed"
        published_executed.mkdir(exist_ok=True)
        current = {f"{s.name}.{code}.ipynb" if s.per_language else f"{s.name}.ipynb"
                   for s in STEPS for code in params["report_languages"]}
        for old in published_executed.glob("*.ipynb"):
            if old.name not in current:  # a renamed or removed step, or a dropped language
                old.unlink()
        for nb in executed_dir.glob("*.ipynb"):
            shutil.copy2(nb, published_executed / nb.name)
        shutil.copy2(build / "run.json", stage / "run.json")
        for step in dict.fromkeys(step for _, _, step, _ in done):
            if step.hooks:
                hooks = importlib.import_module(step.hooks)
                if hasattr(hooks, "finish"):
                    hooks.finish(HookContext(params, stage, None, result.timings))
        swap_directory(stage, reports)
        # Only now, with the outputs published, may the cache say these steps are done.
        final = _dirs(params, root, reports)
        for label, key, step, lang in done:
            cache.put(label, key, planner.outputs(step, lang, final))
        cache.save()
        unforced = copy.copy(planner)  # --force is about this run only; the code digest stands
        unforced.force = False
        result.stale = _left_out_of_date(unforced, steps, params, final)
    except BaseException:
        ahead.stop()
        raise
    finally:
        # each kernel shut down once its step had answered, the last ones while publishing
        ahead.close()
    return result


def waves(plan: Sequence[tuple[Step, str | None]]) -> list[list[tuple[Step, str | None]]]:
    """The plan cut into consecutive groups whose steps may run at the same time."""
    out: list[list[tuple[Step, str | None]]] = []
    for item in plan:
        if out and all(catalog.independent(item[0].name, other.name) for other, _ in out[-1]):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def _load_papermill() -> None:
    """Import papermill (about 1.5 s) in this thread while the first kernels start, rather
    than in the first worker thread, where it waited for nothing else."""
    import papermill  # noqa: F401


@dataclass(frozen=True)
class _Execution:
    """One execution the run has decided on: the step, its language, its cache key, hooks."""

    n: str
    label: str
    key: StepKey
    step: Step
    lang: str | None
    hooks: Any
    context: HookContext


class _Ahead:
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
        self.going: dict[StepWorker, _Execution] = {}
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

    def run(self, todo: list[_Execution], params: dict[str, Any],
            progress: bool) -> Iterator[tuple[_Execution, tuple[Path, float]]]:
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
            _load_papermill()
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


class MissingInput(CityclusterError, FileNotFoundError):
    """A step's input is not there: an earlier step has not run (or its output was removed)."""


def _require_inputs(step: Step, dirs: dict[str, Path]) -> None:
    """Stop before a step whose inputs are missing, naming the step that makes each."""
    missing = catalog.missing_inputs(step.name, dirs)
    if missing:
        makers = sorted({catalog.producer(name) or "the raw data" for name, _ in missing})
        one = len(missing) == 1
        raise MissingInput(
            f"{step.name} reads {', '.join(str(p) for _, p in missing)}, which "
            f"{'does' if one else 'do'} not exist; {' and '.join(makers)} "
            f"make{'s' if len(makers) == 1 else ''} {'it' if one else 'them'}: run "
            f"`citycluster run --until {step.name}` (or `make report`)")


def _left_out_of_date(planner: _Planner, steps: Sequence[Step], params: dict[str, Any],
                      dirs: dict[str, Path]) -> list[str]:
    """After a partial run, the steps it did not run that are now out of date."""
    chosen = {s.name for s in steps}
    stale = []
    for step in STEPS:
        if step.name in chosen:
            continue
        for lang in (params["report_languages"] if step.per_language else [None]):
            why, _ = planner.reason(step, lang, dirs)
            if why is not None:
                stale.append(f"{step_label(step, lang)} ({why})")
    return stale


def _record_timings(build: Path, result: RunResult, params: dict[str, Any]) -> None:
    record = {"timings_s": result.timings, "ran": result.ran, "skipped": result.skipped,
              "params": params}
    write_text_atomic(build / "run.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
