"""Ingest: the raw tables read strictly, normalised to base units, written as parquet.

Normalisation happens here and only here, through the unit table, so every later step works in
persons, CNY, km², km, hours and fractions. A unit the table does not know yields a null base value
(validation then names the row) rather than a crash, so all problems are reported together.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from citycluster import units
from citycluster.publish import write_parquet_atomic
from citycluster.rawcsv import read_raw_csv
from citycluster.schema import CLAIMS, LINKS, LINKS_FILE, MEMBERSHIP, MEMBERSHIP_FILE, REFERENCE

REFERENCE_DIR = "reference"


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


def read_claims(raw_dir: Path) -> pl.DataFrame:
    """The claims ledger with printed values kept and base-unit values added."""
    df = read_raw_csv(raw_dir / "claims.csv", CLAIMS)
    df = _normalise(df).with_columns(pl.col("year").cast(pl.Int32))
    return df.with_row_index("source_row", offset=2)


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


def reference_files(raw_dir: Path) -> list[Path]:
    """The long-format reference tables (every CSV in reference/ but the membership table)."""
    folder = raw_dir / REFERENCE_DIR
    return sorted(p for p in folder.glob("*.csv") if p.name != MEMBERSHIP_FILE)


def read_reference(raw_dir: Path) -> pl.DataFrame:
    """All reference statistics in one long table, each row tagged with its file."""
    frames = []
    for path in reference_files(raw_dir):
        df = read_raw_csv(path, REFERENCE).with_row_index("source_row", offset=2)
        frames.append(df.with_columns(pl.lit(path.name).alias("source_file")))
    if not frames:
        raise FileNotFoundError(f"no reference tables in {raw_dir / REFERENCE_DIR}")
    df = pl.concat(frames)
    return _normalise(df).with_columns(
        pl.col("year").cast(pl.Int32), pl.col("source_year").cast(pl.Int32)
    )


def read_membership(raw_dir: Path) -> pl.DataFrame:
    """Which provinces and cities each of the five clusters takes in, per its planning document."""
    path = raw_dir / REFERENCE_DIR / MEMBERSHIP_FILE
    df = read_raw_csv(path, MEMBERSHIP).with_row_index("source_row", offset=2)
    flag = pl.col("whole_province").str.to_lowercase()
    return df.with_columns(
        pl.col("document_year").cast(pl.Int32),
        pl.when(flag == "true").then(True).when(flag == "false").then(False)
        .otherwise(None).alias("whole_province"),  # anything else is left for validation
    )


def read_links(raw_dir: Path) -> pl.DataFrame:
    """The curated claim-to-reference links the fact-check uses beside exact matches."""
    df = read_raw_csv(raw_dir / LINKS_FILE, LINKS)
    return df.with_columns(pl.col("ref_year").cast(pl.Int32)).with_row_index(
        "source_row", offset=2)


def stage_all(raw_dir: Path, staging_dir: Path, approx_tolerance: float) -> dict[str, pl.DataFrame]:
    """Read every raw table, derive bounds and shares, and write them all to staging.

    Staging is cleared first, so validation never audits a table left over from an older run.
    """
    from citycluster.shares import build_shares

    claims = claim_bounds(read_claims(raw_dir), approx_tolerance)
    reference = read_reference(raw_dir)
    membership = read_membership(raw_dir)
    tables = {"claims": claims, "reference": reference, "membership": membership,
              "links": read_links(raw_dir),
              "shares": build_shares(claims, reference, membership)}
    for old in staging_dir.glob("*.parquet"):
        old.unlink()
    for name, frame in tables.items():
        write_parquet_atomic(frame, staging_dir / f"{name}.parquet")  # never half-written
    return tables
