"""The newest Python this project supports that runs on this machine (used by the Makefile).

The supported range is declared once, in pyproject.toml's ``requires-python``
(``>=3.11,<3.14``); this script reads it rather than repeating it. Run with any Python 3:

- ``python3 scripts/find_python.py`` prints the interpreter .venv was built from, while it is
  still in the range (so installing a newer Python does not silently rebuild .venv), else the
  path of the newest working ``python3.X`` in the range, or exits 1. A name on PATH is not
  enough: pyenv shims exist for versions that are installed but not active, and fail when run,
  so each candidate is run once.
- ``python scripts/find_python.py --check`` exits 1, saying why, if ``python`` itself is outside
  the range.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def supported() -> tuple[tuple[int, int], tuple[int, int]]:
    """(lowest supported, first unsupported) minor versions from ``requires-python``."""
    text = PYPROJECT.read_text(encoding="utf-8")
    m = re.search(r'^requires-python\s*=\s*">=\s*3\.(\d+)\s*,\s*<\s*3\.(\d+)"', text, re.M)
    if not m:
        sys.exit(f"{PYPROJECT}: requires-python must read \">=3.X,<3.Y\"")
    return (3, int(m.group(1))), (3, int(m.group(2)))


def probe(command: str) -> tuple[tuple[int, int], str] | None:
    """The (major, minor) version and base interpreter of ``command``, if it runs and has venv."""
    try:
        out = subprocess.run([command, "-c", "import sys, venv; print(*sys.version_info[:2]); "
                              "print(sys._base_executable)"],
                             capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    lines = out.stdout.splitlines()
    if out.returncode != 0 or len(lines) != 2:
        return None
    major, minor = (int(x) for x in lines[0].split())
    return (major, minor), lines[1]


def of_existing_venv() -> str | None:
    """The base interpreter .venv was made with, if it runs and is still supported."""
    low, high = supported()
    found = probe(str(VENV_PYTHON))
    if found is None or not low <= found[0] < high or not Path(found[1]).exists():
        return None
    return found[1]


def newest() -> str | None:
    low, high = supported()
    for minor in range(high[1] - 1, low[1] - 1, -1):
        command = shutil.which(f"python3.{minor}")
        found = probe(command) if command else None
        if found and found[0] == (3, minor):
            return command
    return None


def describe() -> str:
    low, high = supported()
    return f"Python {low[0]}.{low[1]} to {high[0]}.{high[1] - 1}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        low, high = supported()
        if not low <= sys.version_info[:2] < high:
            sys.exit(f"citycluster needs {describe()}; {sys.executable} is "
                     f"{sys.version.split()[0]}. Point to another: make PYTHON=/path/to/python3.X")
        sys.exit(0)
    path = of_existing_venv() or newest()
    if path is None:
        sys.exit(1)
    print(path)
