"""What each step reads and writes, declared once, and the one door notebooks go through.

The chain's cache and the notebooks used to name their files separately (globs in the runner,
``read_parquet`` calls in the notebooks), so a notebook could read a table its cache key ignored.
Here each dataset has one location, each step one list of what it reads and writes; the runner
derives its cache inputs and outputs from these lists, and a notebook loads and saves through
:class:`Catalog`, which refuses a dataset its step did not declare.

The same door keeps interactive work away from what the chain published: a notebook run outside
``citycluster run`` (JupyterLab, ``jupyter nbconvert --execute``, plain papermill) writes under
``build/interactive/`` and reads what an earlier interactive notebook wrote there before falling
back to the published tables. Only ``citycluster run`` publishes. (The idea is OWID etl's
``PathFinder``, which refuses undeclared dependencies; the code is ours.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from citycluster.data import packages, published
from citycluster.errors import LookupFailed
from citycluster.paths import repo_root, resolve
from citycluster.publish import write_parquet_atomic, write_text_atomic

#: Set by the runner in the kernels it starts; absent when a person runs a notebook.
RUNNER_ENV = "CITYCLUSTER_RUN"
INTERACTIVE = Path("build") / "interactive"
#: The first line a notebook prints when run outside the runner, followed by its step's name.
INTERACTIVE_NOTICE = "Interactive run of"


class CatalogError(LookupFailed):
    """A notebook asked for a dataset its step does not declare."""


@dataclass(frozen=True)
class Dataset:
    """A file or a set of files (a glob) inside the folder a parameter names."""

    folder: str
    path: str

    @property
    def pattern(self) -> tuple[str, str]:
        return self.folder, self.path


def _parquet(*names: str) -> dict[str, Dataset]:
    return {n: Dataset("processed_dir", f"{n}.parquet") for n in names}


PUBLISHED_TABLES = ("claims", "reference", "membership", "links", "shares", "coordinates",
                    "paragraphs", "cluster_totals", "estimates", "estimates_backtest",
                    "place_names")
MODEL_TABLES = ("models", "model_tests", "model_influence", "model_predictions",
                "model_comparison")

DATASETS: dict[str, Dataset] = {
    "raw": Dataset("raw_dir", "**/*"),
    "descriptor": Dataset("raw_dir", "datapackage.yaml"),
    "article": Dataset("raw_dir", "article.yaml"),
    "staging": Dataset("staging_dir", "*.parquet"),
    **_parquet(*PUBLISHED_TABLES, *MODEL_TABLES, "factcheck", "missing_figures"),
    "validation_docs": Dataset("reports_dir", "validation"),
    "validation_summary": Dataset("reports_dir", "validation/summary.csv"),
    **{f"{n}_csv": Dataset("reports_dir", f"{n}.csv") for n in MODEL_TABLES},
    "factcheck_csv": Dataset("reports_dir", "factcheck.csv"),
    "missing_figures_csv": Dataset("reports_dir", "missing_figures.csv"),
    "estimates_backtest_csv": Dataset("reports_dir", "estimates_backtest.csv"),
    "figures": Dataset("reports_dir", "figures"),
    # the standard Data Packages describing what a run published (citycluster.data.packages)
    "processed_package": Dataset("processed_dir", "datapackage.json"),
    "reports_package": Dataset("reports_dir", "datapackage.json"),
    "report": Dataset("reports_dir", "report.{lang}.html"),
    "report_pdf": Dataset("reports_dir", "report.{lang}.pdf"),
}

#: The tables each Data Package describes, derived from DATASETS: every parquet published
#: into processed_dir, and every result table a reader downloads as CSV beside the report.
PROCESSED_TABLES = tuple(n for n, d in DATASETS.items()
                         if d.folder == "processed_dir" and d.path.endswith(".parquet"))
DOWNLOADED_TABLES = tuple(n.removesuffix("_csv") for n in DATASETS if n.endswith("_csv"))

#: Each step's reads and writes, by dataset name: the one declaration of the chain's data flow.
FLOWS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "01_ingest": (("raw",), ("staging",)),
    "02_validate": (("staging", "descriptor"),
                    (*PUBLISHED_TABLES, "validation_docs", "validation_summary")),
    "03_model": (("claims", "reference", "shares"),
                 (*MODEL_TABLES, *(f"{n}_csv" for n in MODEL_TABLES))),
    "04_factcheck": (("claims", "reference", "links", "shares", "membership", "cluster_totals",
                      "place_names", "estimates", "estimates_backtest", "coordinates"),
                     ("factcheck", "factcheck_csv", "missing_figures", "missing_figures_csv",
                      "estimates_backtest_csv", "processed_package", "reports_package")),
    "05_figures": (("shares", "models", "model_predictions", "model_influence",
                    "model_comparison", "claims", "reference", "factcheck", "links",
                    "paragraphs", "place_names", "membership", "coordinates", "cluster_totals",
                    "estimates_backtest"),
                   ("figures",)),
    # the footer shows the raw files' hashes, so they are read too; the figures are the
    # charts the figures step exported, which the report inlines
    "06_report": (("claims", "reference", "links", "shares", "model_predictions", "models",
                   "model_influence", "model_tests", "factcheck", "model_comparison",
                   "paragraphs", "cluster_totals", "estimates", "estimates_backtest", "article",
                   "validation_summary", "place_names", "membership", "coordinates", "raw",
                   "figures"),
                  ("report", "report_pdf")),
}

#: Datasets that name a folder a step fills: what the cache hashes of it (None: nothing, as
#: great-expectations' Data Docs pages carry the time they were built; the summary stands in).
#: The figures step runs once per language; each execution fills its language's files (a file
#: in figures/ named for no report language is in no step's outputs until 05 removes it).
_FOLDERS: dict[str, str | None] = {"validation_docs": None, "figures": "figures/*.{lang}.*"}


def patterns(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The (folder parameter, glob) pairs the cache hashes for these datasets."""
    out = []
    for n in names:
        ds = DATASETS[n]
        glob = _FOLDERS.get(n, ds.path)
        if glob is not None:
            out.append((ds.folder, glob))
    return tuple(out)


