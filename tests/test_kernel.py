"""The kernels' socket folders (citycluster.kernel), without starting a kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from citycluster.kernel import SOCKET_DIR_PREFIX, remove_orphaned_socket_dirs


def test_only_the_socket_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / f"{SOCKET_DIR_PREFIX}{gone.stdout.strip()}-abc"
    alive = tmp_path / f"{SOCKET_DIR_PREFIX}{os.getpid()}-def"
    unknown = tmp_path / f"{SOCKET_DIR_PREFIX}xyz"  # an older name, with no pid: left alone
    other = tmp_path / "something-else-1"
    for folder in (dead, alive, unknown, other):
        folder.mkdir()
        (folder / "kernel-1").touch()
    assert remove_orphaned_socket_dirs(str(tmp_path)) == [str(dead)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (alive, unknown, other))
