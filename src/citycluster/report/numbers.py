"""Numbers as a reader of each language writes them: separators, percentages, units, and the
compact forms (6015亿元, CNY 601.5 billion) through Babel's CLDR formats.

Shared by the prose, the tables, the charts' captions and the fact-check reasons, so one figure
is written the same way everywhere. Which words surround a number (``{n} people``, ``{n}人``)
is the catalog's ``units`` section; how the number itself looks is the locale's.
"""

from __future__ import annotations

import math

from babel.numbers import format_compact_decimal, format_decimal, format_percent

from citycluster.report.i18n import babel_locale, message, phrase

#: Base units whose large values are written in the compact form (万/亿, million/billion).
COMPACT_UNITS = frozenset({"CNY", "USD", "HKD", "MOP", "persons"})


def pct(x: float, lang: str, digits: int = 1) -> str:
    """A share as a percentage: 0.4512 -> '45.1%'."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(x, pattern, locale=babel_locale(lang))


def num(x: float, lang: str, digits: int = 2, signed: bool = False) -> str:
    """A number with the locale's separators and fixed decimals (a sign when ``signed``)."""
    body = "#,##0" + ("." + "0" * digits if digits else "")
    pattern = f"+{body};-{body}" if signed else body
    return format_decimal(x, pattern, locale=babel_locale(lang))


def interval(low: float | None, high: float | None, lang: str, digits: int = 3) -> str:
    """``low – high`` with fixed decimals; an open end shows as an empty side."""
    def side(v: float | None) -> str:
        return "" if v is None else num(v, lang, digits)

    return phrase(lang, "references", "range", low=side(low), high=side(high))


def with_unit(number: str, base_unit: str, lang: str) -> str:
    """A formatted number with the words of its unit (``12 km``, ``12公里``)."""
    return phrase(lang, "units", base_unit, n=number)


def quantity(value: float | None, base_unit: str, lang: str, signed: bool = False) -> str:
    """A normalised value for a reader: shares as %, years bare, others with separators."""
    if value is None:
        return ""
    if base_unit == "fraction":
        return format_percent(value, "#,##0.##%", locale=babel_locale(lang))
    if base_unit == "year":
        return str(int(value))
    digits = 0 if float(value).is_integer() or abs(value) >= 100 else 2
    return with_unit(num(value, lang, digits, signed), base_unit, lang)


def readable(value: float | None, base_unit: str, lang: str) -> str:
    """A figure in the words a reader uses: 6015亿元 / CNY 601.5 billion, 65 million people.

    Large amounts and populations take the locale's compact form with up to four significant
    digits; everything else is written as :func:`quantity`.
    """
    if value is None:
        return ""
    if base_unit not in COMPACT_UNITS or abs(value) < 1e4:
        return quantity(value, base_unit, lang)
    rounded = _significant(value, 4)
    compact = format_compact_decimal(rounded, format_type="long", fraction_digits=3,
                                     locale=babel_locale(lang))
    return with_unit(compact, base_unit, lang)


def axis_scale(kind: str, lang: str) -> tuple[float, str]:
    """How a chart axis shows large figures in this language: (divisor, unit words)."""
    scale = message(lang, "axis_scales", kind)
    return float(scale["divisor"]), str(scale["unit"])


def _significant(x: float, digits: int) -> float:
    if x == 0:
        return 0.0
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def date(value: object, lang: str) -> str:
    """A calendar date as the locale writes it in full (3 September 2025, 2025年9月3日); a bare
    year stays a year."""
    import datetime as dt

    from babel.dates import format_date

    if isinstance(value, dt.date):
        return format_date(value, "long", locale=babel_locale(lang))
    return str(value)
