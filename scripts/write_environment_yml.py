"""Write environment.yml from requirements.lock, so conda users get the same pins.

conda's pip section cannot combine hashed requirements with an editable install of the package
(pip's hash-checking mode refuses ``-e .``), so the pins are listed here without hashes; a test
checks that they match the lock. Run by ``make lock``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)")


def lock_pins(lock: Path) -> list[str]:
    """``name==version`` for every package pinned in the lock, in lock order."""
    return [f"{m.group(1)}=={m.group(2)}" for line in lock.read_text().splitlines()
            if (m := PIN.match(line))]


def python_version(lock: Path) -> str:
    """The interpreter version the lock was compiled for (from uv's header)."""
    m = re.search(r"--python-version (\d+\.\d+\.\d+)", lock.read_text())
    if not m:
        sys.exit(f"{lock}: no --python-version in the header; compile with `make lock`")
    return m.group(1)


def render(lock: Path) -> str:
    pins = "\n".join(f"      - {p}" for p in lock_pins(lock))
    return f"""# conda route to the pinned environment of `make`, generated from requirements.lock
# by scripts/write_environment_yml.py; do not edit by hand: run `make lock`.
#   conda env create -f environment.yml && conda activate citycluster && citycluster run
name: citycluster
channels:
  - conda-forge
dependencies:
  - python={python_version(lock)}
  - pip
  - pip:
{pins}
      - -e .
"""


if __name__ == "__main__":
    (ROOT / "environment.yml").write_text(render(ROOT / "requirements.lock"))
