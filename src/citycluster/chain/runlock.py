"""One run at a time per set of output folders.

Two runs on the same checkout share ``data/staging``, ``data/processed`` and ``build/``; started
together, one deleted the other's staging copy of the reports. ``citycluster run`` therefore
holds a lock in its build folder for as long as it works. The lock is the ``filelock``
package's (an ``fcntl`` lock on POSIX), which the kernel releases when its holder dies, so a run
killed with SIGKILL never blocks the next one. Beside it a small JSON file says who holds it,
for the message a waiting run prints. Sweep runs have private build folders, so they run in
parallel with each other and never with a plain run on the same folders.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from citycluster.errors import CityclusterError

#: Exit status of a run refused because another holds the lock (EX_TEMPFAIL, sysexits.h).
EXIT_LOCKED = 75
LOCK_NAME = "run.lock"
#: How often a waiting run says it is still waiting (seconds).
WAIT_NOTICE_S = 30.0


class RunLocked(CityclusterError, RuntimeError):
    """Another run holds the lock and the caller asked not to wait."""

    exit_code = EXIT_LOCKED


def _holder(info: Path) -> str:
    """Who holds the lock, in words, from the file the holder wrote."""
    try:
        h = json.loads(info.read_text(encoding="utf-8"))
        return f"pid {h['pid']}, started {h['started']}, command: {h['command']}"
    except (OSError, ValueError, KeyError):
        return "a run whose details are not readable yet"


@contextmanager
def held(build: Path, wait: bool = True,
         echo: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the run lock of ``build`` while the block runs; wait for it, or refuse at once."""
    build.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(build / LOCK_NAME))
    info = build / (LOCK_NAME + ".json")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        message = f"another citycluster run is using {build}: {_holder(info)}"
        if not wait:
            raise RunLocked(message + " (run again without --no-wait to wait for it)") from None
        echo(message + "; waiting for it to finish")
        while True:
            try:
                lock.acquire(timeout=WAIT_NOTICE_S)
                break
            except Timeout:
                echo(f"still waiting: {_holder(info)}")
    try:
        info.write_text(json.dumps({
            "pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}), encoding="utf-8")
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()
