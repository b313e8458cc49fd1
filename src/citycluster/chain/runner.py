"""Running one step: its notebook under papermill, in a kernel of its own, and what a person
needs when it fails (the step, the cell, the exception, the last lines it printed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from citycluster.chain.catalog import RUNNER_ENV
from citycluster.chain.params import RUNNER_SET, ParameterError
from citycluster.chain.steps import Step, declared_parameters
from citycluster.errors import CityclusterError
from citycluster.paths import repo_root

KERNEL = "python3"


class StepFailed(CityclusterError, RuntimeError):
    """A notebook raised; ``summary`` is what a person needs to act on it."""

    def __init__(self, step: str, summary: str, executed: Path):
        super().__init__(summary)
        self.step = step
        self.summary = summary
        self.executed = executed

    def __reduce__(self) -> tuple[type, tuple[str, str, Path]]:
        """Pickled whole, so a failure in a step run in another process arrives intact."""
        return (StepFailed, (self.step, self.summary, self.executed))


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
            # papermill rewrites the whole output notebook after every cell by default; the
            # report notebooks carry the inlined Vega bundle, so that was seconds per report.
            # The notebook is still written when the step ends, failed or not.
            request_save_on_cell_execute=False,
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
    """The chain's kernels on Unix sockets in a private folder each, where the platform has them
    (citycluster.kernel): over TCP, ipykernel 7 warns about unencrypted traffic at every kernel
    start, which buried the run's own output.

    The manager picks the provisioner itself rather than reading it from the installed
    ``python3`` kernel spec, so a run does not depend on ``python -m citycluster.kernel`` having
    been run, nor on ipykernel not having put its own spec back since.
    """
    from citycluster.kernel import IpcKernelManager

    return {"kernel_manager_class": IpcKernelManager}


def kernel_environment(root: Path) -> None:
    # Kernels inherit this process's environment: one root for every notebook, and no
    # progress bars from libraries (great-expectations uses tqdm) inside a pipeline.
    os.environ["CITYCLUSTER_ROOT"] = str(root)
    os.environ.setdefault("TQDM_DISABLE", "1")
