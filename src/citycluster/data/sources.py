"""How many figures of each source kind a derived figure rests on, written and read back.

A sum over 90 cities is only as good as the copies its figures were taken from; the mix travels
with the derived figure (``aggregator 68, news 7``) so a verdict built on it can say so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

#: A reference row's id as it appears in a derived figure's text (``sum of PROV002, ...``) or
#: in prose: the raw contract's ref_id pattern, bounded by anything but a Latin letter or digit,
#: since Chinese text runs on without spaces (FOR049的).
REF_ID = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,5}\d{3,}(?![0-9])")


def source_mix(kinds: Iterable[str | None]) -> str:
    """How many figures of each source kind a sum rests on, most frequent first
    (``aggregator 41, news 6``), so a reader can weigh a derived figure by what it is made of."""
    counts = Counter(k or "unknown" for k in kinds)
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def parse_mix(mix: str | None) -> tuple[tuple[str, int], ...]:
    """The pairs :func:`source_mix` wrote, back as (kind, count)."""
    pairs = []
    for part in (mix or "").split(", "):
        if part:
            kind, _, n = part.rpartition(" ")
            pairs.append((kind, int(n)))
    return tuple(pairs)
