"""The chain: run the notebooks in order with papermill and publish what they produce.

Each step is a notebook in ``notebooks/``. A run executes the requested steps against a staging
copy of ``reports/``; only when every requested step succeeds are the executed notebooks and the
reports published (an atomic folder swap), so a failed run leaves the last good outputs in place
and keeps the failing executed notebook in ``build/executed/`` for inspection.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citycluster import provenance, runlock
from citycluster.cache import RECORD as CACHE_RECORD
from citycluster.cache import (
    Cache,
    StepKey,
    code_digest,
    file_digest,
    files_digest,
    params_digest,
    reason_to_run,
)
from citycluster.catalog import FLOWS, RUNNER_ENV, patterns
from citycluster.errors import CityclusterError
from citycluster.params import RUNNER_SET, ParameterError
from citycluster.paths import repo_root, resolve
from citycluster.publish import recover, swap_directory, write_text_atomic

KERNEL = "python3"


Pattern = tuple[str, str]  # (parameter naming a folder, glob inside it; {lang} is filled in)


@dataclass(frozen=True)
class Step:
    """One notebook of the chain; ``per_language`` steps run once per report language.

    ``inputs`` and ``outputs`` name the files the step reads and writes, for the cache: a step
    whose inputs, notebook, code, parameters and lock are unchanged, and whose outputs are still
    as it left them, is skipped.
    """

    name: str
    per_language: bool = False
    renders_html: bool = False
    inputs: tuple[Pattern, ...] = ()
    outputs: tuple[Pattern, ...] = ()

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.name}.ipynb"


def _step(name: str, **kwargs: Any) -> Step:
    """A step whose cache inputs and outputs come from its reads and writes in the catalog."""
    reads, writes = FLOWS[name]
    return Step(name, inputs=patterns(reads), outputs=patterns(writes), **kwargs)


STEPS: tuple[Step, ...] = (
    _step("01_ingest"),
    _step("02_validate"),
    _step("03_model"),
    _step("04_factcheck"),
    _step("05_figures"),
    _step("06_report", per_language=True, renders_html=True),
)
STEP_NAMES = tuple(s.name for s in STEPS)


class StepFailed(CityclusterError, RuntimeError):
    """A notebook raised; ``summary`` is what a person needs to act on it."""

    def __init__(self, step: str, summary: str, executed: Path):
        super().__init__(summary)
        self.step = step
        self.summary = summary
        self.executed = executed


@dataclass
class RunResult:
    """What ran and how long each notebook took (seconds)."""

    timings: dict[str, float] = field(default_factory=dict)
    reports_dir: Path | None = None
    executed_dir: Path | None = None
    ran: dict[str, str] = field(default_factory=dict)       # label -> why it ran
    skipped: dict[str, str] = field(default_factory=dict)   # label -> why it did not


def lookup_step(name: str) -> Step:
    """A step by its full name (``02_validate``) or its short one (``validate``, ``02``)."""
    for step in STEPS:
        if name in (step.name, step.name[3:], step.name[:2]):
            return step
    raise ParameterError(f"unknown step {name!r}; steps are: {', '.join(STEP_NAMES)}")


def select_steps(until: str | None = None, only: Sequence[str] = ()) -> list[Step]:
    """The steps of a run: all, the prefix up to ``until``, or exactly ``only``."""
    if until and only:
        raise ParameterError("--until and --only cannot be combined")
    if only:
        wanted = {lookup_step(n).name for n in only}
        return [s for s in STEPS if s.name in wanted]
    if until:
        last = STEPS.index(lookup_step(until))
        return list(STEPS[: last + 1])
    return list(STEPS)


def declared_parameters(notebook: Path) -> list[str]:
    """The names a notebook's ``parameters`` cell assigns, in order.

    Read with ``json`` and ``ast`` rather than papermill, whose import costs about a second:
    the cache asks this for every step, and an up-to-date run should take well under a second.
    """
    import ast

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse("".join(cell["source"]))
            return [t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)]
    return []


def failure_summary(step: str, executed: Path, exc: Exception) -> str:
    """Step, cell number, exception and the last lines the cell printed."""
    lines = [f"step {step} failed"]
    cell_index = getattr(exc, "cell_index", None)
    exec_count = getattr(exc, "exec_count", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    if cell_index is not None:
        lines.append(f"  cell: {_source_cell_number(executed, cell_index)} "
                     f"(execution count {exec_count})")
    lines.append(f"  exception: {ename}: {evalue}".rstrip())
    tail = _cell_output_tail(executed, cell_index) if cell_index is not None else []
    if tail:
        lines.append("  last output:")
        lines.extend(f"    {t}" for t in tail)
    lines.append(f"  executed notebook kept at: {executed}")
    return "\n".join(lines)


_ADDED_BY_PAPERMILL = {"injected-parameters", "papermill-error-cell-tag"}


def _executed_cells(executed: Path) -> list:
    """The cells as executed (papermill adds error banners to the saved file afterwards)."""
    import nbformat  # costs a second (jsonschema); only a failure needs it

    nb = nbformat.read(executed, as_version=4)
    return [c for c in nb.cells
            if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]


def _is_own(cell: Any) -> bool:
    return not _ADDED_BY_PAPERMILL & set(cell.get("metadata", {}).get("tags", []))


def _source_cell_number(executed: Path, cell_index: int) -> str:
    """The failing cell's 1-based position in the committed notebook."""
    try:
        cells = _executed_cells(executed)
    except (OSError, ValueError):
        return f"{cell_index + 1}"
    own_before = sum(1 for c in cells[:cell_index] if _is_own(c))
    return f"{own_before + 1} of {sum(1 for c in cells if _is_own(c))}"


