"""The chain: run the steps that are out of date, in order, and publish what they produce.

Steps that read nothing the others write (the model and the fact-check; each language's
figures and report, as :data:`.catalog.FLOWS` declares them) form a wave and run at the same
time, up to ``jobs`` at once; what must run, and in which waves, is :mod:`.plan`'s to say.
While fewer than ``jobs`` are busy, the kernel of the next execution in the plan starts ahead
and imports what its notebook imports (:mod:`.pool`, :mod:`.workers`).

A run executes the requested steps against a staging copy of ``reports/``; only when every
requested step succeeds are the executed notebooks and the reports published (an atomic folder
swap), so a failed run leaves the last good outputs in place and keeps the failing executed
notebook in ``build/executed/`` for inspection. Either way the run leaves a short record of
how it went in its build folder (:data:`OUTCOME`). A step's hooks (see :class:`Step`) are called
around it with a :class:`.plan.HookContext`; the chain knows them only by name.
"""

from __future__ import annotations

import copy
import importlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from citycluster.chain import provenance, runlock
from citycluster.chain.cache import RECORD as CACHE_RECORD
from citycluster.chain.cache import Cache
from citycluster.chain.plan import (
    Execution,
    HookContext,
    Planner,
    executions_of,
    left_out_of_date,
    output_stamps,
    require_inputs,
    require_outputs,
    waves,
)
from citycluster.chain.pool import WorkerPool
from citycluster.chain.runner import kernel_environment
from citycluster.chain.settings import RunSettings
from citycluster.chain.steps import STEPS, Step, executed_name, step_label
from citycluster.publish import recover, swap_directory, write_text_atomic

#: The record every run leaves in its build folder, failed or not (:func:`write_outcome`).
OUTCOME = "outcome.json"


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


