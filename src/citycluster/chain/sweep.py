"""Parameter sweeps: the chain over a grid of parameter sets, in parallel, with an index.

Each sweep gets its own folder (``sweeps/<started>/``), and each combination runs as its own
``citycluster run`` process with private staging, processed, reports and build folders under
it, so runs cannot overwrite each other; the raw data are shared and only read. A sweep's index
(``index.csv`` and ``index.html``) puts each run's parameters beside its headline results:
fact-check verdict counts and the key slopes; ``sweeps/index.csv`` lists every sweep.

The runs go on a local pool of processes, or on a Dask cluster, or anywhere else: a sweep can be
planned only (:func:`matrix`: one entry per run for a CI matrix or a job array), its runs made on
other machines with ``citycluster run --params``, and their folders copied back and indexed
(:func:`collect`), from the record each run leaves in its build folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html as h
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from citycluster.analysis.keyrows import key_slopes
from citycluster.chain.orchestrate import OUTCOME
from citycluster.chain.params import ParameterError, check_structured, load_defaults, merge
from citycluster.errors import EnvironmentProblem, InputError
from citycluster.factcheck.verdicts import VERDICTS
from citycluster.paths import repo_root

PRIVATE_DIRS = ("staging_dir", "processed_dir", "reports_dir", "build_dir")
#: A sweep's record in its folder: the grid and the planned runs (what --collect indexes).
RECORD = "sweep.json"
#: The keys of a run's outcome record (orchestrate.OUTCOME) that collecting relies on.
OUTCOME_KEYS = ("status", "seconds", "commit", "lock_sha256", "python", "packages_sha256",
                "steps")
#: What makes two runs' results comparable: the same code, lock, interpreter and packages.
BUILD_KEYS = ("commit", "lock_sha256", "python", "packages_sha256")


@dataclass
class SweepRun:
    """One combination of the grid and how its run went."""

    run_id: str
    values: dict[str, Any]
    folder: Path
    #: ok, failed or missing (planned, but no record of it came back); None: not run yet
    status: str | None = None
    seconds: float | None = None
    #: the first line of what stopped a failed run, when known
    error: str | None = None
    log: str = ""


def expand(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order."""
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ParameterError(f"sweep grid: {name} needs a non-empty list of values, "
                                 f"got {values!r}")
    names = list(grid)
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(grid[n] for n in names))]


def run_id(values: Mapping[str, Any]) -> str:
    """A readable folder name for a combination: ``rounding_tolerance=0.01,lang=zh``."""
    text = ",".join(f"{k}={json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
                    for k, v in values.items())
    return re.sub(r"[^\w.,=\-]+", "_", text, flags=re.UNICODE).strip("_")[:120]


def private_dirs(folder: Path) -> dict[str, Path]:
    """A run's own staging, processed, reports and build folders, by parameter name; where a
    run made anywhere left its outputs once its folder is copied back."""
    return {d: folder / d.removesuffix("_dir") for d in PRIVATE_DIRS}


