"""Standard Data Packages beside the outputs: ``data/processed/datapackage.json`` for the
published tables and ``reports/datapackage.json`` for the CSVs readers download.

The project's own contract of the published tables (``data/processed.datapackage.yaml``) is
short: a raw-backed table names its raw resource and lists only the columns ingest adds. A
reader's tool needs each table in full, with paths that resolve from the package's folder. So
these descriptors are derived from the contracts (:mod:`citycluster.data.published`), never
written by hand, and the reference validator (``frictionless validate``) accepts them with the
data beside them (tests/test_packages.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from citycluster.data import contracts, published


@dataclass(frozen=True)
class Licence:
    """A licence as a reader sees it (``short``) and as a Data Package names it (SPDX)."""

    spdx: str
    short: str
    title: str
    url: str

    def descriptor(self) -> dict[str, str]:
        return {"name": self.spdx, "path": self.url, "title": self.title}


#: The licence of the report's text and figures and of the tables the chain computes (the
#: code's is CITATION.cff's ``license``); third-party figures keep their publishers' terms.
CONTENT_LICENCE = Licence("CC-BY-4.0", "CC BY 4.0", "Creative Commons Attribution 4.0",
                          "https://creativecommons.org/licenses/by/4.0/")
#: Where every figure in the tables comes from, for a package's ``sources``.
SOURCES = [
    {"title": "The article checked, as printed: data/raw/claims.csv (figures) and "
              "data/raw/article.yaml (title and author line)"},
    {"title": "Reference statistics, each row naming its publisher, document and where it was "
              "seen: data/raw/reference/"},
]


def table_schema(contract: contracts.Contract) -> dict[str, Any]:
    """A contract as a Table Schema: every field with its type, meaning and constraints."""
    fields = []
    for f in contract.fields:
        limits = {key: getattr(f, key) for key in contracts.CONSTRAINTS
                  if getattr(f, key) not in (None, False)}
        if "enum" in limits:
            limits["enum"] = list(limits["enum"])
        field = {"name": f.name, "type": f.type, "description": f.description}
        fields.append(field | ({"constraints": limits} if limits else {}))
    schema: dict[str, Any] = {"fields": fields}
    if contract.primary_key:
        schema["primaryKey"] = list(contract.primary_key)
    return schema


#: How a missing value reads in each format: an empty CSV cell; a parquet null, which readers
#: going through pandas (frictionless among them) see as NaN.
MISSING = {"csv": [""], "parquet": ["", "nan"]}


def _resource(contract: contracts.Contract, path: str) -> dict[str, Any]:
    fmt = path.rsplit(".", 1)[-1]
    return {"name": contract.name, "path": path, "format": fmt,
            "profile": "tabular-data-resource", "title": contract.title,
            "description": contract.description,
            "schema": table_schema(contract) | {"missingValues": MISSING[fmt]}}


def descriptor(name: str, title: str, description: str,
               tables: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A tabular Data Package of the published ``tables`` (contract name, path in the package
    folder), under :data:`CONTENT_LICENCE`."""
    package = published.package()
    return {"profile": "tabular-data-package", "name": name, "title": title,
            "description": description, "licenses": [CONTENT_LICENCE.descriptor()],
            "sources": SOURCES,
            "resources": [_resource(package.resource(table), path) for table, path in tables]}


def processed(tables: Iterable[str]) -> dict[str, Any]:
    """``data/processed/datapackage.json``: every published table, as parquet."""
    package = published.package()
    return descriptor("citycluster-processed", package.title, package.description,
                      [(t, f"{t}.parquet") for t in tables])


def downloads(tables: Iterable[str]) -> dict[str, Any]:
    """``reports/datapackage.json``: the result tables a reader downloads beside the report,
    as CSV."""
    return descriptor("citycluster-results", "citycluster results",
                      "The fact-check, the models, the estimator's backtest and the worklist "
                      "of missing member figures, as the report's run computed them.",
                      [(t, f"{t}.csv") for t in tables])


def dumps(package: dict[str, Any]) -> str:
    """A descriptor as the file is written: stable, readable, UTF-8."""
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"
