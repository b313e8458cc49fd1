"""A run's parameters, resolved once: every value as checked, and each folder as a path.

The command line checks the parameters (:func:`citycluster.chain.params.load_params`) and
resolves them here; the orchestrator, the planner, the cache keys and the provenance record all
read this one object, so a folder is resolved against the repository in one place and a value
is never looked up again by name on the way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citycluster.paths import repo_root, resolve

#: The folder parameters a step reads and writes through (the catalog's dataset folders).
STEP_FOLDERS = ("raw_dir", "staging_dir", "processed_dir", "reports_dir")


@dataclass(frozen=True)
class RunSettings:
    """What a run was asked for: ``values`` are the parameters as the notebooks receive them
    (strings for folders, as written); the paths are those folders resolved from ``root``."""

    values: Mapping[str, Any]
    root: Path
    raw: Path
    staging: Path
    processed: Path
    reports: Path
    build: Path

    @property
    def languages(self) -> list[str]:
        """The report languages: the per-language steps run once for each."""
        return list(self.values["report_languages"])

    def dirs(self, reports: Path | None = None) -> dict[str, Path]:
        """The steps' folders by parameter name, the reports redirected to ``reports`` (a
        run's staging copy) when given."""
        return {"raw_dir": self.raw, "staging_dir": self.staging,
                "processed_dir": self.processed, "reports_dir": reports or self.reports}

    def injected(self, reports: Path) -> dict[str, Any]:
        """The values a step's notebook receives, writing into ``reports`` (the staging copy)."""
        return {**self.values, "reports_dir": str(reports)}


def resolved(values: Mapping[str, Any], root: Path | None = None) -> RunSettings:
    """``values`` (checked parameters) with their folders resolved against ``root``."""
    root = root or repo_root()
    return RunSettings(dict(values), root, *(resolve(values[name], root) for name in
                                             (*STEP_FOLDERS, "build_dir")))