def portable(path: Path, root: Path) -> str:
    """``path`` relative to the repository root when it lies inside it, so another checkout
    (a CI runner, a cluster node) resolves it to its own copy; else absolute."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def plan(grid: Mapping[str, Sequence[Any]], out: Path,
         base: Mapping[str, Any] | None = None) -> list[SweepRun]:
    """The runs of a sweep, each with its parameters checked before anything starts."""
    defaults = load_defaults()
    root = repo_root()
    runs: list[SweepRun] = []
    for values in expand(grid):
        rid = run_id(values)
        if any(r.run_id == rid for r in runs):  # "a b" and "a/b" read alike, so do long ids
            digest = hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()[:8]
            rid = f"{rid[:111]}-{digest}"
        folder = out / rid
        private = {d: portable(p, root) for d, p in private_dirs(folder).items()}
        overrides = {**(base or {}), **values}
        bad = sorted(set(overrides) & set(PRIVATE_DIRS))
        if bad:
            raise ParameterError(f"sweep grid: {', '.join(bad)} are set per run by the sweep")
        merged = merge(defaults, {**overrides, **private})
        check_structured(merged)
        runs.append(SweepRun(rid, values, folder))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "params.yaml").write_text(
            yaml.safe_dump({**overrides, **private}, allow_unicode=True, sort_keys=True),
            encoding="utf-8")
    return runs


def matrix(runs: Sequence[SweepRun], until: str | None = None) -> list[dict[str, str]]:
    """One entry per run, the shape a CI matrix (``strategy.matrix.include``) or a job array
    consumes: the run's id and its parameters file, relative to the repository root when the
    sweep lies inside it; ``until`` when the runs stop early."""
    root = repo_root()
    return [{"id": r.run_id, "params": portable(r.folder / "params.yaml", root),
             **({"until": until} if until else {})} for r in runs]


def write_matrix(path: Path, runs: Sequence[SweepRun], until: str | None = None) -> Path:
    """The :func:`matrix` as JSON on one line, so a CI step can pass it on as an output."""
    from citycluster.publish import write_text_atomic

    write_text_atomic(path, json.dumps(matrix(runs, until), ensure_ascii=False) + "\n")
    return path


def _execute(run: SweepRun, step_args: Sequence[str], root: Path) -> SweepRun:
    """One run as its own ``citycluster run`` process, on this machine or a Dask worker."""
    params = run.folder / "params.yaml"
    if not params.is_file():
        raise EnvironmentProblem(
            f"{socket.gethostname()} has no {params}: the machines of a sweep need the "
            f"repository ({root}) at the same path, e.g. on a shared filesystem")
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "citycluster", "run", "--params",
                           str(params), *step_args],
                          cwd=root, env=env, capture_output=True, text=True, check=False)
    run.seconds = round(time.perf_counter() - start, 1)
    run.status = "ok" if proc.returncode == 0 else "failed"
    if proc.returncode != 0:  # what stopped it, if the run got as far as leaving its record
        run.error = (read_outcome(run) or {}).get("error") or f"exit {proc.returncode}"
    run.log = proc.stdout + proc.stderr
    (run.folder / "run.log").write_text(run.log, encoding="utf-8")
    return run


def _on_threads(runs: Sequence[SweepRun], jobs: int,
                task: Callable[[SweepRun], SweepRun]) -> Iterator[SweepRun]:
    """The default: a local pool; each run is a process of its own, so threads suffice."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(task, runs)


