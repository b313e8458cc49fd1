"""The steps of the chain: one notebook each, in order, with what it reads and writes.

What each step reads and writes is declared in :mod:`citycluster.chain.catalog`; a step here
adds only how it runs (once, or once per report language), whether every parameter keys its
cache, and the module of hooks the runner calls around it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citycluster.chain.catalog import FLOWS, patterns
from citycluster.chain.params import ParameterError

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
    inputs: tuple[Pattern, ...] = ()
    outputs: tuple[Pattern, ...] = ()
    #: The step shows the run's provenance (commit, lock, input hashes and every parameter, as
    #: a report's footer does): the record is written before it runs, and every parameter is
    #: part of its cache key.
    shows_provenance: bool = False
    #: A module the runner calls around the step (``before``, ``after``, ``finish``), named
    #: rather than imported, so the chain never imports what a step plugs in.
    hooks: str | None = None

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
    _step("05_figures", per_language=True),
    _step("06_report", per_language=True, shows_provenance=True,
          hooks="citycluster.report.hooks"),
)
STEP_NAMES = tuple(s.name for s in STEPS)


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


def import_source(notebook: Path) -> str:
    """The notebook's top-level import statements, from every code cell, in order.

    They are what a kernel may run before the step's inputs exist, since importing reads
    nothing the steps write: the chain runs them in a kernel it starts ahead of the step
    (:func:`citycluster.chain.runner.start_kernel`), and the benchmark's floor is made of them.
    """
    import ast

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    statements = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            body = ast.parse(source).body
        except SyntaxError:  # IPython magics, or a mistake its own cell will report
            continue
        statements += [ast.get_source_segment(source, node) or ""
                       for node in body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(statements)


def step_label(step: Step, lang: str | None) -> str:
    return step.name + (f" [{lang}]" if lang else "")


def executed_name(step: Step, lang: str | None) -> str:
    """The executed notebook's file name: the step's, with the language where it runs per
    language (05_figures.zh.ipynb)."""
    return f"{step.name}.{lang}.ipynb" if lang else f"{step.name}.ipynb"
