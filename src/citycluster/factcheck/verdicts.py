"""How one claim is judged against the figures it can be compared with, and why.

The rules of the fact-check (see :mod:`citycluster.factcheck.claims`) in code: the interval a
claim's wording commits to, the band a rounded reference stands for, how a year is picked,
what a bound can and cannot say, and the reason each verdict gets. A reason is data (catalog
codes with their numbers, see :class:`Outcome`), so the analysis knows no language; the report
writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from citycluster.data import published

#: The verdicts, as the fact-check table's contract declares them (factcheck.verdict's enum in
#: data/processed.datapackage.yaml): the one place the words are written.
VERDICTS: tuple[str, ...] = published.contract("factcheck").field("verdict").enum or ()
CONSISTENT, INCONSISTENT, UNVERIFIABLE = VERDICTS


@dataclass(frozen=True)
class Tolerances:
    """How loosely figures are compared; every one is a run parameter."""

    approx: float = 0.05
    rounding: float = 0.02
    max_year_gap: int = 2
    stale_years: int = 5


@dataclass(frozen=True)
class Candidate:
    """One reference figure a claim can be compared with."""

    ref_id: str
    value: float
    year: int | None
    base_unit: str
    relation: str
    source_kind: str
    source: str
    #: what the figure is, for a reason: a ``references.<kind>`` catalog entry and its slots
    label: dict[str, Any]
    #: for a figure derived from others: how many figures of each source kind it rests on
    basis: tuple[tuple[str, int], ...] = ()
    #: an end of an interval computed here (an estimate's): its width already counts the
    #: figures' uncertainty, so it is not widened again for rounding
    computed: bool = False

    def kinds(self) -> tuple[tuple[str, int], ...]:
        """The source kinds behind this figure, with counts."""
        return self.basis or ((self.source_kind, 1),)


@dataclass
class Interval:
    """A closed or half-open interval of real numbers (None is unbounded)."""

    low: float | None
    high: float | None
    low_closed: bool = True
    high_closed: bool = True

    def overlaps(self, other: Interval) -> bool:
        def below(a: float | None, a_closed: bool, b: float | None, b_closed: bool) -> bool:
            """Is upper end a strictly below lower end b (no overlap)?"""
            if a is None or b is None:
                return False
            return a < b or (a == b and not (a_closed and b_closed))

        return not (below(self.high, self.high_closed, other.low, other.low_closed)
                    or below(other.high, other.high_closed, self.low, self.low_closed))

    def contains(self, other: Interval) -> bool:
        """Does this interval hold every point of ``other``?"""
        low_ok = self.low is None or (other.low is not None and other.low >= self.low)
        high_ok = self.high is None or (other.high is not None and other.high <= self.high)
        return low_ok and high_ok


def claim_interval(claim: dict[str, Any], qualifier: str, tol: Tolerances) -> Interval:
    """What the claim's wording commits to, in base units."""
    v = claim["value_base"]
    band = 1.0 if claim["base_unit"] == "year" else abs(v) * tol.approx  # "about 1944": ±1
    return {
        "eq": Interval(v, v), "approx": Interval(v - band, v + band),
        "gt": Interval(v, None, low_closed=False), "ge": Interval(v, None),
        "lt": Interval(None, v, high_closed=False), "le": Interval(None, v),
    }[qualifier]


def reference_band(values: list[float], tol: Tolerances, base_unit: str = "",
                   computed: bool = False) -> Interval:
    """The range of the references, widened by their own rounding (a year is exact, and so is
    an interval computed here)."""
    low, high = min(values), max(values)
    slack = 0.0 if base_unit == "year" or computed else tol.rounding
    return Interval(low - abs(low) * slack, high + abs(high) * slack)


@dataclass
class Outcome:
    """A verdict, the reason for it as catalog phrases, and the figures behind it.

    The reason is a list of parts, each a catalog code (``reasons.<code>``) and its arguments;
    the report writes it in the reader's language (:mod:`citycluster.report.reasons`).
    """

    verdict: str
    reason: list[dict[str, Any]]
    refs: list[Candidate] = field(default_factory=list)
    relation: str | None = None

    @property
    def code(self) -> str:
        """The code of the part that decides the verdict (the first)."""
        return str(self.reason[0]["code"])


