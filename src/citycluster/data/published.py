"""The contracts of the published tables (``data/processed.datapackage.yaml``), and their check.

Every table the chain writes into ``data/processed/`` is declared there once: the raw-backed
ones by naming their raw resource and the columns ingest adds, the computed ones in full. The
code that builds a table reads its column list from here (``columns("factcheck")``), and every
write goes through :func:`check`, so a table whose columns, types or required values drift from
the declaration is refused with the table, column and rule before it reaches a reader.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from citycluster.data import contracts
from citycluster.errors import InputError
from citycluster.paths import repo_root

DESCRIPTOR = Path("data") / "processed.datapackage.yaml"
#: Table Schema types and the polars types that satisfy them.
DTYPES: dict[str, tuple[type[pl.DataType], ...]] = {
    "string": (pl.String,), "number": (pl.Float64, pl.Float32),
    "integer": (pl.Int32, pl.Int64, pl.Int16, pl.Int8), "boolean": (pl.Boolean,),
}


class TableContractError(InputError):
    """A table about to be published does not match its declaration."""


@lru_cache(maxsize=2)
def _package(root: Path) -> contracts.Package:
    path = root / DESCRIPTOR
    if not path.is_file():
        raise contracts.ContractError(f"{path} is missing: the published tables have no "
                                      "declared contract")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw = contracts.load(root / "data" / "raw")
    ingest = data.get("x-ingest-columns", {})
    first = ingest.get("first", [])
    last = ingest.get("last", [])
    as_text = set(ingest.get("as_text", []))
    resources = []
    for res in data["resources"]:
        res = dict(res)
        source = res.pop("x-from-raw", None)
        if source is not None:
            raw_fields = [_as_raw(f, f.name in as_text) for f in raw.table(source)[0].fields]
            res["schema"] = {"fields": [*first, *raw_fields, *last,
                                        *res.get("schema", {}).get("fields", [])]}
            res.setdefault("description", raw.table(source)[0].description)
        resources.append(contracts._contract(res))  # one parser for both descriptors
    return contracts.Package(root=path.parent, title=str(data.get("title", "")),
                             description=" ".join(str(data.get("description", "")).split()),
                             contracts=tuple(resources))


def _as_raw(field: contracts.Field, as_text: bool) -> dict[str, Any]:
    """A raw field in descriptor form: name, type and meaning. Its values were checked on the
    raw file, where validation can name the file and row; here only the shape is held."""
    return {"name": field.name, "type": "string" if as_text else field.type,
            "description": field.description}


def package() -> contracts.Package:
    """Every published table's contract."""
    return _package(repo_root())


def contract(table: str) -> contracts.Contract:
    return package().resource(table)


def columns(table: str) -> list[str]:
    """The declared columns of a published table, in order."""
    return list(contract(table).columns)


def schema(table: str) -> pl.Schema:
    """A polars schema for building the table (the first type each Table Schema type maps to)."""
    return pl.Schema({f.name: DTYPES[f.type][0] for f in contract(table).fields})


def check(table: str, frame: pl.DataFrame, shape_only: bool = False) -> None:
    """Refuse a frame whose columns, order, types, required values or ranges break the
    contract of ``table``; the message names the table, column and rule.

    ``shape_only`` checks columns and types only: staged tables get their value rules from
    validation, which audits them as great-expectations suites and names the raw row."""
    c = contract(table)
    where = f"{DESCRIPTOR.as_posix()}, table {table}"
    if tuple(frame.columns) != c.columns:
        missing = [n for n in c.columns if n not in frame.columns]
        extra = [n for n in frame.columns if n not in c.columns]
        raise TableContractError(
            f"{where}: columns differ from the declaration (missing: {missing or 'none'}; "
            f"undeclared: {extra or 'none'}; or out of order)")
    for f in c.fields:
        col = frame[f.name]
        if col.dtype != pl.Null and not isinstance(col.dtype, DTYPES[f.type]):
            raise TableContractError(f"{where}, column {f.name}: type {col.dtype} where the "
                                     f"contract says {f.type}")
        if shape_only:
            continue
        if f.required and col.null_count():
            raise TableContractError(f"{where}, column {f.name}: {col.null_count()} empty "
                                     "value(s) where the column is required")
        if f.enum is not None and not col.drop_nulls().is_in(list(f.enum)).all():
            bad = col.drop_nulls().filter(~col.drop_nulls().is_in(list(f.enum))).unique()
            raise TableContractError(f"{where}, column {f.name}: {bad.to_list()[:5]} not in "
                                     f"{list(f.enum)}")
        if f.numeric and (f.minimum is not None or f.maximum is not None):
            values = col.drop_nulls()
            if values.dtype.is_float():
                values = values.drop_nans()  # an undefined statistic, not an out-of-range one
            low = f.minimum if f.minimum is not None else float("-inf")
            high = f.maximum if f.maximum is not None else float("inf")
            outside = values.filter((values < low) | (values > high))
            if outside.len():
                raise TableContractError(f"{where}, column {f.name}: {outside.len()} value(s) "
                                         f"outside [{f.minimum}, {f.maximum}], e.g. "
                                         f"{outside[0]}")
        if f.unique and col.is_duplicated().any():
            raise TableContractError(f"{where}, column {f.name}: duplicate values")
