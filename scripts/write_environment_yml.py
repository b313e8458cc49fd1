"""Write environment.yml from requirements.lock, so conda users get the same pins.

conda's pip section cannot combine hashed requirements with an editable install of the package
(pip's hash-checking mode refuses ``-e .``), so the pins are listed here without hashes but with
their environment markers (the lock is universal, and some of its pins hold only for some
interpreters or platforms); a test checks that they match the lock. The Python range is
pyproject.toml's ``requires-python``. Run by ``make lock``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def lock_entries(lock: Path) -> list[tuple[str, str, str | None]]:
    """``(name, version, marker)`` for every pin in the lock, in lock order."""
    return [(m.group(1), m.group(2), m.group(3)) for line in lock.read_text().splitlines()
            if (m := PIN.match(line))]


def lock_pins(lock: Path) -> list[str]:
    """``name==version`` (with ``; marker`` where the lock has one), in lock order."""
    return [f"{n}=={v}" + (f" ; {mk}" if mk else "") for n, v, mk in lock_entries(lock)]


def requires_python(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The interpreter range the project supports, as pyproject.toml declares it."""
    return tomllib.loads(pyproject.read_text())["project"]["requires-python"]


def render(lock: Path) -> str:
    pins = "\n".join(f'      - "{p}"' for p in lock_pins(lock))
    return f"""# conda route to the pinned environment of `make`, generated from requirements.lock
# by scripts/write_environment_yml.py; do not edit by hand: run `make lock`.
#   conda env create -f environment.yml && conda activate citycluster && citycluster run
name: citycluster
channels:
  - conda-forge
dependencies:
  - python{requires_python().replace(" ", "")}
  - pip
  - pip:
{pins}
      - -e .
"""


if __name__ == "__main__":
    (ROOT / "environment.yml").write_text(render(ROOT / "requirements.lock"))