def part(code: str, **args: Any) -> dict[str, Any]:
    """One phrase of a reason: a catalog code and the values its slots take."""
    return {"code": code, "args": args}


def ref_arg(refs: list[Candidate]) -> dict[str, Any]:
    """References of one year as a reason argument: what they are, when, how much, which."""
    values = sorted({r.value for r in refs})
    return {"type": "ref", "label": refs[0].label, "year": refs[0].year,
            "values": [values[0], values[-1]] if len(values) > 1 else values,
            "unit": refs[0].base_unit, "ids": sorted({r.ref_id for r in refs})}


def claimed_arg(claim: dict[str, Any], qualifier: str | None = None) -> dict[str, Any]:
    """The claim as a reason argument: its value in base units and the wording compared."""
    return {"type": "claimed", "value": claim["value_base"], "unit": claim["base_unit"],
            "qualifier": qualifier or claim["qualifier"]}


def gap_arg(gap: int | None) -> dict[str, Any]:
    """Years between claim and reference (written only when there are some)."""
    return {"type": "gap", "years": gap or 0}


def _by_year(cands: list[Candidate]) -> dict[int | None, list[Candidate]]:
    groups: dict[int | None, list[Candidate]] = {}
    for c in cands:
        groups.setdefault(c.year, []).append(c)
    return groups


def _pick_group(cands: list[Candidate], claim_year: int | None) -> tuple[
        list[Candidate], int | None, dict[int | None, list[Candidate]]]:
    """The references a claim is compared with first: same or nearest year, else the latest."""
    groups = _by_year(cands)
    dated = [y for y in groups if y is not None]
    if claim_year is not None and dated:
        year = min(dated, key=lambda y: (abs(y - claim_year), -y))
        return groups[year], abs(year - claim_year), groups
    if dated:
        return groups[max(dated)], None, groups
    return groups[None], None, groups


def judge_same(claim: dict[str, Any], cands: list[Candidate], alternatives: list[Candidate],
               qualifier: str, tol: Tolerances) -> Outcome:
    """Verdict against references of the same quantity."""
    civ = claim_interval(claim, qualifier, tol)
    claimed = claimed_arg(claim, qualifier)
    group, gap, groups = _pick_group(cands, claim["year"])
    if gap is not None and gap > tol.max_year_gap:
        return Outcome(UNVERIFIABLE, [part("too_far", gap=gap, year=claim["year"],
                                             limit=tol.max_year_gap, ref=ref_arg(group))],
                       group, "same")
    fits = civ.overlaps(reference_band([c.value for c in group], tol, group[0].base_unit))
    if fits:
        return Outcome(CONSISTENT, [part("consistent", claimed=claimed, ref=ref_arg(group),
                                           gap=gap_arg(gap))], group, "same")
    if claim["year"] is None and None in groups and group[0].year is not None:
        undated = groups[None]  # an undated claim may well mean an undated reference
        if civ.overlaps(reference_band([c.value for c in undated], tol, undated[0].base_unit)):
            return Outcome(CONSISTENT, [part("undated_match", claimed=claimed,
                                               undated=ref_arg(undated), latest=ref_arg(group))],
                           undated, "same")
    if claim["year"] is None:  # does it match an older figure instead?
        latest = group[0].year
        for year in sorted((y for y in groups if y is not None and y != latest), reverse=True):
            older = groups[year]
            if civ.overlaps(reference_band([c.value for c in older], tol, older[0].base_unit)):
                stale = latest is not None and latest - year >= tol.stale_years
                return Outcome(INCONSISTENT if stale else CONSISTENT,
                               [part("stale" if stale else "older_match", claimed=claimed,
                                     older=ref_arg(older), latest=ref_arg(group))],
                               group if stale else older, "same")
    ratio = (claim["value_base"] / group[0].value
             if group[0].value and claim["base_unit"] != "year" else None)
    reason = [part("inconsistent_ratio", claimed=claimed, ref=ref_arg(group), gap=gap_arg(gap),
                   ratio=ratio) if ratio else
              part("inconsistent", claimed=claimed, ref=ref_arg(group), gap=gap_arg(gap))]
    for alt in alternatives:
        if civ.overlaps(reference_band([alt.value], tol, alt.base_unit)):
            reason.append(part("matches_instead", ref=ref_arg([alt])))
            break
    return Outcome(INCONSISTENT, reason, group, "same")


