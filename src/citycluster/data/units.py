"""One unit table: every unit the raw tables use, its dimension, base unit and exact factor.

Factors are :class:`fractions.Fraction` and printed values are parsed as decimals, so 1.3万亿元
becomes exactly 1,300,000,000,000 CNY (binary floating point would give 1299999999999.9998).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from citycluster.errors import InputError


@dataclass(frozen=True)
class Unit:
    """A printed unit: what it measures, in which base unit, and by what exact factor."""

    dimension: str
    base: str
    factor: Fraction


_WAN = 10**4
_YI = 10**8
_MILE_KM = Fraction("1.609344")  # international mile, exact by definition

UNITS: dict[str, Unit] = {
    # people
    "人": Unit("population", "persons", Fraction(1)),
    "万人": Unit("population", "persons", Fraction(_WAN)),
    "亿人": Unit("population", "persons", Fraction(_YI)),
    "persons": Unit("population", "persons", Fraction(1)),
    "thousand persons": Unit("population", "persons", Fraction(10**3)),
    "million persons": Unit("population", "persons", Fraction(10**6)),
    "万人次": Unit("visits", "person_visits", Fraction(_WAN)),
    # money, each currency its own dimension (the one conversion, of Hong Kong's and Macao's
    # GDP for the line beside the Greater Bay Area, uses the rates below, never a share)
    "元": Unit("money_cny", "CNY", Fraction(1)),
    "亿元": Unit("money_cny", "CNY", Fraction(_YI)),
    "万亿元": Unit("money_cny", "CNY", Fraction(10**12)),
    "亿港元": Unit("money_hkd", "HKD", Fraction(_YI)),
    "亿澳门元": Unit("money_mop", "MOP", Fraction(_YI)),
    "亿美元": Unit("money_usd", "USD", Fraction(_YI)),
    "USD million": Unit("money_usd", "USD", Fraction(10**6)),
    "USD billion": Unit("money_usd", "USD", Fraction(10**9)),
    "USD trillion": Unit("money_usd", "USD", Fraction(10**12)),
    "JPY billion": Unit("money_jpy", "JPY", Fraction(10**9)),
    "JPY trillion": Unit("money_jpy", "JPY", Fraction(10**12)),
    "GBP million": Unit("money_gbp", "GBP", Fraction(10**6)),
    "GBP billion": Unit("money_gbp", "GBP", Fraction(10**9)),
    # exchange rates, each pair its own dimension
    "元/美元": Unit("rate_cny_usd", "CNY/USD", Fraction(1)),
    "港元/美元": Unit("rate_hkd_usd", "HKD/USD", Fraction(1)),
    "澳门元/港元": Unit("rate_mop_hkd", "MOP/HKD", Fraction(1)),
    # area
    "平方公里": Unit("area", "km2", Fraction(1)),
    "万平方公里": Unit("area", "km2", Fraction(_WAN)),
    "km2": Unit("area", "km2", Fraction(1)),
    "thousand km2": Unit("area", "km2", Fraction(10**3)),
    "ha": Unit("area", "km2", Fraction(1, 100)),
    "mi2": Unit("area", "km2", _MILE_KM**2),
    # length
    "公里": Unit("length", "km", Fraction(1)),
    "km": Unit("length", "km", Fraction(1)),
    "英里": Unit("length", "km", _MILE_KM),
    "mi": Unit("length", "km", _MILE_KM),
    # time
    "小时": Unit("duration", "hours", Fraction(1)),
    "hours": Unit("duration", "hours", Fraction(1)),
    "minutes": Unit("duration", "hours", Fraction(1, 60)),
    "年": Unit("calendar_year", "year", Fraction(1)),
    "year": Unit("calendar_year", "year", Fraction(1)),
    # shares and ratios
    "%": Unit("fraction", "fraction", Fraction(1, 100)),
    "fraction": Unit("fraction", "fraction", Fraction(1)),
    "倍": Unit("ratio", "ratio", Fraction(1)),
    "exponent": Unit("exponent", "exponent", Fraction(1)),  # power-law exponents (scaling β)
    # counts (the measure word says what is counted; the count itself is unitless)
    "个": Unit("count", "count", Fraction(1)),
    "座": Unit("count", "count", Fraction(1)),
    "家": Unit("count", "count", Fraction(1)),
    "颗": Unit("count", "count", Fraction(1)),
    "州": Unit("count", "count", Fraction(1)),
    "count": Unit("count", "count", Fraction(1)),
    "万台": Unit("count", "count", Fraction(_WAN)),
    "万片": Unit("count", "count", Fraction(_WAN)),
}


class UnitError(InputError):
    """A unit or a printed number that the unit table cannot interpret."""


def lookup(unit: str) -> Unit:
    """The table entry for a printed unit; unknown units are an error naming the valid ones."""
    try:
        return UNITS[unit]
    except KeyError:
        raise UnitError(f"unknown unit {unit!r}; known units: {', '.join(UNITS)}") from None


def parse_number(text: str) -> Fraction:
    """A printed number as an exact fraction: '1.3' -> 13/10, '1/3' -> 1/3, '-166' -> -166."""
    s = text.strip()
    try:
        if "/" in s:
            num, den = s.split("/", 1)
            return Fraction(Decimal(num.strip())) / Fraction(Decimal(den.strip()))
        return Fraction(Decimal(s))
    except (InvalidOperation, ValueError, ZeroDivisionError):
        raise UnitError(f"not a plain number: {text!r}") from None


def to_base(value: str, unit: str) -> Fraction:
    """The exact value in the unit's base unit."""
    return parse_number(value) * lookup(unit).factor


def to_base_float(value: str, unit: str) -> float:
    """:func:`to_base` rounded once, to the nearest double."""
    return float(to_base(value, unit))


_DIGITS_ZH = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_ARABIC = re.compile(r"\d+(?:\.\d+)?")
_CHINESE = re.compile(r"[零一二两三四五六七八九十百]+")


def _chinese_integer(text: str) -> int:
    """一 to 九百九十九, the forms an article uses for small counts (三个州, 十五, 二十一)."""
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS_ZH:
            current = _DIGITS_ZH[ch]
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
    return total + current


def printed_number(printed: str) -> Fraction | None:
    """The number a printed figure states: the first Arabic number, else a Chinese numeral.

    ``约45%`` gives 45, ``突破1.3万亿元`` 1.3, ``三分之一`` 1/3, ``三个州`` 3; a text with no
    number gives None. A handful of forms, so written here rather than taken from a library
    (cn2an would add a dependency for five claims).
    """
    if (m := _ARABIC.search(printed)) is not None:
        return Fraction(Decimal(m.group()))
    if "分之" in printed:
        denominator, _, numerator = printed.partition("分之")
        d, n = _CHINESE.findall(denominator), _CHINESE.findall(numerator)
        if d and n:
            return Fraction(_chinese_integer(n[0]), _chinese_integer(d[-1]))
    if (m := _CHINESE.search(printed)) is not None:
        return Fraction(_chinese_integer(m.group()))
    return None
