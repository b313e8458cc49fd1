"""Command line: ``citycluster run`` (also ``python -m citycluster run``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from citycluster.params import ParameterError, load_params
from citycluster.pipeline import STEP_NAMES, StepFailed, run_chain, select_steps


@click.group()
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
def run(params_file: Path | None, assignments: tuple[str, ...], until: str | None,
        only: tuple[str, ...], force: bool) -> None:
    """Execute the notebook chain with papermill and publish the reports."""
    try:
        params = load_params(params_file, assignments)
        steps = select_steps(until, only)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        result = run_chain(params, steps, echo=click.echo, force=force)
    except StepFailed as exc:
        click.secho(exc.summary, fg="red", err=True)
        sys.exit(1)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from exc
    total = sum(result.timings.values())
    click.echo(f"chain finished in {total:.1f} s: {len(result.ran)} step(s) ran, "
               f"{len(result.skipped)} up to date")
    for label, why in result.ran.items():
        click.echo(f"  ran         {label}: {why}")
    for label in result.skipped:
        click.echo(f"  up to date  {label}")
    reports = result.reports_dir
    if reports is not None:
        for html in sorted(reports.glob("report.*.html")):
            click.echo(f"report: {html}")
        click.echo(f"executed notebooks: {result.executed_dir}")