def _cell_output_tail(executed: Path, cell_index: int, n: int = 8) -> list[str]:
    try:
        cell = _executed_cells(executed)[cell_index]
    except (OSError, IndexError, ValueError):
        return []
    text: list[str] = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            text.extend(str(out.get("text", "")).splitlines())
    return [t for t in text if t.strip()][-n:]


def execute_step(
    step: Step,
    params: dict[str, Any],
    executed_dir: Path,
    *,
    lang: str | None = None,
    progress: bool = False,
) -> Path:
    """Execute one notebook under papermill with the parameters it declares."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    root = repo_root()
    notebook = root / step.notebook
    declared = declared_parameters(notebook)
    undocumented = sorted(set(declared) - set(params) - set(RUNNER_SET))
    if undocumented:
        raise ParameterError(
            f"{step.notebook} declares parameter(s) not documented in params/default.yaml: "
            f"{', '.join(undocumented)}"
        )
    injected = {k: params[k] for k in declared if k not in RUNNER_SET}
    if lang is not None:
        injected["lang"] = lang
    suffix = f".{lang}" if lang else ""
    executed = executed_dir / f"{step.name}{suffix}.ipynb"
    previous = os.environ.get(RUNNER_ENV)
    os.environ[RUNNER_ENV] = "1"  # the kernel inherits it: this run may publish
    try:
        pm.execute_notebook(
            str(notebook),
            str(executed),
            parameters=injected,
            kernel_name=KERNEL,
            cwd=str(notebook.parent),
            progress_bar=progress,
            log_output=False,
            **_kernel_manager(),
        )
    except PapermillExecutionError as exc:
        raise StepFailed(step.name, failure_summary(step.name, executed, exc), executed) from exc
    finally:
        if previous is None:
            os.environ.pop(RUNNER_ENV, None)
        else:
            os.environ[RUNNER_ENV] = previous
    return executed


def _kernel_manager() -> dict[str, Any]:
    """Kernels over Unix sockets in a private folder, where the platform has them.

    Over TCP, ipykernel 7 prints a warning about unencrypted traffic at every kernel start,
    which buried the run's own output; local sockets are not exposed to the network at all.
    Each kernel gets its own folder, so parallel sweep runs cannot collide on socket names.
    """
    if os.name != "posix":
        return {}
    import tempfile

    from jupyter_client.manager import AsyncKernelManager

    class LocalSocketKernelManager(AsyncKernelManager):
        transport = "ipc"

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._socket_dir = Path(tempfile.mkdtemp(prefix="citycluster-kernel-"))
            self.ip = str(self._socket_dir / "kernel")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:  # the folder goes with the kernel, not with a restart
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    return {"kernel_manager_class": LocalSocketKernelManager}


def _kernel_environment(root: Path) -> None:
    # Kernels inherit this process's environment: one root for every notebook, and no
    # progress bars from libraries (great-expectations uses tqdm) inside a pipeline.
    os.environ["CITYCLUSTER_ROOT"] = str(root)
    os.environ.setdefault("TQDM_DISABLE", "1")


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
        lock = root / "requirements.lock"
        self.lock = file_digest(lock) if lock.exists() else ""

    def key(self, step: Step, lang: str | None, dirs: dict[str, Path]) -> StepKey:
        declared = declared_parameters(self.root / step.notebook)
        injected = ({**self.params} if step.renders_html  # the footer prints them all
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


def step_label(step: Step, lang: str | None) -> str:
    return step.name + (f" [{lang}]" if lang else "")


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
) -> RunResult:
    """Run the steps that are out of date, in order; then publish reports and executed
    notebooks together. With nothing out of date, nothing is touched. One run at a time holds
    the build folder; ``wait=False`` refuses at once (:class:`runlock.RunLocked`)."""
    with runlock.held(resolve(params["build_dir"], repo_root()), wait=wait, echo=echo):
        return _run_chain(params, steps, echo=echo, progress=progress, force=force)


def _run_chain(
    params: dict[str, Any],
    steps: Sequence[Step],
    *,
    echo: Callable[[str], None],
    progress: bool | None,
    force: bool,
) -> RunResult:
    root = repo_root()
    _kernel_environment(root)
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
    for step, lang in plan:
        label = step_label(step, lang)
        n = f"[{names.index(step.name) + 1}/{len(steps)}]"
        why, key = planner.reason(step, lang, dirs)
        if why is None:
            result.skipped[label] = "up to date"
            echo(f"{n} {label} up to date")
            continue
        echo(f"{n} {label} ... ({why})")
        result.ran[label] = why
        start = time.perf_counter()
        if step.renders_html:
            provenance.write(stage, provenance.collect(params, result.timings))
        executed = execute_step(step, run_params, executed_dir, lang=lang, progress=progress)
        if step.renders_html:
            from citycluster.report import export_html

            export_html(executed, stage / f"report.{lang}.html")
        took = time.perf_counter() - start
        result.timings[label] = round(took, 2)
        echo(f"{n} {label} done in {took:.1f} s")
        _record_timings(build, result, params)
        done.append((label, key, step, lang))

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
    if any(step.renders_html for _, _, step, _ in done):
        from citycluster.report import write_index

        for page in stage.glob("report.*.html"):  # a language no longer asked for
            if page.name.split(".")[1] not in params["report_languages"]:
                page.unlink()

        write_index(stage, params["report_languages"])
    swap_directory(stage, reports)
    # Only now, with the outputs published, may the cache say these steps are done.
    final = _dirs(params, root, reports)
    for label, key, step, lang in done:
        cache.put(label, key, planner.outputs(step, lang, final))
    cache.save()
    return result


def _record_timings(build: Path, result: RunResult, params: dict[str, Any]) -> None:
    record = {"timings_s": result.timings, "ran": result.ran, "skipped": result.skipped,
              "params": params}
    write_text_atomic(build / "run.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