def judge_bounds(claim: dict[str, Any], bounds: list[Candidate], qualifier: str,
                 tol: Tolerances) -> Outcome:
    """A bound can contradict a claim but never confirm it."""
    civ = claim_interval(claim, qualifier, tol)
    claimed = claimed_arg(claim, qualifier)
    chosen: list[Candidate] = []
    for relation in ("upper_bound", "lower_bound"):  # the bound of the nearest year, per kind
        of_kind = [b for b in bounds if b.relation == relation]
        if of_kind:
            group, gap, _ = _pick_group(of_kind, claim["year"])
            if gap is None or gap <= tol.max_year_gap:
                chosen += group
    if not chosen:
        return Outcome(UNVERIFIABLE, [part("bounds_too_far", limit=tol.max_year_gap)],
                       bounds, None)
    bracket = _bracket(chosen)
    computed = all(b.computed for b in chosen)
    if bracket is not None and civ.contains(
            reference_band(list(bracket), tol, chosen[0].base_unit, computed)):
        lo, hi = bracket
        share = chosen[0].base_unit
        return Outcome(CONSISTENT, [part(
            "bracketed", claimed=claimed, low={"type": "quantity", "value": lo, "unit": share},
            high={"type": "quantity", "value": hi, "unit": share}, ref=ref_arg(chosen[:1]))],
            chosen, "bounds")
    respected = []
    for b in chosen:
        band = reference_band([b.value], tol, b.base_unit, b.computed)
        limit = (Interval(None, band.high) if b.relation == "upper_bound"
                 else Interval(band.low, None))
        if not civ.overlaps(limit):
            return Outcome(INCONSISTENT, [part(f"beyond_{b.relation}", claimed=claimed,
                                                 ref=ref_arg([b]))], [b], b.relation)
        respected.append({"type": "bound", "relation": b.relation, "ref": ref_arg([b])})
    return Outcome(UNVERIFIABLE, [part("within_bounds", claimed=claimed,
                                         bounds={"type": "all", "items": respected})],
                   chosen, chosen[0].relation)


def _bracket(chosen: list[Candidate]) -> tuple[float, float] | None:
    """The tightest range the lower and upper bounds leave for the true figure."""
    lows = [b.value for b in chosen if b.relation == "lower_bound"]
    highs = [b.value for b in chosen if b.relation == "upper_bound"]
    if not lows or not highs:
        return None
    return max(lows), min(highs)


def judge(claim: dict[str, Any], cands: list[Candidate], tol: Tolerances,
          compare_as: str | None = None) -> Outcome:
    """The verdict for one claim given all its candidate references."""
    qualifier = compare_as or claim["qualifier"]
    usable = [c for c in cands if c.base_unit == claim["base_unit"]]
    same = [c for c in usable if c.relation == "same"]
    bounds = [c for c in usable if c.relation in ("upper_bound", "lower_bound")]
    proxies = [c for c in usable if c.relation == "proxy"]
    alternatives = [c for c in usable if c.relation == "alternative"]
    if bounds:  # a broken bound contradicts the claim whatever else agrees with it
        bounded = judge_bounds(claim, bounds, qualifier, tol)
        if bounded.verdict == INCONSISTENT or not same:
            return bounded
    if same:
        return judge_same(claim, same, alternatives, qualifier, tol)
    if proxies:
        return Outcome(UNVERIFIABLE, [part("proxy_only", ref=ref_arg(proxies))], proxies,
                       "proxy")
    if cands and not usable:
        return Outcome(UNVERIFIABLE, [part("other_units")], [], None)
    return Outcome(UNVERIFIABLE, [part("no_reference")], [], None)
