"""Running one step: its notebook under papermill, in a kernel of its own, and what a person
needs when it fails (the step, the cell, the exception, the last lines it printed)."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import threading
from pathlib import Path
from typing import Any

from citycluster.chain.catalog import RUNNER_ENV
from citycluster.chain.params import RUNNER_SET, ParameterError
from citycluster.chain.steps import Step, declared_parameters, executed_name, import_source
from citycluster.errors import CityclusterError
from citycluster.paths import repo_root

KERNEL = "python3"
#: Seconds a kernel may take to start and answer (papermill's default).
START_TIMEOUT = 60
#: What nbclient passes to every kernel it starts: IPython's history in memory, not in a
#: sqlite file under $HOME that parallel kernels would share.
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]


class StepFailed(CityclusterError, RuntimeError):
    """A notebook raised; ``summary`` is what a person needs to act on it."""

    def __init__(self, step: str, summary: str, executed: Path):
        super().__init__(summary)
        self.step = step
        self.summary = summary
        self.executed = executed


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
    kernel: Any,
) -> Path:
    """Execute one notebook under papermill with the parameters it declares, in ``kernel``
    (started by :func:`start_kernel`; the caller shuts it down)."""
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
    executed = executed_dir / executed_name(step, lang)
    try:
        pm.execute_notebook(
            str(notebook),
            str(executed),
            parameters=injected,
            kernel_name=KERNEL,
            progress_bar=progress,
            log_output=False,
            # papermill rewrites the whole output notebook after every cell by default; the
            # report notebooks carry the inlined Vega bundle, so that was seconds per report.
            # The notebook is still written when the step ends, failed or not.
            request_save_on_cell_execute=False,
            km=kernel,  # started in the notebook's folder (papermill's cwd is a process-wide
                        # chdir, and steps run in threads)
        )
    except PapermillExecutionError as exc:
        raise StepFailed(step.name, failure_summary(step.name, executed, exc), executed) from exc
    return executed


def new_kernel() -> Any:
    """A kernel manager for :func:`start_kernel`: on Unix sockets in a private folder, where the
    platform has them (:mod:`citycluster.kernel`). Over TCP, ipykernel 7 warns about
    unencrypted traffic at every kernel start, which buried the run's own output.

    The manager picks the provisioner itself rather than reading it from the installed
    ``python3`` kernel spec, so a run does not depend on ``python -m citycluster.kernel`` having
    been run, nor on ipykernel not having put its own spec back since.
    """
    from citycluster.kernel import IpcKernelManager

    return IpcKernelManager(kernel_name=KERNEL)


def start_kernel(km: Any, step: Step, stopping: threading.Event) -> None:
    """Start ``km``'s kernel for ``step``, in its notebook's folder, and run the notebook's
    import statements in it: the chain does this while the steps before are still running, so
    that a step's start-up and imports are not on the run's critical path.

    The imports run silently (no execution count, no history): the notebook's own cells then
    run as in a fresh kernel, and find the modules loaded. If importing printed anything (a
    warning, a failed import), the kernel is restarted, so that the notebook's own cell prints
    it into the executed notebook, with the cell's number. Once ``stopping`` is set it returns
    as soon as it can (the kernel is not needed, or the run is being stopped).
    """
    from jupyter_core.utils import run_sync

    notebook = repo_root() / step.notebook
    run_sync(_start_and_import)(km, notebook.parent, import_source(notebook), stopping)


async def _start_and_import(km: Any, cwd: Path, imports: str,
                            stopping: threading.Event) -> None:
    if stopping.is_set():
        return
    # the kernel inherits RUNNER_ENV: this run may publish
    await km.start_kernel(cwd=str(cwd), extra_arguments=KERNEL_ARGUMENTS,
                          env={**os.environ, RUNNER_ENV: "1"})
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=START_TIMEOUT)
        if not imports or stopping.is_set():
            return
        request = client.execute(imports, silent=True, store_history=False)
        while not stopping.is_set():  # the reply, or the kernel's end (killed on a stop)
            try:
                reply = await client.get_shell_msg(timeout=0.5)
            except queue.Empty:
                if not await km.is_alive():
                    raise RuntimeError("the kernel died while importing") from None
                continue
            if reply["parent_header"].get("msg_id") == request:
                break
        if not stopping.is_set() and await _printed(client, request):
            # an import printed something (a warning, an error): the executed notebook must
            # show it in its own cell, so the notebook gets a kernel that has imported nothing
            await km.restart_kernel(now=True)
            await client.wait_for_ready(timeout=START_TIMEOUT)
    finally:
        client.stop_channels()


async def _printed(client: Any, request: str) -> bool:
    """Did the request put out anything (a stream, a display, an error) before going idle?
    Not knowing counts as yes."""
    printed = False
    while True:
        try:
            message = await client.get_iopub_msg(timeout=START_TIMEOUT)
        except queue.Empty:
            return True
        if message["parent_header"].get("msg_id") != request:
            continue
        kind = message["msg_type"]
        if kind in ("stream", "display_data", "execute_result", "error"):
            printed = True
        elif kind == "status" and message["content"]["execution_state"] == "idle":
            return printed


def shutdown_kernel(km: Any) -> None:
    """Shut a kernel from :func:`start_kernel` down, as papermill does its own (gracefully),
    with the clients that talked to it (papermill leaves its own open: the kernel is not its),
    and close this thread's event loop."""
    from jupyter_core.utils import ensure_event_loop, run_sync

    async def shutdown() -> None:
        for client in km.clients:
            if client.channels_running:
                client.stop_channels()
        if await km.is_alive():
            await km.shutdown_kernel(now=False)  # cleans up after it too
        else:  # killed (not needed, or the run was stopped): its socket folder remains
            await km.cleanup_resources()

    try:
        run_sync(shutdown)()
    finally:
        ensure_event_loop().close()


def kill_kernel(km: Any) -> None:
    """End a kernel and anything it started at once, from any thread: the cell it runs fails,
    and so its step. (Kernels lead a process group of their own.)"""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def kernel_environment(root: Path) -> None:
    # Kernels inherit this process's environment: one root for every notebook, and no
    # progress bars from libraries (great-expectations uses tqdm) inside a pipeline.
    os.environ["CITYCLUSTER_ROOT"] = str(root)
    os.environ.setdefault("TQDM_DISABLE", "1")
