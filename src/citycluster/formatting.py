"""Numbers as a reader should see them, in English or Chinese: separators, units, percentages.

Shared by the report prose, its tables and the fact-check reasons, so one figure is written the
same way everywhere.
"""

from __future__ import annotations

BASE_UNITS = {"en": {"CNY": "CNY", "USD": "USD", "persons": "people", "km": "km",
                     "km2": "km²", "hours": "h", "count": "", "ratio": "×", "exponent": "",
                     "person_visits": "visits"},
              "zh": {"CNY": "元", "USD": "美元", "persons": "人", "km": "公里",
                     "km2": "平方公里", "hours": "小时", "count": "", "ratio": "倍",
                     "exponent": "", "person_visits": "人次"}}


def pct(x: float, digits: int = 1) -> str:
    """A share as a percentage: 0.4512 -> '45.1%'."""
    return f"{x * 100:.{digits}f}%"


def num(x: float, digits: int = 2) -> str:
    """A number with thousands separators and fixed decimals."""
    return f"{x:,.{digits}f}"


def quantity(value: float | None, base_unit: str, lang: str) -> str:
    """A normalised value for a reader: shares as %, years bare, others with separators."""
    if value is None:
        return ""
    if base_unit == "fraction":
        return f"{value * 100:,.2f}".rstrip("0").rstrip(".") + "%"
    if base_unit == "year":
        return str(int(value))
    digits = 0 if float(value).is_integer() or abs(value) >= 100 else 2
    unit = BASE_UNITS[lang].get(base_unit, base_unit)
    space = "" if lang == "zh" else " "
    return f"{value:,.{digits}f}" + (f"{space}{unit}" if unit else "")


def interval(low: float | None, high: float | None, digits: int = 3) -> str:
    """``low – high`` with fixed decimals; an open end shows as an empty side."""
    def fmt(v: float | None) -> str:
        return "" if v is None else f"{v:,.{digits}f}"

    return f"{fmt(low)} – {fmt(high)}"


_SCALES = {"en": ((1e12, " trillion"), (1e9, " billion"), (1e6, " million")),
           "zh": ((1e12, "万亿"), (1e8, "亿"), (1e4, "万"))}
_PREFIX_EN = {"CNY": "CNY ", "USD": "USD "}


def readable(value: float | None, base_unit: str, lang: str) -> str:
    """A figure in the words a reader uses: 6,015亿元 / CNY 601.5 billion, 65 million people.

    Large amounts and populations are scaled (万/亿/万亿 in Chinese, million/billion/trillion in
    English) and shown with up to four significant digits; everything else as :func:`quantity`.
    """
    if value is None:
        return ""
    if base_unit not in ("CNY", "USD", "persons") or abs(value) < 1e4:
        return quantity(value, base_unit, lang)
    factor, word = next(((f, w) for f, w in _SCALES[lang] if abs(value) >= f), (1.0, ""))
    scaled_value = value / factor
    scaled = f"{scaled_value:,.4g}" if abs(scaled_value) < 1e4 else f"{scaled_value:,.0f}"
    if lang == "zh":
        return f"{scaled}{word}{BASE_UNITS['zh'][base_unit]}"
    unit = BASE_UNITS["en"][base_unit]
    if base_unit in _PREFIX_EN:
        return f"{_PREFIX_EN[base_unit]}{scaled}{word}"
    return f"{scaled}{word} {unit}"
