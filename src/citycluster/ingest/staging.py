"""Ingest: the raw tables read strictly, normalised to base units, written as parquet.

Which files there are and what each column holds comes from the contracts in
``data/raw/datapackage.yaml`` (:mod:`citycluster.data.contracts`); a CSV no resource declares is
refused rather than silently skipped. Normalisation happens here and only here, through the unit
table, so every later step works in persons, CNY, km², km, hours and fractions. A unit the table
does not know yields a null base value (validation then names the row) rather than a crash, so all
problems are reported together.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from citycluster.data import contracts, published, units
from citycluster.data.rawcsv import RawInputError, read_raw_csv
from citycluster.publish import write_parquet_atomic

#: The column a unit-bearing number lives in; it is kept as printed and normalised.
VALUE_COLUMN = "value"


def _normalise(df: pl.DataFrame) -> pl.DataFrame:
    """Adds dimension, base_unit and value_base (exact multiplication, rounded once)."""
    def base(row: dict) -> float | None:
        if row["value"] is None or row["unit"] not in units.UNITS:
            return None
        return units.to_base_float(row["value"], row["unit"])

    known = {u: (e.dimension, e.base) for u, e in units.UNITS.items()}
    return df.with_columns(
        pl.col("unit").replace_strict({u: d for u, (d, _) in known.items()}, default=None)
        .alias("dimension"),
        pl.col("unit").replace_strict({u: b for u, (_, b) in known.items()}, default=None)
        .alias("base_unit"),
        pl.struct("value", "unit").map_elements(base, return_dtype=pl.Float64)
        .alias("value_base"),
    )


def _typed(df: pl.DataFrame, contract: contracts.Contract) -> pl.DataFrame:
    """Columns cast to their declared types (the reader has already checked each value)."""
    casts = []
    for f in contract.fields:
        if f.type == "integer":
            casts.append(pl.col(f.name).cast(pl.Int32))
        elif f.type == "boolean":
            flag = pl.col(f.name).str.to_lowercase()
            casts.append(pl.when(flag == "true").then(True).when(flag == "false").then(False)
                         .otherwise(None).alias(f.name))
        elif f.type == "number":  # a printed value (x-numeric) stays as typed, for its unit
            casts.append(pl.col(f.name).cast(pl.Float64))
    return df.with_columns(casts) if casts else df


def read_table(raw_dir: Path, table: str) -> pl.DataFrame:
    """Every file of one declared table, typed, each row tagged with its file and line."""
    package = contracts.load(raw_dir)
    frames = []
    for contract in package.table(table):
        df = read_raw_csv(raw_dir / contract.path, contract)
        frames.append(_typed(df, contract).with_row_index("source_row", offset=2).with_columns(
            pl.col("source_row").cast(pl.Int32),
            pl.lit(f"{contracts.shown(raw_dir)}/{contract.path}").alias("source_file")))
    df = pl.concat(frames, how="vertical")
    if VALUE_COLUMN in df.columns and "unit" in df.columns:
        df = _normalise(df)
    return df


def claim_bounds(claims: pl.DataFrame, approx_tolerance: float) -> pl.DataFrame:
    """Lower and upper bounds in base units implied by each qualifier.

    gt/ge give only a lower bound, lt/le only an upper one (strict or inclusive), eq a point, and
    approx a band of ``approx_tolerance`` (relative) either side. The bounds say what the
    article's wording commits to; the fact-check compares references against them.
    """
    v = pl.col("value_base")
    q = pl.col("qualifier")
    band = v.abs() * approx_tolerance
    lower = (pl.when(q.is_in(["gt", "ge", "eq"])).then(v)
             .when(q == "approx").then(v - band).otherwise(None))
    upper = (pl.when(q.is_in(["lt", "le", "eq"])).then(v)
             .when(q == "approx").then(v + band).otherwise(None))
    return claims.with_columns(
        lower.alias("lower_base"),
        upper.alias("upper_base"),
        (q != "gt").alias("lower_inclusive"),
        (q != "lt").alias("upper_inclusive"),
    )


def printed_agreement(claims: pl.DataFrame) -> pl.DataFrame:
    """Adds ``printed_number`` and whether it equals the magnitude of ``value``.

    The contract's printed-matches-value rule: a value edited without its printed text (or the
    reverse) is caught before the verdict silently flips.
    """
    numbers, agree = [], []
    for printed, value in claims.select("printed", "value").iter_rows():
        number = units.printed_number(printed or "")
        numbers.append(float(number) if number is not None else None)
        try:
            agree.append(None if number is None or value is None
                         else abs(units.parse_number(value)) == number)
        except ValueError:
            agree.append(None)
    return claims.with_columns(pl.Series("printed_number", numbers, dtype=pl.Float64),
                               pl.Series("printed_agrees", agree, dtype=pl.Boolean))


def change_years_agreement(links: pl.DataFrame) -> pl.DataFrame:
    """Adds ``change_years_ok``: a change link counts from an earlier base year to ``ref_year``.

    The contract's change-has-two-years rule; without it a change would silently compare one
    year's level with the claimed difference.
    """
    change = pl.col("use") == "change"
    both = pl.col("ref_year").is_not_null() & pl.col("ref_base_year").is_not_null()
    ok = (pl.when(change).then(both & (pl.col("ref_base_year") < pl.col("ref_year")))
          .otherwise(pl.col("ref_base_year").is_null()))
    return links.with_columns(ok.fill_null(False).alias("change_years_ok"))


def read_claims(raw_dir: Path, approx_tolerance: float) -> pl.DataFrame:
    """The claims ledger with printed values kept and base-unit values and bounds added."""
    return claim_bounds(printed_agreement(read_table(raw_dir, "claims")), approx_tolerance)


def stage_all(raw_dir: Path, staging_dir: Path, approx_tolerance: float) -> dict[str, pl.DataFrame]:
    """Read every declared table, derive bounds and shares, and write them all to staging.

    Staging is cleared first, so validation never audits a table left over from an older run.
    """
    from citycluster.ingest.backtest import backtest
    from citycluster.ingest.cluster_totals import city_cluster_shares
    from citycluster.ingest.estimates import projected
    from citycluster.ingest.place_names import place_names
    from citycluster.ingest.shares import build_shares

    package = contracts.load(raw_dir)
    if stray := package.undeclared_files():
        descriptor = f"{contracts.shown(raw_dir)}/{contracts.DESCRIPTOR}"
        raise RawInputError(stray[0], "undeclared-file", f"no resource in {descriptor} "
                            "declares this file; add one (or move the file out of the raw folder)")
    tables = {t: read_table(raw_dir, t) for t in package.tables() if t != "claims"}
    tables["claims"] = read_claims(raw_dir, approx_tolerance)
    tables["links"] = change_years_agreement(tables["links"])
    tables["shares"] = build_shares(tables["claims"], tables["reference"], tables["membership"],
                                    tables["coordinates"])
    tables["estimates"] = projected(tables["reference"], tables["membership"],
                                    tables["coordinates"])
    tables["estimates_backtest"] = backtest(tables["reference"], tables["coordinates"])
    tables["cluster_totals"] = city_cluster_shares(tables["reference"], tables["membership"],
                                                   tables["coordinates"], tables["estimates"])
    tables["place_names"] = place_names(tables)
    for name, frame in tables.items():
        published.check(name, frame, shape_only=True)  # its values are validation's to audit
    for old in staging_dir.glob("*.parquet"):
        old.unlink()
    for name, frame in tables.items():
        write_parquet_atomic(frame, staging_dir / f"{name}.parquet")  # never half-written
    return tables
