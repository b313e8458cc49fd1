"""Where a report came from: commit, lock, inputs, parameters and step timings.

The report's footer prints this record so a reader can tell whether two reports were built from
the same code and data. The pipeline writes it next to the staged reports before each report
step (``provenance.json``); a notebook run by hand collects it itself.
"""

from __future__ import annotations

import hashlib
import json
import platform
import socket
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

from citycluster.chain.cache import file_digest
from citycluster.paths import repo_root, resolve

FILE = "provenance.json"


def git_commit(root: Path) -> str:
    """The checked-out commit; ``+dirty.<hash>`` when tracked files differ from it, the hash
    being of the difference, so two different uncommitted trees never pass for one."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=False)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    if not dirty:
        return head.stdout.strip()
    diff = subprocess.run(["git", "diff", "HEAD", "--binary", "--no-ext-diff"], cwd=root,
                          capture_output=True, check=False).stdout
    return f"{head.stdout.strip()}+dirty.{hashlib.sha256(diff).hexdigest()[:12]}"


def commit_date(root: Path) -> str | None:
    """The date of the checked-out commit (YYYY-MM-DD): the version date a citation gives."""
    out = subprocess.run(["git", "show", "-s", "--format=%cs", "HEAD"], cwd=root,
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or None if out.returncode == 0 else None


def lock_sha256(root: Path) -> str | None:
    """SHA-256 of requirements.lock, the environment a run used (None: no lock)."""
    lock = root / "requirements.lock"
    return file_digest(lock) if lock.exists() else None


def packages_sha256() -> str:
    """SHA-256 of the installed distributions (``name==version``, sorted): what a run really
    imported. The lock is universal, so the same lock can install other versions under another
    interpreter; this tells them apart."""
    pins = sorted({f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in distributions()})
    return hashlib.sha256("\n".join(pins).encode()).hexdigest()


def made_with(root: Path) -> dict[str, str | None]:
    """What a run is made with: commit, lock, interpreter, installed packages and host. Taken
    once per run (the package scan is most of its 80 ms): none of it changes while it runs."""
    return {"commit": git_commit(root), "lock_sha256": lock_sha256(root),
            "python": platform.python_version(), "packages_sha256": packages_sha256(),
            "host": socket.gethostname()}


def input_hashes(raw_dir: Path) -> dict[str, str]:
    """SHA-256 of every file under the raw-data folder, by path relative to it."""
    return {p.relative_to(raw_dir).as_posix(): file_digest(p)
            for p in sorted(raw_dir.rglob("*")) if p.is_file()}


def collect(params: Mapping[str, Any], timings: dict[str, float] | None = None,
            raw_dir: Path | None = None) -> dict[str, Any]:
    """The provenance record of a run with ``params`` (the raw folder as the run resolved it;
    a notebook run by hand resolves ``raw_dir`` itself)."""
    root = repo_root()
    return {
        "commit": git_commit(root),
        "commit_date": commit_date(root),
        "lock_sha256": lock_sha256(root),
        "inputs": input_hashes(raw_dir or resolve(params["raw_dir"], root)),
        "params": dict(params),
        "timings_s": dict(timings or {}),
        "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def write(folder: Path, record: dict[str, Any]) -> Path:
    """Write the record as ``provenance.json`` in ``folder`` (atomically)."""
    from citycluster.publish import write_text_atomic

    path = folder / FILE
    write_text_atomic(path, json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True)
                      + "\n")
    return path


def load(folder: Path) -> dict[str, Any] | None:
    """The record the pipeline left in ``folder``, if any."""
    path = folder / FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
