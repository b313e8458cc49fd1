"""Command line: ``citycluster run`` (also ``python -m citycluster run``)."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from citycluster.chain.orchestrate import OUTCOME, run_chain
from citycluster.chain.params import ParameterError, load_params
from citycluster.chain.runlock import EXIT_LOCKED, RunLocked
from citycluster.chain.runner import StepFailed
from citycluster.chain.settings import resolved
from citycluster.chain.steps import STEP_NAMES, select_steps
from citycluster.errors import CityclusterError

#: The most jobs one GitHub Actions matrix may expand to.
GITHUB_MATRIX_LIMIT = 256

if TYPE_CHECKING:
    from citycluster.chain.sweep import SweepRun


class _Main(click.Group):
    """Turns anything citycluster refuses into its message and exit status, never a
    traceback: a traceback from this command means a bug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CityclusterError as exc:
            click.secho(str(exc), fg="red", err=True)
            ctx.exit(exc.exit_code)


class Stopped(KeyboardInterrupt):
    """A run stopped by a signal; the exit status is 128 plus the signal's number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        name = "Ctrl-C (SIGINT)" if signum == signal.SIGINT else signal.Signals(signum).name
        super().__init__(f"stopped by {name}")


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C, or a batch system's or CI runner's SIGTERM (a time limit, a cancelled job), stops
    a run the same way: the kernels are ended (the cells they run fail in their worker threads),
    the reports are not published, and the run's record says it failed and why, instead of
    being left at "running".

    asyncio may log the cut-short cells' unretrieved exceptions, with a traceback, when their
    tasks are collected; the run is being stopped on purpose, so that log is silenced."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    raise Stopped(signum)


@click.group(cls=_Main)
def main() -> None:
    """Reproducible analysis of an article's figures on city clusters."""


@main.command()
@click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="YAML file of parameter overrides.")
@click.option("-p", "assignments", multiple=True, metavar="NAME=VALUE",
              help="Override one parameter (repeatable); the value is read as YAML.")
@click.option("--until", metavar="STEP", help=f"Run up to this step ({', '.join(STEP_NAMES)}).")
@click.option("--only", multiple=True, metavar="STEP", help="Run only this step (repeatable).")
@click.option("--force", is_flag=True, help="Rerun the steps even if they are up to date.")
@click.option("--no-wait", is_flag=True,
              help=f"If another run holds these folders, exit at once (status {EXIT_LOCKED}) "
                   "instead of waiting for it.")
@click.option("--jobs", type=click.IntRange(min=1), default=2, show_default=True,
              help="Steps at once among those that do not depend on each other; while fewer are "
                   "busy, the kernels of the steps to come start ahead (1: one by one, none "
                   "ahead).")
