"""Labels that do not collide: which points of a scatter get their name printed.

Vega-Lite has no collision avoidance for text marks, so the choice is made here, in data
space mapped to the chart's pixels: labels are placed one by one in order of importance (to
the right of their point, vertically centred) and a label whose box would overlap one already
placed is left to the tooltip. The box is estimated from the text (Chinese characters a full
em, others about 0.6 em), which is what a browser test then checks for real.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import polars as pl

#: How far past the plot's edge a label may run: a chart stays within its width
#: (render.MAX_WIDTH) only if its labels stay near the plot.
OVERHANG = 16


def text_width(text: str, font_px: float) -> float:
    """Estimated rendered width of ``text`` in pixels."""
    return sum(font_px * (1.0 if unicodedata.east_asian_width(c) in "WF" else 0.62)
               for c in text)


def _pixel(value: float, domain: Sequence[float], size: float, log: bool) -> float:
    lo, hi = domain
    if log:
        value, lo, hi = math.log(value), math.log(lo), math.log(hi)
    return (value - lo) / (hi - lo) * size


def placed(data: pl.DataFrame, x: str, y: str, text: str, priority: str, *,
           x_domain: Sequence[float], y_domain: Sequence[float], width: float, height: float,
           log: bool = False, font_px: float = 11, dx: float = 7, pad: float = 2,
           sides: Sequence[str] = ("right",), avoid: Sequence[tuple[float, float]] = (),
           radius: float = 4) -> pl.DataFrame:
    """The rows whose labels fit without overlapping, most important first.

    Each label is tried on each of ``sides`` in turn (``right`` of its point, or ``left``,
    ending ``dx`` before it); the side it took is in the ``side`` column. A label also keeps
    clear of the points in ``avoid`` (data coordinates; every point of the scatter, drawn
    ``radius`` pixels wide), so no name covers a dot.
    """
    boxes: list[tuple[float, float, float, float]] = []
    for ax, ay in avoid:
        if log and (ax <= 0 or ay <= 0):
            continue
        px, py = _pixel(ax, x_domain, width, log), height - _pixel(ay, y_domain, height, log)
        boxes.append((px - radius, py - radius, px + radius, py + radius))
    keep: dict[str, str] = {}
    for row in data.sort(priority, descending=True, nulls_last=True).iter_rows(named=True):
        if row[x] is None or row[y] is None or (log and (row[x] <= 0 or row[y] <= 0)):
            continue
        px = _pixel(row[x], x_domain, width, log)
        py = height - _pixel(row[y], y_domain, height, log)
        w, h = text_width(str(row[text]), font_px), font_px * 1.25
        for side in sides:
            left = px + dx if side == "right" else px - dx - w
            box = (left - pad, py - h / 2 - pad, left + w + pad, py + h / 2 + pad)
            if box[2] > width + OVERHANG or box[0] < -OVERHANG:  # would run past the plot
                continue
            if all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1]
                   for b in boxes):
                boxes.append(box)
                keep[row[text]] = side
                break
    return data.filter(pl.col(text).is_in(list(keep))).with_columns(
        pl.col(text).replace_strict(keep, return_dtype=pl.String).alias("side"))
