"""The languages a report can be written in: one message catalog per language.

A language exists when ``locales/<code>.yaml`` exists. The run parameters, the report, its
charts and the index all ask this module, so adding a language means adding a catalog (and its
place names in ``data/raw/place_names.csv``), not editing Python. A catalog is plain YAML so a
translator edits it without tools; ``tests/test_languages.py`` keeps every catalog's keys and
placeholders in step with the English one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from citycluster.errors import UsageError

#: Where catalogs are looked for. A test adds a folder with a pseudo-locale here.
CATALOG_DIRS: list[Path] = [Path(__file__).parent / "locales"]
#: The catalog every other one is checked against, and the source of the pseudo-locale.
SOURCE_LANGUAGE = "en"


def available() -> tuple[str, ...]:
    """The codes of every language that has a catalog, sorted."""
    return tuple(sorted({p.stem for d in CATALOG_DIRS for p in d.glob("*.yaml")}))


def catalog_path(lang: str) -> Path:
    """The catalog file of ``lang``; an unknown language lists the known ones."""
    for folder in CATALOG_DIRS:
        path = folder / f"{lang}.yaml"
        if path.is_file():
            return path
    raise UsageError(f"no catalog for language {lang!r}: languages with a catalog are "
                     f"{', '.join(available())} (add locales/{lang}.yaml to add one)")


def catalog(lang: str) -> dict[str, Any]:
    """The parsed catalog of ``lang`` (read once per process and path)."""
    return _read(catalog_path(lang))


@cache
def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or "meta" not in data:
        raise UsageError(f"{path}: a catalog is a mapping with a 'meta' section")
    return data