def run(params_file: Path | None, assignments: tuple[str, ...], until: str | None,
        only: tuple[str, ...], force: bool, no_wait: bool, jobs: int) -> None:
    """Execute the notebook chain with papermill and publish the reports."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop)
    try:
        params = load_params(params_file, assignments)
        steps = select_steps(until, only)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        result = run_chain(resolved(params), steps, echo=click.echo, force=force,
                           wait=not no_wait, jobs=jobs)
    except StepFailed as exc:
        click.secho(exc.summary, fg="red", err=True)
        sys.exit(1)
    except Stopped as exc:
        click.secho(f"{exc} before it finished: its reports and executed notebooks were not "
                    "published; `citycluster run` resumes from the steps it completed",
                    fg="yellow", err=True)
        sys.exit(128 + exc.signum)
    except RunLocked as exc:
        click.secho(str(exc), fg="yellow", err=True)
        sys.exit(exc.exit_code)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"chain finished in {result.wall_s:.1f} s: {len(result.ran)} step(s) ran, "
               f"{len(result.skipped)} up to date")
    for label, why in result.ran.items():
        click.echo(f"  ran         {label}: {why}")
    for label in result.skipped:
        click.echo(f"  up to date  {label}")
    if result.stale:
        click.secho("now out of date (run `citycluster run` to bring them up to date): "
                    + "; ".join(result.stale), fg="yellow")
    reports = result.reports_dir
    if reports is not None:
        behind = " (out of date: see above)" if any(
            s.startswith("06_report") for s in result.stale) else ""
        for page in sorted([*reports.glob("report.*.html"), *reports.glob("report.*.pdf")]):
            click.echo(f"report: {page}{behind}")
        click.echo(f"executed notebooks: {result.executed_dir}")


@main.command()
@click.option("--grid", "grid_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="YAML mapping of parameter names to lists of values "
              "(default: params/sweep.yaml).")
@click.option("-g", "grid_items", multiple=True, metavar="NAME=[V1, V2]",
              help="One grid dimension (repeatable); the list is read as YAML.")
@click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="YAML file of overrides shared by every run.")
@click.option("--jobs", type=click.IntRange(min=1), default=2, show_default=True,
              help="Runs at a time (processes; with --scheduler local, Dask workers).")
@click.option("--out", default="sweeps", show_default=True, type=click.Path(path_type=Path),
              help="Folder for the runs and the index (relative to the repository).")
@click.option("--until", metavar="STEP", help="Run each combination up to this step.")
@click.option("--scheduler", metavar="local|ADDRESS",
              help="Run the combinations as Dask tasks: `local` starts a LocalCluster of --jobs "
                   "workers; an address (tcp://host:8786) uses a running cluster, whose workers "
                   "need this repository and environment at the same path.")
@click.option("--emit-matrix", "matrix_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Plan the sweep but run nothing: write its runs to this JSON file, "
                   '[{"id": ..., "params": ...}], for a CI matrix or a job array to run each '
                   "with `citycluster run --params` from the repository root.")
@click.option("--collect", "collect_dir", type=click.Path(exists=True, file_okay=False,
              path_type=Path), help="Index a planned sweep folder (sweeps/<started>) whose "
              "runs were made elsewhere and copied back into it; nothing runs.")
def sweep(grid_file: Path | None, grid_items: tuple[str, ...], params_file: Path | None,
          jobs: int, out: Path, until: str | None, scheduler: str | None,
          matrix_file: Path | None, collect_dir: Path | None) -> None:
    """Run the chain for every combination of a parameter grid, in parallel; or plan the runs
    for other machines (--emit-matrix) and index what they made (--collect)."""
    from citycluster.chain import sweep as sw

    if collect_dir is not None:
        given = [name for name, value in (("--grid", grid_file), ("-g", grid_items),
                 ("--params", params_file), ("--until", until), ("--scheduler", scheduler),
                 ("--emit-matrix", matrix_file)) if value]
        if given:
            raise click.UsageError(f"--collect indexes runs already made; it takes no "
                                   f"{', '.join(given)} (the sweep's record has its grid)")
        folder = collect_dir.resolve()
        record, runs = sw.collect(folder)
        for r in runs:
            click.echo(f"{r.run_id}: {sw.describe(r)}")
        _index_sweep(folder, record["grid"], runs, record.get("until"))
        return
    if scheduler is not None and scheduler != "local" and "://" not in scheduler:
        raise click.UsageError(f"--scheduler {scheduler}: give `local` or the address of a "
                               "Dask scheduler, such as tcp://host:8786")
    if scheduler is not None and matrix_file is not None:
        raise click.UsageError("--emit-matrix runs nothing, so it takes no --scheduler")
    grid, folder, runs = _planned(grid_file, grid_items, params_file, until, out)
    sw.write_record(folder, grid, runs, until)  # the planned runs, before any has run
    if matrix_file is not None:
        _emit_matrix(matrix_file, folder, runs, until)
        return
    where = {None: f"{jobs} at a time", "local": f"on a local Dask cluster of {jobs} workers"}
    click.echo(f"sweep: {len(runs)} run(s), "
               f"{where.get(scheduler, f'on the Dask cluster at {scheduler}')}, into {folder}")
    runs = sw.execute(runs, jobs, ["--until", until] if until else [], echo=click.echo,
                      scheduler=scheduler)
    _index_sweep(folder, grid, runs, until)


def _planned(grid_file: Path | None, grid_items: tuple[str, ...], params_file: Path | None,
             until: str | None, out: Path) -> tuple[dict[str, Any], Path, list[SweepRun]]:
    """The grid (the file, else params/sweep.yaml, then each -g), a new sweep folder and the
    runs planned in it; a bad grid or step is a usage error."""
    from citycluster.chain import sweep as sw
    from citycluster.chain.params import parse_assignment, read_yaml
    from citycluster.paths import repo_root, resolve

    try:
        grid: dict = {}
        if grid_file is not None or not grid_items:
            path = grid_file or repo_root() / "params" / "sweep.yaml"
            grid.update(read_yaml(path) or {})
        for item in grid_items:
            name, values = parse_assignment(item)
            grid[name] = values
        base: dict[str, Any] = {}
        if params_file is not None:
            base = read_yaml(params_file) or {}
        if until:
            select_steps(until)
        folder = sw.new_sweep_folder(resolve(str(out)))
        return grid, folder, sw.plan(grid, folder, base)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from exc


def _emit_matrix(matrix_file: Path, folder: Path, runs: list[SweepRun],
                 until: str | None) -> None:
    """The planned runs as a CI matrix, and how to run and collect them elsewhere."""
    from citycluster.chain import sweep as sw
    from citycluster.paths import repo_root

    sw.write_matrix(matrix_file, runs, until)
    if len(runs) > GITHUB_MATRIX_LIMIT:
        click.secho(f"{len(runs)} runs: a GitHub Actions matrix takes at most "
                    f"{GITHUB_MATRIX_LIMIT} jobs (a SLURM array or Dask has no such limit)",
                    fg="yellow", err=True)
    command = "citycluster run --params <params>" + (f" --until {until}" if until else "")
    click.echo(f"sweep: {len(runs)} run(s) planned in {folder} ({sw.RECORD}), none run; "
               f"matrix: {matrix_file}\nrun each from {repo_root()} with `{command}`, "
               f"then `citycluster sweep --collect {folder}`")


def _index_sweep(folder: Path, grid: dict[str, Any], runs: list[SweepRun],
                 until: str | None) -> None:
    """The sweep's index, its record and the index of sweeps; exit 1 naming the runs that
    failed or never reported back."""
    from citycluster.chain import sweep as sw

    index = sw.write_index(runs, folder)
    sw.write_record(folder, grid, runs, until)
    every = sw.write_sweeps_index(folder.parent)
    click.echo(f"index: {index} and {index.with_suffix('.html')}; every sweep: {every}")
    problems = []
    for status, hint in (("failed", "see run.log or build/executed/ in each"),
                         ("missing", f"no build/{OUTCOME} came back from them")):
        names = [r.run_id for r in runs if r.status == status]
        if names:
            problems.append(f"{len(names)} run(s) {status}: {', '.join(names)} ({hint})")
    if problems:
        click.secho("\n".join(problems), fg="red", err=True)
        sys.exit(1)


@main.command()
def dictionary() -> None:
    """Regenerate the data dictionaries (data/raw/README.md, data/README.md) from the contracts."""
    from citycluster.data import dictionary as dd
    from citycluster.paths import repo_root

    click.echo(f"wrote {dd.write(repo_root() / 'data' / 'raw')}")
    click.echo(f"wrote {dd.write_published(repo_root() / 'data')}")


@main.command()
def cells() -> None:
    """Regenerate the notebooks' parameter cells from params/default.yaml and params/schema.yaml."""
    from citycluster.chain.cells import write_parameter_cells
    from citycluster.paths import repo_root

    for path in write_parameter_cells(repo_root()):
        click.echo(f"wrote {path}")

