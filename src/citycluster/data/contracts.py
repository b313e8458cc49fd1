"""The raw tables' contracts, read from the one declaration in ``data/raw/datapackage.yaml``.

The descriptor follows the Frictionless Data Package / Table Schema standard, so other tools can
read it too. Everything that used to restate a table's columns derives from it: the strict CSV
reader's header and number checks (:mod:`citycluster.data.rawcsv`), the great-expectations rules
(:mod:`citycluster.validation.expectations`) and the data dictionary
(:mod:`citycluster.data.dictionary`).

The descriptor is parsed here with PyYAML and plain dataclasses rather than the ``frictionless``
library: we need its declarations, not its validation engine (great-expectations is that), and
the library would pull in some forty packages for a few hundred lines of YAML.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from citycluster.errors import InputError, LookupFailed

DESCRIPTOR = "datapackage.yaml"
NUMERIC_TYPES = ("number", "integer")
#: Rules across columns a contract may name in ``x-rules`` (implemented in
#: :mod:`citycluster.validation.expectations`).
#: The Table Schema constraints a field may carry (each is a :class:`Field` attribute too).
CONSTRAINTS = ("required", "unique", "enum", "pattern", "minimum", "maximum")
CROSS_COLUMN_RULES = ("printed-matches-value", "url-unless-recalled", "change-has-two-years")


class ContractError(InputError):
    """The descriptor itself is malformed: a person must fix datapackage.yaml."""


@dataclass(frozen=True)
class Field:
    """One column: its Table Schema type and constraints, and what it means."""

    name: str
    type: str
    description: str
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None
    enum_from: str | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: ``x-template``: how a computed column's values are formed (``str.format`` fields), so the
    #: wording lives in the contract that describes the column, not in code.
    template: str | None = None
    #: ``x-numeric``: a string column the reader checks as a number (a decimal or N/M), kept as
    #: printed; Table Schema's number type has no fractions.
    as_number: bool = False

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES or self.as_number


@dataclass(frozen=True)
class ForeignKey:
    """Values of ``fields`` must exist in ``fields`` of another table (resource or x-table)."""

    fields: tuple[str, ...]
    table: str
    ref_fields: tuple[str, ...]


@dataclass(frozen=True)
class CrossColumnRule:
    """A rule across columns (``x-rules``): its name, how grave a breach is, what it means."""

    name: str
    severity: str
    description: str


@dataclass(frozen=True)
class Contract:
    """The declaration of one raw file."""

    name: str
    table: str
    path: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    rules: tuple[CrossColumnRule, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.numeric)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise LookupFailed(f"{self.path} declares no column {name!r}")


@dataclass(frozen=True)
class Package:
    """Every declared raw file, in the descriptor's order."""

    root: Path
    title: str
    description: str
    contracts: tuple[Contract, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[Contract]:
        return iter(self.contracts)

    def resource(self, name: str) -> Contract:
        for c in self.contracts:
            if c.name == name:
                return c
        raise LookupFailed(f"{self.root / DESCRIPTOR} declares no resource {name!r}")

    def table(self, table: str) -> list[Contract]:
        """The files that make up one staged table (one file, or several reference files)."""
        found = [c for c in self.contracts if c.table == table]
        if not found:
            raise LookupFailed(f"{self.root / DESCRIPTOR} declares no table {table!r}")
        return found

    def table_of(self, name: str) -> str:
        """The staged table a foreign key names, by resource name or by table name."""
        return next((c.table for c in self.contracts if c.name == name), name)

    def tables(self) -> list[str]:
        return list(dict.fromkeys(c.table for c in self.contracts))

    def enum(self, table: str, column: str) -> tuple[str, ...]:
        """The allowed values of a column, for code that branches on them."""
        values = self.table(table)[0].field(column).enum
        if values is None:
            raise LookupFailed(f"{table}.{column} declares no enum")
        return values

    def undeclared_files(self) -> list[Path]:
        """CSV files under the raw folder that no resource declares (they would be ignored)."""
        declared = {self.root / c.path for c in self.contracts}
        return sorted(p for p in self.root.rglob("*.csv") if p not in declared)


def _field(raw: dict[str, Any], where: str) -> Field:
    if "name" not in raw or "type" not in raw:
        raise ContractError(f"{where}: a field needs a name and a type, got {raw!r}")
    c = raw.get("constraints") or {}
    unknown = set(c) - set(CONSTRAINTS)
    if unknown:
        raise ContractError(f"{where}.{raw['name']}: unknown constraint(s) {sorted(unknown)}")
    enum = c.get("enum")
    return Field(
        name=str(raw["name"]), type=str(raw["type"]), description=str(raw.get("description", "")),
        required=bool(c.get("required", False)), unique=bool(c.get("unique", False)),
        enum=tuple(str(v) for v in enum) if enum is not None else None,
        enum_from=raw.get("x-enum-from"), pattern=c.get("pattern"),
        minimum=c.get("minimum"), maximum=c.get("maximum"), template=raw.get("x-template"),
        as_number=bool(raw.get("x-numeric", False)))


def _contract(raw: dict[str, Any]) -> Contract:
    where = f"resource {raw.get('name', '?')}"
    schema = raw.get("schema")
    if not isinstance(schema, dict) or "fields" not in schema:
        raise ContractError(f"{where}: needs a schema with fields")
    fields = tuple(_field(f, where) for f in schema["fields"])
    names = [f.name for f in fields]
    for key in schema.get("primaryKey", []):
        if key not in names:
            raise ContractError(f"{where}: primary key {key!r} is not a field")
    fks = tuple(ForeignKey(tuple(fk["fields"]), fk["reference"]["resource"],
                           tuple(fk["reference"]["fields"]))
                for fk in [*schema.get("foreignKeys", []), *schema.get("x-foreignKeys", [])])
    rules = tuple(CrossColumnRule(r["rule"], r.get("severity", "critical"),
                                  r.get("description", "")) for r in schema.get("x-rules", []))
    for rule in rules:
        if rule.name not in CROSS_COLUMN_RULES:
            raise ContractError(f"{where}: unknown x-rule {rule.name!r}; known: "
                                f"{', '.join(CROSS_COLUMN_RULES)}")
        if rule.severity not in ("critical", "warning"):
            raise ContractError(f"{where}: x-rule {rule.name} has severity {rule.severity!r}; "
                                "use critical or warning")
    return Contract(name=str(raw["name"]), table=str(raw.get("x-table", raw["name"])),
                    path=str(raw["path"]), title=str(raw.get("title", "")),
                    description=" ".join(str(raw.get("description", "")).split()),
                    fields=fields, primary_key=tuple(schema.get("primaryKey", [])),
                    foreign_keys=fks, rules=rules)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Package:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        raise ContractError(f"{where}: {exc.problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise ContractError(f"{path}: expected a data package with a list of resources")
    contracts = tuple(_contract(r) for r in data["resources"])
    tables = {c.table for c in contracts} | {c.name for c in contracts}  # either may be named
    for c in contracts:
        for fk in c.foreign_keys:
            if fk.table not in tables:
                raise ContractError(f"resource {c.name}: foreign key to unknown {fk.table!r}")
    return Package(root=path.parent, title=str(data.get("title", "")),
                   description=" ".join(str(data.get("description", "")).split()),
                   contracts=contracts)


def shown(raw_dir: Path) -> str:
    """The raw folder as a person knows it: relative to the repository (data/raw) if inside."""
    from citycluster.paths import repo_root

    try:
        return Path(raw_dir).resolve().relative_to(repo_root()).as_posix()
    except ValueError:
        return str(raw_dir)


def load(raw_dir: Path) -> Package:
    """The contracts of the raw folder ``raw_dir`` (read once per change of the file)."""
    path = Path(raw_dir) / DESCRIPTOR
    if not path.is_file():
        raise ContractError(f"{path} is missing: the raw tables have no declared contract")
    return _load(path.resolve(), path.stat().st_mtime_ns)
