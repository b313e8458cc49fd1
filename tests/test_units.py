"""Every unit the raw tables use converts to its base unit exactly.

Expected values are written out here, not derived from the unit table, so a wrong factor in the
table fails a test.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest

from citycluster.data import units
from citycluster.paths import repo_root

CASES = [
    ("211", "万人", 2_110_000, "persons"),
    ("1", "亿人", 100_000_000, "persons"),
    ("334914895", "人", 334_914_895, "persons"),
    ("334914895", "persons", 334_914_895, "persons"),
    ("124352", "thousand persons", 124_352_000, "persons"),
    ("52", "million persons", 52_000_000, "persons"),
    ("3000", "万人次", 30_000_000, "person_visits"),
    ("5000", "亿元", 500_000_000_000, "CNY"),
    ("1.3", "万亿元", 1_300_000_000_000, "CNY"),
    ("129.4", "万亿元", 129_400_000_000_000, "CNY"),
    ("3.5", "元", Fraction(7, 2), "CNY"),
    ("31000", "亿港元", 3_100_000_000_000, "HKD"),
    ("3800", "亿澳门元", 380_000_000_000, "MOP"),
    ("160", "亿美元", 16_000_000_000, "USD"),
    ("117", "USD billion", 117_000_000_000, "USD"),
    ("2.9", "USD trillion", 2_900_000_000_000, "USD"),
    ("30", "USD million", 30_000_000, "USD"),
    ("595274.9", "JPY billion", 595_274_900_000_000, "JPY"),
    ("113.7", "JPY trillion", 113_700_000_000_000, "JPY"),
    ("2200", "GBP million", 2_200_000_000, "GBP"),
    ("2.5", "GBP billion", 2_500_000_000, "GBP"),
    ("21", "万平方公里", 210_000, "km2"),
    ("5.6", "万平方公里", 56_000, "km2"),
    ("1569", "平方公里", 1569, "km2"),
    ("377974.79", "km2", Fraction("377974.79"), "km2"),
    ("9.6", "thousand km2", 9600, "km2"),
    ("513860", "ha", Fraction(513860, 100), "km2"),
    ("1", "mi2", Fraction("2.589988110336"), "km2"),
    ("308", "公里", 308, "km"),
    ("457", "km", 457, "km"),
    ("5", "英里", Fraction("8.04672"), "km"),
    ("500", "mi", Fraction("804.672"), "km"),
    ("3", "小时", 3, "hours"),
    ("4", "hours", 4, "hours"),
    ("190", "minutes", Fraction(19, 6), "hours"),
    ("1989", "年", 1989, "year"),
    ("1964", "year", 1964, "year"),
    ("45", "%", Fraction(9, 20), "fraction"),
    ("99.99", "%", Fraction(9999, 10000), "fraction"),
    ("1/3", "fraction", Fraction(1, 3), "fraction"),
    ("2", "倍", 2, "ratio"),
    ("1.15", "exponent", Fraction(115, 100), "exponent"),
    ("20", "个", 20, "count"),
    ("8", "座", 8, "count"),
    ("24", "家", 24, "count"),
    ("4", "颗", 4, "count"),
    ("3", "州", 3, "count"),
    ("4", "count", 4, "count"),
    ("1", "万台", 10_000, "count"),
    ("3000", "万片", 30_000_000, "count"),
    ("7.0467", "元/美元", Fraction("7.0467"), "CNY/USD"),
    ("7.80", "港元/美元", Fraction("7.8"), "HKD/USD"),
    ("1.03", "澳门元/港元", Fraction("1.03"), "MOP/HKD"),
]


@pytest.mark.parametrize(("value", "unit", "expected", "base"), CASES)
def test_unit_converts_exactly(value: str, unit: str, expected: object, base: str) -> None:
    assert units.to_base(value, unit) == Fraction(expected)
    assert units.lookup(unit).base == base


def test_every_unit_in_the_table_is_tested() -> None:
    assert {u for _, u, _, _ in CASES} == set(units.UNITS)


def test_every_unit_the_raw_tables_use_is_in_the_table() -> None:
    raw = repo_root() / "data" / "raw"
    used = set(pl.read_csv(raw / "claims.csv", infer_schema=False)["unit"])
    for path in Path(raw / "reference").glob("*.csv"):
        if path.name != "cluster_membership.csv":
            used |= set(pl.read_csv(path, infer_schema=False)["unit"])
    assert used <= set(units.UNITS), used - set(units.UNITS)


def test_multipliers_are_exact_not_binary_floats() -> None:
    assert units.to_base_float("1.3", "万亿元") == 1_300_000_000_000.0
    assert units.to_base_float("1.1", "亿元") == 110_000_000.0
    assert 1.1 * 100_000_000 != 110_000_000  # what float multiplication would give


def test_negative_and_fractional_values() -> None:
    assert units.to_base("-166", "万人") == -1_660_000
    assert units.parse_number("1/3") == Fraction(1, 3)


@pytest.mark.parametrize("bad", ["", "1,300", "约45", "1/0", "abc"])
def test_unparseable_numbers_are_refused(bad: str) -> None:
    with pytest.raises(units.UnitError):
        units.parse_number(bad)


def test_unknown_unit_names_valid_ones() -> None:
    with pytest.raises(units.UnitError, match="known units: 人, 万人"):
        units.lookup("萬人")


def test_chinese_punctuation_is_set_beside_chinese_only() -> None:
    from citycluster.report.i18n import typeset

    assert typeset("zh", "文章称57%,超出上限:城市群(2023年)为54.09%") == \
        "文章称57%，超出上限：城市群（2023年）为54.09%"
    assert typeset("zh", "(95%区间 1.00 至 1.28);") == "（95%区间 1.00 至 1.28）；"
    assert typeset("zh", "6,500万人") == "6,500万人"          # a thousands separator stays
    assert typeset("zh", "Inner London (ONS, 1981)") == "Inner London (ONS, 1981)"
    assert typeset("en", "鹤壁,配套率") == "鹤壁,配套率"       # English has no such rule