def _on_dask(runs: Sequence[SweepRun], jobs: int, task: Callable[[SweepRun], SweepRun],
             scheduler: str) -> Iterator[SweepRun]:
    """Each run as a Dask task, on a LocalCluster of ``jobs`` one-thread workers
    (``scheduler="local"``) or on the running cluster at the address ``scheduler``; runs come
    back as they end. Imported here so that only ``--scheduler`` needs distributed."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise EnvironmentProblem(f"--scheduler needs Dask's distributed package ({exc}): "
                                 "it is in requirements.lock, so `make report` installs it; "
                                 "or leave --scheduler out to run on a local pool") from exc

    with contextlib.ExitStack() as stack:
        address: str | LocalCluster = scheduler
        if scheduler == "local":
            address = stack.enter_context(LocalCluster(
                n_workers=jobs, threads_per_worker=1, dashboard_address=None))
        try:
            client = stack.enter_context(Client(address))
        except OSError as exc:
            raise EnvironmentProblem(f"no Dask scheduler answers at {scheduler}: {exc}") from exc
        for future in as_completed(client.map(task, runs, pure=False)):
            yield future.result()


def execute(runs: list[SweepRun], jobs: int, step_args: Sequence[str] = (),
            echo: Callable[[str], None] = print,
            scheduler: str | None = None) -> list[SweepRun]:
    """Run every combination, each as its own process: ``jobs`` at a time on this machine, or
    as tasks of a Dask cluster (``scheduler``: ``local`` or an address such as
    ``tcp://host:8786``). Returns the runs in plan order, however they finished."""
    task = functools.partial(_execute, step_args=tuple(step_args), root=repo_root())
    done = {}
    for run in (_on_dask(runs, jobs, task, scheduler) if scheduler
                else _on_threads(runs, jobs, task)):
        echo(f"{run.run_id}: {describe(run)}")
        done[run.run_id] = run
    return [done[r.run_id] for r in runs]


def describe(run: SweepRun) -> str:
    """How a run went, in a few words, for the sweep's progress lines."""
    if run.status == "ok":
        return f"ok in {run.seconds} s"
    if run.status == "failed":
        return f"failed ({run.error or 'no reason recorded'}) after {run.seconds} s"
    return f"missing (no build/{OUTCOME} in {run.folder})"


def collect(folder: Path) -> tuple[dict[str, Any], list[SweepRun]]:
    """The record of a sweep folder and its planned runs, with how each went, from the
    records the runs left in their build folders wherever they ran (copied back into it).

    Results made from different code or packages are not comparable, so a sweep whose runs
    disagree on :data:`BUILD_KEYS` (commit, lock, Python version, installed packages: the lock
    is universal, and some of its pins depend on the interpreter) is refused, every run listed
    with what it used. A run that recorded other steps than the sweep planned, or that never
    finished (still "running": killed outright), counts as failed."""
    from citycluster.chain.steps import select_steps

    record = read_record(folder)
    planned_steps = [s.name for s in select_steps(record.get("until"))]
    runs = [SweepRun(p["id"], p["values"], folder / p["id"]) for p in record["planned"]]
    outcomes = {}
    for run in runs:
        outcome = read_outcome(run)
        if outcome is None:
            run.status = "missing"
            continue
        run.status, run.error = outcome["status"], outcome.get("error")
        run.seconds = round(float(outcome["seconds"]), 1)
        if run.status == "running":
            run.status, run.error = "failed", "did not finish (killed, or still running)"
        elif outcome["steps"] != planned_steps:
            run.status = "failed"
            run.error = (f"ran {', '.join(outcome['steps'])}; the sweep planned "
                         f"{', '.join(planned_steps)}")
        outcomes[run.run_id] = outcome
    builds = {tuple(o[k] for k in BUILD_KEYS) for o in outcomes.values()}
    if len(builds) > 1:
        raise InputError(
            f"{folder}: its runs were made from {len(builds)} different builds (commit, lock "
            "(requirements.lock), Python version, installed packages), so their results cannot "
            "be compared; rerun the odd ones on one checkout and environment. Nothing indexed. "
            "The runs:\n" + "\n".join(
                f"  {rid}: commit {o['commit']}, lock {o['lock_sha256']}, Python {o['python']}, "
                f"packages {o['packages_sha256']}" for rid, o in outcomes.items()))
    return record, runs


def read_outcome(run: SweepRun) -> dict[str, Any] | None:
    """The record ``citycluster run`` left in the run's build folder (None: it has none)."""
    path = private_dirs(run.folder)["build_dir"] / OUTCOME
    if not path.is_file():
        return None
    try:
        outcome = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a run record ({exc})") from exc
    lacking = [k for k in OUTCOME_KEYS if not isinstance(outcome, dict) or k not in outcome]
    if lacking:
        raise InputError(f"{path}: not a run record (no {', '.join(lacking)})")
    return outcome


def summarise(run: SweepRun) -> dict[str, Any]:
    """A run's headline results, read from its own outputs (empty where a step did not run)."""
    import polars as pl

    row: dict[str, Any] = {"run": run.run_id, **{k: json.dumps(v, ensure_ascii=False)
                                                 for k, v in run.values.items()},
                           "status": run.status, "seconds": run.seconds}
    reports = private_dirs(run.folder)["reports_dir"]
    fc = reports / "factcheck.csv"
    if fc.exists():
        checks = pl.read_csv(fc).filter(pl.col("check") == "direct")
        for verdict in VERDICTS:
            row[verdict] = int((checks["verdict"] == verdict).sum())
    models = reports / "models.csv"
    if models.exists():
        key = key_slopes(pl.read_csv(models))
        for r in key.iter_rows(named=True):
            row[f"{r['model']}_estimate"] = r["estimate"]
    row["report"] = next((f"{run.run_id}/reports/{p.name}" for p in
                          sorted(reports.glob("report.*.html"))), None)
    return row


def new_sweep_folder(sweeps: Path) -> Path:
    """A fresh folder for one sweep, named by when it started (never reused)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in itertools.count():
        folder = sweeps / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def write_record(folder: Path, grid: Mapping[str, Sequence[Any]], runs: list[SweepRun],
                 until: str | None = None) -> Path:
    """``sweep.json``: the grid, the planned runs (what ``--collect`` indexes, whoever ran
    them) and how many succeeded (None until they have run), for the index of sweeps."""
    from citycluster.publish import write_text_atomic

    ran = any(r.status is not None for r in runs)
    record = {"sweep": folder.name, "grid": {k: list(v) for k, v in grid.items()},
              "until": until, "runs": len(runs),
              "ok": sum(r.status == "ok" for r in runs) if ran else None,
              "planned": [{"id": r.run_id, "values": r.values} for r in runs]}
    path = folder / RECORD
    write_text_atomic(path, json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    return path


def read_record(folder: Path) -> dict[str, Any]:
    """A sweep folder's record, with the planned runs ``--collect`` needs."""
    path = folder / RECORD
    if not path.is_file():
        raise InputError(f"{folder} has no {RECORD}: collect a sweep folder planned by "
                         "`citycluster sweep` (e.g. with --emit-matrix), sweeps/<started>/")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a sweep record ({exc})") from exc
    if not isinstance(record, dict) or not record.get("planned"):
        raise InputError(f"{path} lists no planned runs (sweeps made before they were "
                         "recorded cannot be collected): plan the sweep again")
    return record


def write_sweeps_index(sweeps: Path) -> Path:
    """``sweeps/index.csv``: every sweep in the folder, oldest first, with a link to its index
    (none for a sweep planned but not yet collected)."""
    import polars as pl

    from citycluster.publish import write_text_atomic

    rows = []
    for record in sorted(sweeps.glob(f"*/{RECORD}")):
        r = json.loads(record.read_text(encoding="utf-8"))
        indexed = (record.parent / "index.html").is_file()
        rows.append({"sweep": r["sweep"], "runs": r["runs"], "ok": r["ok"],
                     "grid": json.dumps(r["grid"], ensure_ascii=False),
                     "index": f"{r['sweep']}/index.html" if indexed else None})
    out = sweeps / "index.csv"
    write_text_atomic(out, pl.DataFrame(rows).write_csv())
    return out


def write_index(runs: list[SweepRun], out: Path) -> Path:
    """``index.csv`` and ``index.html`` over the runs of a sweep."""
    import polars as pl

    from citycluster.publish import write_text_atomic

    table = pl.DataFrame([summarise(r) for r in runs])
    # Columns come in order of first appearance: the link stays last even when the first run
    # made no results (failed or missing)
    table = table.select(*(c for c in table.columns if c != "report"), "report")
    write_text_atomic(out / "index.csv", table.write_csv(float_precision=4))
    head = "".join(f"<th>{h.escape(c)}</th>" for c in table.columns)
    body = []
    for r in table.iter_rows(named=True):
        cells = []
        for c, v in r.items():
            text = "" if v is None else h.escape(str(v))
            if c == "report" and v:
                text = f'<a href="{h.escape(v)}">{text}</a>'
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>citycluster "
            "sweep</title><style>body{font-family:system-ui,sans-serif;margin:2rem}"
            "td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left}"
            "table{border-collapse:collapse}</style></head><body><h1>Sweep</h1><table><thead>"
            f"<tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></body></html>\n")
    write_text_atomic(out / "index.html", page)
    return out / "index.csv"