def run_chain(
    settings: RunSettings,
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
    root, build = settings.root, settings.build
    with runlock.held(build, wait=wait, echo=echo):
        start = time.perf_counter()  # once the folders are ours: waiting is not running
        # "running" until it ends: a run killed outright (SIGKILL, a job's time limit) leaves
        # that, not the record of an earlier attempt
        made_with = provenance.made_with(root)
        write_outcome(build, made_with, 0.0, steps, status="running")
        try:
            result = _run_chain(settings, steps, echo=echo, progress=progress, force=force,
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


@dataclass
class _Run:
    """One run's context, shared by the phases of :func:`_run_chain`."""

    settings: RunSettings
    steps: Sequence[Step]
    echo: Callable[[str], None]
    planner: Planner
    cache: Cache
    result: RunResult


def _run_chain(
    settings: RunSettings,
    steps: Sequence[Step],
    *,
    echo: Callable[[str], None],
    progress: bool | None,
    force: bool,
    jobs: int = 2,
) -> RunResult:
    kernel_environment(settings.root)
    progress = sys.stderr.isatty() if progress is None else progress
    reports = settings.reports
    recover(reports)
    cache = Cache(settings.build / CACHE_RECORD)
    run = _Run(settings, steps, echo, Planner(settings, cache, force), cache,
               RunResult(reports_dir=reports, executed_dir=reports / "executed"))
    plan = executions_of(steps, settings.languages)
    if _all_up_to_date(run, plan):
        return run.result

    executed_dir, stage = _fresh_folders(settings.build, reports)
    run_params = settings.injected(stage)
    dirs = settings.dirs(stage)
    done: list[Execution] = []
    pool = WorkerPool(plan, executed_dir, jobs)
    try:
        for wave in waves(plan):
            todo = _executions(run, wave, pool, stage, dirs)
            alone = len(todo) == 1 or jobs <= 1
            for item, (executed, took) in pool.run(todo, run_params, progress and alone):
                _finished(run, item, executed, took, dirs)
                done.append(item)
        _publish(run, stage, executed_dir, done)
    except BaseException:
        pool.stop()
        raise
    finally:
        # each kernel shut down once its step had answered, the last ones while publishing
        pool.close()
    return run.result


def _all_up_to_date(run: _Run, plan: list[tuple[Step, str | None]]) -> bool:
    """The fast path: with everything up to date, no staging copy, no swap, nothing written."""
    dirs = run.settings.dirs()
    if any(run.planner.reason(step, lang, dirs)[0] for step, lang in plan):
        return False
    for step, lang in plan:
        run.result.skipped[step_label(step, lang)] = "up to date"
    scope = "everything is" if len(run.steps) == len(STEPS) else "the requested steps are"
    run.echo(f"{scope} up to date (use --force to rerun)")
    return True


def _fresh_folders(build: Path, reports: Path) -> tuple[Path, Path]:
    """An empty folder for this run's executed notebooks, and a staging copy of the reports.
    The staging copy lives in build/ and survives a failure, so the Data Docs and outputs a
    failing run points at can still be opened."""
    executed_dir = build / "executed"
    if executed_dir.exists():
        shutil.rmtree(executed_dir)
    executed_dir.mkdir(parents=True)
    stage = build / "reports-stage"
    if stage.exists():
        shutil.rmtree(stage)
    if reports.exists():
        shutil.copytree(reports, stage)
    else:
        stage.mkdir(parents=True)
    return executed_dir, stage


def _executions(run: _Run, wave: list[tuple[Step, str | None]], pool: WorkerPool, stage: Path,
                dirs: dict[str, Path]) -> list[Execution]:
    """The executions of one wave that are out of date, each with its inputs checked and its
    ``before`` hook called; the others are reported up to date and their kernels ended."""
    names = [s.name for s in run.steps]
    todo = []
    for step, lang in wave:
        label = step_label(step, lang)
        n = f"[{names.index(step.name) + 1}/{len(run.steps)}]"
        why, key = run.planner.reason(step, lang, dirs)
        if why is None:
            pool.cancel(step, lang)
            run.result.skipped[label] = "up to date"
            run.echo(f"{n} {label} up to date")
            continue
        run.echo(f"{n} {label} ... ({why})")
        require_inputs(step, dirs)
        run.result.ran[label] = why
        if step.shows_provenance:  # with the timings of the steps before it
            provenance.write(stage, provenance.collect(run.settings.values, run.result.timings,
                                                       run.settings.raw))
        hooks = importlib.import_module(step.hooks) if step.hooks else None
        context = HookContext(run.settings.values, stage, lang, run.result.timings)
        if hooks is not None and hasattr(hooks, "before"):
            hooks.before(context)
        todo.append(Execution(n, label, key, step, lang, hooks, context,
                              output_stamps(step, lang, dirs)))
    return todo


def _finished(run: _Run, item: Execution, executed: Path, took: float,
              dirs: dict[str, Path]) -> None:
    """After an execution: its ``after`` hook, the check that it wrote every output it
    declares, and its timing (the hook's time counted in)."""
    start = time.perf_counter()
    if item.hooks is not None and hasattr(item.hooks, "after"):
        item.hooks.after(item.context, executed)
    took += time.perf_counter() - start
    require_outputs(item, dirs)
    run.result.timings[item.label] = round(took, 2)
    run.echo(f"{item.n} {item.label} done in {took:.1f} s")
    _record_timings(run.settings.build, run.result, run.settings.values)


def _publish(run: _Run, stage: Path, executed_dir: Path, done: list[Execution]) -> None:
    """The staging copy, with this run's executed notebooks and record, swapped into the
    reports folder; only then does the cache say the steps that ran are done."""
    # Executed notebooks of steps not run this time stay; those run now replace theirs.
    published_executed = stage / "executed"
    published_executed.mkdir(exist_ok=True)
    current = {executed_name(s, lang) for s, lang in executions_of(STEPS, run.settings.languages)}
    for old in published_executed.glob("*.ipynb"):
        if old.name not in current:  # a renamed or removed step, or a dropped language
            old.unlink()
    for nb in executed_dir.glob("*.ipynb"):
        shutil.copy2(nb, published_executed / nb.name)
    shutil.copy2(run.settings.build / "run.json", stage / "run.json")
    for step in dict.fromkeys(item.step for item in done):
        if step.hooks:
            hooks = importlib.import_module(step.hooks)
            if hasattr(hooks, "finish"):
                hooks.finish(HookContext(run.settings.values, stage, None, run.result.timings))
    swap_directory(stage, run.settings.reports)
    final = run.settings.dirs()
    for item in done:
        run.cache.put(item.label, item.key, run.planner.outputs(item.step, item.lang, final))
    run.cache.save()
    unforced = copy.copy(run.planner)  # --force is about this run only; the code digest stands
    unforced.force = False
    run.result.stale = left_out_of_date(unforced, run.steps, final)


def _record_timings(build: Path, result: RunResult, params: Mapping[str, Any]) -> None:
    record = {"timings_s": result.timings, "ran": result.ran, "skipped": result.skipped,
              "params": params}
    write_text_atomic(build / "run.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
