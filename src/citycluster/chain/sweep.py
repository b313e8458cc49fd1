"""Parameter sweeps: the chain over a grid of parameter sets, in parallel, with an index.

Each sweep gets its own folder (``sweeps/<started>/``), and each combination runs as its own
``citycluster run`` process with private staging, processed, reports and build folders under
it, so runs cannot overwrite each other; the raw data are shared and only read. A sweep's index
(``index.csv`` and ``index.html``) puts each run's parameters beside its headline results:
fact-check verdict counts and the key slopes; ``sweeps/index.csv`` lists every sweep.
"""

from __future__ import annotations

import html as h
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from citycluster.chain.params import ParameterError, check_structured, load_defaults, merge
from citycluster.paths import repo_root

PRIVATE_DIRS = ("staging_dir", "processed_dir", "reports_dir", "build_dir")


@dataclass
class SweepRun:
    """One combination of the grid and how its run went."""

    run_id: str
    values: dict[str, Any]
    folder: Path
    returncode: int | None = None
    seconds: float | None = None
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


def plan(grid: Mapping[str, Sequence[Any]], out: Path,
         base: Mapping[str, Any] | None = None) -> list[SweepRun]:
    """The runs of a sweep, each with its parameters checked before anything starts."""
    defaults = load_defaults()
    runs = []
    for values in expand(grid):
        rid = run_id(values)
        folder = out / rid
        private = {d: str(folder / d.removesuffix("_dir")) for d in PRIVATE_DIRS}
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


def _execute(run: SweepRun, step_args: Sequence[str]) -> SweepRun:
    root = repo_root()
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "citycluster", "run", "--params",
                           str(run.folder / "params.yaml"), *step_args],
                          cwd=root, env=env, capture_output=True, text=True, check=False)
    run.seconds = round(time.perf_counter() - start, 1)
    run.returncode = proc.returncode
    run.log = proc.stdout + proc.stderr
    (run.folder / "run.log").write_text(run.log, encoding="utf-8")
    return run


def execute(runs: list[SweepRun], jobs: int, step_args: Sequence[str] = (),
            echo: Callable[[str], None] = print) -> list[SweepRun]:
    """Run every combination, ``jobs`` at a time (each run is its own process)."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for run in pool.map(lambda r: _execute(r, step_args), runs):
            state = "ok" if run.returncode == 0 else f"failed (exit {run.returncode})"
            echo(f"{run.run_id}: {state} in {run.seconds} s")
    return runs


def summarise(run: SweepRun) -> dict[str, Any]:
    """A run's headline results, read from its own outputs (empty where a step did not run)."""
    import polars as pl

    row: dict[str, Any] = {"run": run.run_id, **{k: json.dumps(v, ensure_ascii=False)
                                                 for k, v in run.values.items()},
                           "status": "ok" if run.returncode == 0 else "failed",
                           "seconds": run.seconds}
    reports = run.folder / "reports"
    fc = reports / "factcheck.csv"
    if fc.exists():
        checks = pl.read_csv(fc).filter(pl.col("check") == "direct")
        for verdict in ("consistent", "inconsistent", "unverifiable"):
            row[verdict] = int((checks["verdict"] == verdict).sum())
    models = reports / "models.csv"
    if models.exists():
        key = pl.read_csv(models).filter(pl.col("max_cooks").is_not_null())
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


def write_record(folder: Path, grid: Mapping[str, Sequence[Any]], runs: list[SweepRun]) -> Path:
    """``sweep.json``: the grid and how many runs succeeded, for the index of sweeps."""
    record = {"sweep": folder.name, "grid": {k: list(v) for k, v in grid.items()},
              "runs": len(runs), "ok": sum(r.returncode == 0 for r in runs)}
    path = folder / "sweep.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def write_sweeps_index(sweeps: Path) -> Path:
    """``sweeps/index.csv``: every sweep in the folder, oldest first, with a link to its index."""
    import polars as pl

    from citycluster.publish import write_text_atomic

    rows = []
    for record in sorted(sweeps.glob("*/sweep.json")):
        r = json.loads(record.read_text(encoding="utf-8"))
        rows.append({"sweep": r["sweep"], "runs": r["runs"], "ok": r["ok"],
                     "grid": json.dumps(r["grid"], ensure_ascii=False),
                     "index": f"{r['sweep']}/index.html"})
    out = sweeps / "index.csv"
    write_text_atomic(out, pl.DataFrame(rows).write_csv())
    return out


def write_index(runs: list[SweepRun], out: Path) -> Path:
    """``index.csv`` and ``index.html`` over the runs of a sweep."""
    import polars as pl

    from citycluster.publish import write_text_atomic

    table = pl.DataFrame([summarise(r) for r in runs])
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
