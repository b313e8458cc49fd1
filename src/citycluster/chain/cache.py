"""Content-hash cache: a step is skipped when nothing it depends on has changed.

A step's key is the SHA-256 of each thing that can change its result: the notebook, the package
code (``src/citycluster``, templates included), the lock file, the parameters it receives, and
the files it reads. The record also keeps the hashes of the files the step wrote, so a deleted
or edited output makes the step run again. Records are written only after a run has published
its outputs, so an interrupted run never leaves a record that claims work it did not finish.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RECORD = "cache.json"
COMPONENTS = {"notebook": "notebook changed", "code": "code changed",
              "lock": "lock file changed", "params": "parameters changed",
              "inputs": "inputs changed"}


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_digest(files: Iterable[tuple[str, Path]]) -> str:
    """One hash over (name, bytes) pairs, in name order: renames and edits both show."""
    h = hashlib.sha256()
    for name, path in sorted(files):
        h.update(name.encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def code_digest(package: Path) -> str:
    """The package's source and templates (not caches)."""
    files = [(p.relative_to(package).as_posix(), p) for p in package.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return files_digest(files)


def params_digest(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StepKey:
    """The hashes a step's result depends on."""

    notebook: str
    code: str
    lock: str
    params: str
    inputs: str


def reason_to_run(record: dict[str, Any] | None, key: StepKey,
                  outputs: dict[str, str], force: bool) -> str | None:
    """Why the step must run, or None when it is up to date."""
    if force:
        return "--force"
    if record is None:
        return "no earlier run recorded"
    changed = [why for part, why in COMPONENTS.items() if record["key"].get(part) !=
               getattr(key, part)]
    if changed:
        return ", ".join(changed)
    if record["outputs"] != outputs or not outputs:
        return "outputs missing or changed"
    return None


class Cache:
    """The records of earlier runs, one per step label (``06_report [zh]``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.records: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.records = {}

    def get(self, label: str) -> dict[str, Any] | None:
        return self.records.get(label)

    def put(self, label: str, key: StepKey, outputs: dict[str, str]) -> None:
        self.records[label] = {"key": asdict(key), "outputs": outputs}

    def save(self) -> None:
        from citycluster.publish import write_text_atomic

        write_text_atomic(self.path, json.dumps(self.records, indent=1, sort_keys=True) + "\n")
