"""Where things live, resolved from the repository root.

Notebooks run from JupyterLab, papermill and tests with different working directories; every path
in the project is resolved from one root so a run behaves the same from anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from citycluster.errors import EnvironmentProblem

_MARKER = "pyproject.toml"


def repo_root() -> Path:
    """The repository root: $CITYCLUSTER_ROOT if set, else the folder above ``src/citycluster``.

    The package is installed editable from the repository, so its own location is reliable; the
    environment variable lets tests run the chain on a copy of the repository.
    """
    env = os.environ.get("CITYCLUSTER_ROOT")
    if env:
        root = Path(env).resolve()
    else:
        root = Path(__file__).resolve().parents[2]
    if not (root / _MARKER).is_file():
        raise EnvironmentProblem(
            f"{root} does not look like the citycluster repository (no {_MARKER}); "
            "set CITYCLUSTER_ROOT to the repository folder"
        )
    return root


def resolve(path: str | os.PathLike[str], root: Path | None = None) -> Path:
    """A path from parameters, made absolute against the repository root."""
    p = Path(path)
    return p if p.is_absolute() else (root or repo_root()) / p