def independent(a: str, b: str) -> bool:
    """May steps ``a`` and ``b`` run at the same time? Yes when neither reads what the other
    writes and they write different datasets (two languages of one step write different
    files of the same dataset)."""
    (reads_a, writes_a), (reads_b, writes_b) = FLOWS[a], FLOWS[b]
    if a == b:
        return True
    return not (set(writes_a) & set(reads_b) or set(writes_b) & set(reads_a)
                or set(writes_a) & set(writes_b))


def producer(name: str) -> str | None:
    """The step that writes a dataset (None for the raw inputs)."""
    return next((step for step, (_, writes) in FLOWS.items() if name in writes), None)


def missing_inputs(step: str, dirs: Mapping[str, Path]) -> list[tuple[str, Path]]:
    """The single-file datasets ``step`` reads that do not exist, with where they should be."""
    out = []
    for name in FLOWS[step][0]:
        ds = DATASETS[name]
        if "*" in ds.path or name in _FOLDERS:
            continue
        path = dirs[ds.folder] / ds.path
        if not path.exists():
            out.append((name, path))
    return out


def under_runner() -> bool:
    """Whether this kernel was started by ``citycluster run``."""
    return os.environ.get(RUNNER_ENV) == "1"


class Catalog:
    """One step's view of the data: load and save only what the step declares."""

    def __init__(self, step: str, params: Mapping[str, Any], interactive: bool | None = None):
        if step not in FLOWS:
            raise CatalogError(f"unknown step {step!r}; steps are: {', '.join(FLOWS)}")
        self.step = step
        self.reads, self.writes = FLOWS[step]
        self.params = {k: v for k, v in params.items() if k.endswith("_dir")}
        self.interactive = (not under_runner()) if interactive is None else interactive
        self.scratch = repo_root() / INTERACTIVE

    @classmethod
    def for_step(cls, step: str, params: Mapping[str, Any]) -> Catalog:
        """The catalog of ``step``; says at once where an interactive run writes."""
        cat = cls(step, params)
        if cat.interactive:
            print(f"{INTERACTIVE_NOTICE} {step} (not citycluster run): outputs go to "
                  f"{cat.scratch}, the published tables and reports are left untouched.")
        return cat

    def _published(self, folder: str) -> Path:
        return resolve(self.params[folder])

    def _scratch(self, folder: str) -> Path:
        return self.scratch / Path(self.params[folder]).name

    def _check(self, name: str, allowed: tuple[str, ...], verb: str) -> Dataset:
        if name not in allowed:
            raise CatalogError(
                f"{self.step} does not declare that it {verb} {name!r}; it {verb} "
                f"{', '.join(allowed)}. Declare it in FLOWS in src/citycluster/chain/catalog.py, "
                "so the step's cache key covers it.")
        return DATASETS[name]

    def path(self, name: str, lang: str | None = None) -> Path:
        """Where a declared input is read from: an interactive run's own output if there is
        one, else the published file. A folder filled per language (the figures) is the
        interactive run's where it holds that language's files."""
        ds = self._check(name, self.reads, "reads")
        rel = ds.path.format(lang=lang) if lang else ds.path
        filled = _FOLDERS.get(name)
        if lang and filled and "{lang}" in filled:
            mine = self._scratch(ds.folder)
            base = mine if self.interactive and any(mine.glob(filled.format(lang=lang))) \
                else self._published(ds.folder)
            return base / rel
        if self.interactive and "*" not in rel:
            mine = self._scratch(ds.folder) / rel
            if mine.exists():
                return mine
        if "*" in rel:  # a whole folder of inputs
            mine = self._scratch(ds.folder)
            if self.interactive and any(mine.glob(rel)):
                return mine
            return self._published(ds.folder)
        return self._published(ds.folder) / rel

    def target(self, name: str, lang: str | None = None) -> Path:
        """Where a declared output is written: published under the runner, else scratch."""
        ds = self._check(name, self.writes, "writes")
        base = self._scratch(ds.folder) if self.interactive else self._published(ds.folder)
        rel = ds.path.format(lang=lang) if lang else ds.path
        if "*" in rel:
            base.mkdir(parents=True, exist_ok=True)
            return base
        if name in _FOLDERS:  # a folder the step fills
            (base / rel).mkdir(parents=True, exist_ok=True)
        else:
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
        return base / rel

    def folder(self, parameter: str) -> Path:
        """The folder a step publishes into (``processed_dir``), redirected when interactive."""
        if not any(DATASETS[n].folder == parameter for n in self.writes):
            raise CatalogError(f"{self.step} writes nothing into {parameter}")
        base = self._scratch(parameter) if self.interactive else self._published(parameter)
        base.mkdir(parents=True, exist_ok=True)
        return base

    def load(self, name: str) -> pl.DataFrame:
        """A declared table (parquet or CSV)."""
        path = self.path(name)
        return pl.read_csv(path) if path.suffix == ".csv" else pl.read_parquet(path)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Every table the step declares it reads, by name (folders and raw files left out)."""
        return {n: self.load(n) for n in self.reads
                if DATASETS[n].path.endswith((".parquet", ".csv"))}

    def save_package(self, name: str, package: dict[str, Any]) -> Path:
        """A declared Data Package descriptor, written atomically as JSON."""
        path = self.target(name)
        write_text_atomic(path, packages.dumps(package))
        return path

    def save(self, name: str, table: pl.DataFrame) -> Path:
        """A declared table, checked against its contract in data/processed.datapackage.yaml
        and written atomically (parquet, or CSV for the report's copy)."""
        path = self.target(name)
        contract = name.removesuffix("_csv")
        if contract in {c.name for c in published.package()}:
            published.check(contract, table)
        if path.suffix == ".csv":
            write_text_atomic(path, table.write_csv(float_precision=6))
        else:
            write_parquet_atomic(table, path)
        return path
