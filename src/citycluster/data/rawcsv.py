"""Reading a raw CSV with errors a person can act on.

great-expectations only sees a table once it has parsed; the usual ways a hand-edited CSV goes
wrong (encoding, a byte-order mark, the wrong delimiter, renamed or duplicated headers, blank
lines, thousands separators, full-width digits) must be caught before that, with the file, row
and column named. Row numbers are the file's line numbers, the header being line 1.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from pathlib import Path

import polars as pl

from citycluster.data.contracts import Contract
from citycluster.errors import InputError


class RawInputError(InputError):
    """Input that cannot be read as the table it should be; says where and which rule."""

    def __init__(self, path: Path | str, rule: str, message: str, row: int | None = None,
                 column: str | None = None):
        self.path, self.rule, self.row, self.column = str(path), rule, row, column
        where = self.path + (f", row {row}" if row is not None else "")
        where += f", column {column}" if column else ""
        super().__init__(f"{where}: [{rule}] {message}")


_FULLWIDTH = re.compile(r"[\uff10-\uff19\uff0e\uff0c\uff05]")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?(/\d+(\.\d+)?)?$")
_INTEGER = re.compile(r"^-?\d+$")
_BOOLEAN = ("true", "false")


def read_raw_csv(path: Path, schema: Contract) -> pl.DataFrame:
    """The table as strings (no inference: a value is checked, never silently coerced)."""
    if not path.is_file():
        raise RawInputError(path, "file-missing",
                            f"the {schema.name} table ({schema.title}) is missing")
    data = path.read_bytes()
    if not data.strip():
        raise RawInputError(path, "file-empty", "the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        raise RawInputError(path, "byte-order-mark", "the file starts with a UTF-8 byte-order "
                            "mark; save it as UTF-8 without BOM", row=1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise RawInputError(path, "not-utf8", f"byte {exc.start} is not UTF-8 "
                            f"({data[exc.start:exc.start + 1]!r}); save the file as UTF-8",
                            row=bad_line) from None
    lines = text.split("\n")
    header_line = lines[0].rstrip("\r")
    _check_header(path, header_line, schema)
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip() and i < len(lines):
            raise RawInputError(path, "blank-line", "blank line inside the table; delete it",
                                row=i)
    rows = list(csv.reader(io.StringIO(text)))
    width = len(schema.columns)
    for i, row in enumerate(rows[1:], start=2):
        if row and len(row) != width:
            raise RawInputError(path, "field-count", f"{len(row)} fields where the header has "
                                f"{width}; check quoting of commas inside a field", row=i)
    df = pl.DataFrame(
        [r for r in rows[1:] if r], schema=list(schema.columns), orient="row"
    ) if len(rows) > 1 else pl.DataFrame(schema={c: pl.String for c in schema.columns})
    df = df.with_columns(pl.all().str.strip_chars().replace("", None))
    _check_values(path, df, schema)
    return df


def _check_header(path: Path, header_line: str, schema: Contract) -> None:
    header = next(csv.reader([header_line]))
    if len(header) == 1 and any(d in header_line for d in (";", "\t", "|")):
        sep = next(d for d in (";", "\t", "|") if d in header_line)
        raise RawInputError(path, "delimiter", f"the header is separated by {sep!r}; "
                            "the raw tables are comma-separated", row=1)
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise RawInputError(path, "duplicate-column", f"column(s) named twice: "
                            f"{', '.join(dupes)}", row=1, column=dupes[0])
    missing = [c for c in schema.columns if c not in header]
    extra = [c for c in header if c not in schema.columns]
    if missing:
        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, extra, n=1)
            hints.append(f"{m} (renamed to {close[0]!r}?)" if close else m)
        raise RawInputError(path, "missing-column", f"missing column(s): {', '.join(hints)}; "
                            f"expected {', '.join(schema.columns)}", row=1, column=missing[0])
    if extra:
        raise RawInputError(path, "unexpected-column", f"unexpected column(s): "
                            f"{', '.join(extra)}", row=1, column=extra[0])
    if tuple(header) != schema.columns:
        raise RawInputError(path, "column-order", f"columns must be in the order "
                            f"{', '.join(schema.columns)}", row=1)


def _check_values(path: Path, df: pl.DataFrame, schema: Contract) -> None:
    for column in schema.numeric:
        for i, value in enumerate(df[column].to_list(), start=2):
            if value is None:
                continue
            if _FULLWIDTH.search(value):
                raise RawInputError(path, "full-width-digits", f"{value!r} uses full-width "
                                    "digits or punctuation; type ASCII digits", row=i,
                                    column=column)
            if _THOUSANDS.match(value):
                raise RawInputError(path, "thousands-separator", f"{value!r} has thousands "
                                    "separators; write the plain number", row=i, column=column)
            if not _NUMBER.match(value):
                raise RawInputError(path, "not-a-number", f"{value!r} is not a plain number",
                                    row=i, column=column)
            if schema.field(column).type == "integer" and not _INTEGER.match(value):
                raise RawInputError(path, "not-an-integer", f"{value!r} is not a whole number",
                                    row=i, column=column)
    for column in (f.name for f in schema.fields if f.type == "boolean"):
        for i, value in enumerate(df[column].to_list(), start=2):
            if value is not None and value.lower() not in _BOOLEAN:
                raise RawInputError(path, "not-a-boolean", f"{value!r} is not true or false",
                                    row=i, column=column)
