"""What a run must do: for each step (and language), whether it is out of date and why,
judged from the cache and the files now; which steps may run at the same time; what a step
needs before it starts; and, after a partial run, what it left out of date.

The orchestrator (:mod:`.orchestrate`) asks; nothing here runs a notebook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citycluster.chain import catalog, provenance
from citycluster.chain.cache import (
    Cache,
    StepKey,
    code_digest,
    file_digest,
    files_digest,
    params_digest,
    reason_to_run,
)
from citycluster.chain.settings import RunSettings
from citycluster.chain.steps import STEPS, Pattern, Step, declared_parameters, step_label
from citycluster.data import contracts, published
from citycluster.errors import CityclusterError


@dataclass(frozen=True)
class HookContext:
    """What a step's hooks may use: the run's parameters, the staging copy of the reports,
    the language of this execution (None for ``finish``) and the timings so far."""

    params: Mapping[str, Any]
    stage: Path
    lang: str | None
    timings: dict[str, float]


@dataclass(frozen=True)
class Execution:
    """One execution the run has decided on: the step, its language, its cache key, hooks."""

    n: str
    label: str
    key: StepKey
    step: Step
    lang: str | None
    hooks: Any
    context: HookContext
    #: Each declared output file's modification time before the step ran (:func:`output_stamps`).
    stamps: dict[Path, int]


def step_files(patterns: Sequence[Pattern], dirs: dict[str, Path],
               lang: str | None) -> list[tuple[str, Path]]:
    """The files a step's declared patterns match now, each named ``<folder param>/<path>``
    as the cache's keys and records name them."""
    out = []
    for param, pattern in patterns:
        base = dirs[param]
        for path in sorted(base.glob(pattern.format(lang=lang))):
            if path.is_file():
                out.append((f"{param}/{path.relative_to(base).as_posix()}", path))
    return out


class Planner:
    """Decides, step by step, whether a step must run, from the cache and the files now."""

    def __init__(self, settings: RunSettings, cache: Cache, force: bool) -> None:
        self.settings, self.cache, self.force = settings, cache, force
        self.root, self.params = settings.root, settings.values
        import citycluster  # the code the kernels import, wherever it is installed from

        # the contracts are read like code by every step (columns, checks, the Data Packages),
        # so a change to either reruns the steps, as a change to the package does
        contract_files = [(name, path) for name, path in (
            ("published", self.root / published.DESCRIPTOR),
            ("raw", settings.raw / contracts.DESCRIPTOR)) if path.is_file()]
        self.code = (code_digest(Path(citycluster.__file__).parent)
                     + files_digest(contract_files))
        self.lock = provenance.lock_sha256(self.root) or ""

    def key(self, step: Step, lang: str | None, dirs: dict[str, Path]) -> StepKey:
        declared = declared_parameters(self.root / step.notebook)
        injected = ({**self.params} if step.shows_provenance
                    else {k: self.params[k] for k in declared if k in self.params})
        if lang is not None:
            injected["lang"] = lang
        return StepKey(notebook=file_digest(self.root / step.notebook), code=self.code,
                       lock=self.lock, params=params_digest(injected),
                       inputs=files_digest(step_files(step.inputs, dirs, lang)))

    def outputs(self, step: Step, lang: str | None, dirs: dict[str, Path]) -> dict[str, str]:
        return {name: file_digest(path) for name, path in step_files(step.outputs, dirs, lang)}

    def reason(self, step: Step, lang: str | None,
               dirs: dict[str, Path]) -> tuple[str | None, StepKey]:
        """Why the step must run (None: up to date), and the key it was judged by."""
        key = self.key(step, lang, dirs)
        why = reason_to_run(self.cache.get(step_label(step, lang)), key,
                            self.outputs(step, lang, dirs), self.force)
        return why, key


def waves(plan: Sequence[tuple[Step, str | None]]) -> list[list[tuple[Step, str | None]]]:
    """The plan cut into consecutive groups whose steps may run at the same time."""
    out: list[list[tuple[Step, str | None]]] = []
    for item in plan:
        if out and all(catalog.independent(item[0].name, other.name) for other, _ in out[-1]):
            out[-1].append(item)
        else:
            out.append([item])
    return out


class MissingInput(CityclusterError, FileNotFoundError):
    """A step's input is not there: an earlier step has not run (or its output was removed)."""


def require_inputs(step: Step, dirs: dict[str, Path]) -> None:
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


class MissingOutput(CityclusterError):
    """A step finished without writing an output it declares: the reports are not published,
    since a reader would get the last run's copy beside this run's tables."""


def output_stamps(step: Step, lang: str | None, dirs: dict[str, Path]) -> dict[Path, int]:
    """Each file a step's outputs match now, by its modification time (in nanoseconds): a file
    the step writes afterwards has a later one, while a file carried over from the last run
    keeps its own (validation's publishing copies it with its time)."""
    return {path: path.stat().st_mtime_ns for _, path in step_files(step.outputs, dirs, lang)}


def require_outputs(execution: Execution, dirs: dict[str, Path]) -> None:
    """Refuse an execution that wrote no file of a dataset it declares it writes (the staging
    copy of the reports holds the last run's files, so a file must be new or rewritten)."""
    step, lang = execution.step, execution.lang
    unwritten = []
    for name in catalog.FLOWS[step.name][1]:
        globs = catalog.patterns((name,))
        files = [path for _, path in step_files(globs, dirs, lang)]
        if globs and not any(execution.stamps.get(path) != path.stat().st_mtime_ns
                             for path in files):
            folder, glob = globs[0]
            unwritten.append(f"{name} ({folder}/{glob.format(lang=lang)})")
    if unwritten:
        raise MissingOutput(
            f"step {execution.label} finished without writing {', '.join(unwritten)}, which "
            f"it declares in FLOWS (src/citycluster/chain/catalog.py); the reports were not "
            f"published")


def executions_of(steps: Sequence[Step],
                  languages: Sequence[str]) -> list[tuple[Step, str | None]]:
    """Each step once, or once per report language where it runs per language, in order."""
    return [(step, lang) for step in steps
            for lang in (languages if step.per_language else [None])]


def left_out_of_date(planner: Planner, steps: Sequence[Step],
                     dirs: dict[str, Path]) -> list[str]:
    """After a partial run, the steps it did not run that are now out of date."""
    chosen = {s.name for s in steps}
    stale = []
    for step, lang in executions_of([s for s in STEPS if s.name not in chosen],
                                    planner.settings.languages):
        why, _ = planner.reason(step, lang, dirs)
        if why is not None:
            stale.append(f"{step_label(step, lang)} ({why})")
    return stale
