"""Fact-check: each claim against the independent figures, with a verdict and a reason.

The rules, all driven by parameters, in the order they are applied:

1. **Candidates.** References with the claim's own entity and metric, the curated links in
   ``data/raw/factcheck_links.csv`` (another slug, metric or year, or a bound), and for
   population and GDP shares the reference-built shares (which, from whole provinces, bound a
   cluster's share from above).
2. **Year.** A claim with a year is compared with the reference of that year or the nearest one,
   and the gap is stated; beyond ``max_year_gap`` years it is unverifiable. A claim without a
   year is compared with the latest reference; if it matches only an older one, it is
   ``stale_years`` or more out of date (inconsistent) or merely older (consistent, said so).
3. **Comparison.** The claim is the interval its wording implies (eq a point, approx ±
   ``approx_tolerance``, gt/ge/lt/le half-open). A reference stands for the band ±
   ``rounding_tolerance`` (published figures are rounded too); several references of the same
   year span their range. Overlap is consistent, no overlap inconsistent.
4. **Relations.** A bound can only contradict: a claim above an upper bound is inconsistent,
   otherwise unverifiable. A proxy is reported, never judged. An ``alternative`` reference only
   explains a mismatch ("it matches the earlier plan instead").
5. **Across claims.** A population claim over its country's total gives a share, checked against
   published shares; a count of member cities is checked against the planning documents.

Reasons are written in English and Chinese from the same numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from citycluster import published
from citycluster.formatting import readable
from citycluster.shares import parse_mix, source_mix

VERDICTS = ("consistent", "inconsistent", "unverifiable")
#: The fact-check table's columns, as data/processed.datapackage.yaml declares them.
COLUMNS = published.columns("factcheck")
#: Source kinds a careful reader would not rest a verdict on alone.
WEAK_KINDS = frozenset({"aggregator", "recalled"})
REF_ID = re.compile(r"\b[A-Z]{2,5}\d{3}\b")


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
    label_en: str
    label_zh: str
    #: for a figure derived from others: how many figures of each source kind it rests on
    basis: tuple[tuple[str, int], ...] = ()

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


def reference_band(values: list[float], tol: Tolerances, base_unit: str = "") -> Interval:
    """The range of the references, widened by their own rounding (a year is exact)."""
    low, high = min(values), max(values)
    slack = 0.0 if base_unit == "year" else tol.rounding
    return Interval(low - abs(low) * slack, high + abs(high) * slack)


@dataclass
class Outcome:
    """A verdict with its reason in both languages and the figures behind it."""

    verdict: str
    reason_en: str
    reason_zh: str
    refs: list[Candidate] = field(default_factory=list)
    relation: str | None = None


def _ref_text(refs: list[Candidate], lang: str) -> str:
    values = sorted({r.value for r in refs})
    unit = refs[0].base_unit
    shown = " – ".join(readable(v, unit, lang) for v in (values[0], values[-1])) \
        if len(values) > 1 else readable(values[0], unit, lang)
    year = refs[0].year
    label = refs[0].label_en if lang == "en" else refs[0].label_zh
    ids = ", ".join(sorted({r.ref_id for r in refs}))
    when = (f" ({year})" if year is not None else "") if lang == "en" else \
        (f"({year}年)" if year is not None else "")
    return f"{label}{when}: {shown} [{ids}]" if lang == "en" else \
        f"{label}{when}为{shown}〔{ids}〕"


def _claim_text(claim: dict[str, Any], lang: str, qualifier: str | None = None) -> str:
    q = qualifier or claim["qualifier"]
    value = readable(claim["value_base"], claim["base_unit"], lang)
    words = {"en": {"eq": "", "approx": "about ", "gt": "more than ", "ge": "at least ",
                    "lt": "less than ", "le": "at most "},
             "zh": {"eq": "", "approx": "约", "gt": "超过", "ge": "不少于", "lt": "不足",
                    "le": "不超过"}}[lang]
    return words[q] + value


def _gap_text(gap: int | None, lang: str) -> str:
    if not gap:
        return ""
    return (f" (a gap of {gap} year{'s' if gap > 1 else ''})" if lang == "en"
            else f"(相差{gap}年)")


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
    claimed_en = _claim_text(claim, "en", qualifier)
    claimed_zh = _claim_text(claim, "zh", qualifier)
    group, gap, groups = _pick_group(cands, claim["year"])
    if gap is not None and gap > tol.max_year_gap:
        return Outcome(
            "unverifiable",
            f"The nearest reference is {gap} years from the claim's year {claim['year']}, "
            f"beyond the {tol.max_year_gap}-year limit: {_ref_text(group, 'en')}.",
            f"最接近的参考数据与文章年份({claim['year']}年)相差{gap}年,超出{tol.max_year_gap}"
            f"年的上限:{_ref_text(group, 'zh')}。", group, "same")
    fits = civ.overlaps(reference_band([c.value for c in group], tol, group[0].base_unit))
    ref_en, ref_zh = _ref_text(group, "en"), _ref_text(group, "zh")
    if fits:
        return Outcome("consistent",
                       f"Claimed {claimed_en}; {ref_en}{_gap_text(gap, 'en')}: consistent.",
                       f"文章称{claimed_zh};{ref_zh}{_gap_text(gap, 'zh')}:相符。",
                       group, "same")
    if claim["year"] is None and None in groups and group[0].year is not None:
        undated = groups[None]  # an undated claim may well mean an undated reference
        if civ.overlaps(reference_band([c.value for c in undated], tol, undated[0].base_unit)):
            return Outcome(
                "consistent",
                f"Claimed {claimed_en} without a year; it matches {_ref_text(undated, 'en')} "
                f"(undated); the latest dated figure, {ref_en}, differs.",
                f"文章称{claimed_zh}(未注明年份);与未注明年份的{_ref_text(undated, 'zh')}相符;"
                f"最新的有年份数字{ref_zh}有所不同。", undated, "same")
    if claim["year"] is None:  # does it match an older figure instead?
        latest = group[0].year
        for year in sorted((y for y in groups if y is not None and y != latest), reverse=True):
            older = groups[year]
            if civ.overlaps(reference_band([c.value for c in older], tol, older[0].base_unit)):
                old_en, old_zh = _ref_text(older, "en"), _ref_text(older, "zh")
                if latest is not None and latest - year >= tol.stale_years:
                    return Outcome(
                        "inconsistent",
                        f"Claimed {claimed_en} without a year; it matches {old_en}, but the "
                        f"latest figure is {ref_en}: out of date.",
                        f"文章称{claimed_zh}(未注明年份);与{old_zh}相符,但最新数字为{ref_zh}:"
                        "数字已过时。", group, "same")
                return Outcome(
                    "consistent",
                    f"Claimed {claimed_en} without a year; it matches {old_en}; the latest "
                    f"figure, {ref_en}, differs.",
                    f"文章称{claimed_zh}(未注明年份);与{old_zh}相符;最新数字{ref_zh}有所不同。",
                    older, "same")
    extra_en = extra_zh = ""
    for alt in alternatives:
        if civ.overlaps(reference_band([alt.value], tol, alt.base_unit)):
            extra_en = f" It matches {_ref_text([alt], 'en')} instead."
            extra_zh = f"该数字与{_ref_text([alt], 'zh')}相符。"
            break
    ratio = (claim["value_base"] / group[0].value
             if group[0].value and claim["base_unit"] != "year" else None)
    off = f" (the claim is {ratio:.2f}× the reference)" if ratio else ""
    off_zh = f"(文章数字为参考值的{ratio:.2f}倍)" if ratio else ""
    return Outcome("inconsistent",
                   f"Claimed {claimed_en}; {ref_en}{_gap_text(gap, 'en')}{off}.{extra_en}",
                   f"文章称{claimed_zh};{ref_zh}{_gap_text(gap, 'zh')}{off_zh}。{extra_zh}",
                   group, "same")


def judge_bounds(claim: dict[str, Any], bounds: list[Candidate], qualifier: str,
                 tol: Tolerances) -> Outcome:
    """A bound can contradict a claim but never confirm it."""
    civ = claim_interval(claim, qualifier, tol)
    claimed_en = _claim_text(claim, "en", qualifier)
    claimed_zh = _claim_text(claim, "zh", qualifier)
    parts_en, parts_zh = [], []
    chosen: list[Candidate] = []
    for relation in ("upper_bound", "lower_bound"):  # the bound of the nearest year, per kind
        of_kind = [b for b in bounds if b.relation == relation]
        if of_kind:
            group, gap, _ = _pick_group(of_kind, claim["year"])
            if gap is None or gap <= tol.max_year_gap:
                chosen += group
    if not chosen:
        return Outcome("unverifiable",
                       f"Only bounds more than {tol.max_year_gap} years from the claim exist.",
                       f"只有与文章年份相差超过{tol.max_year_gap}年的上下限数字。", bounds, None)
    bracket = _bracket(chosen)
    if bracket is not None and civ.contains(
            reference_band(list(bracket), tol, chosen[0].base_unit)):
        lo, hi = bracket
        return Outcome(
            "consistent",
            f"Claimed {claimed_en}; the figure lies between {readable(lo, 'fraction', 'en')} "
            f"and {readable(hi, 'fraction', 'en')} ({_ref_text(chosen[:1], 'en')}), and every "
            "value in that range agrees with the claim.",
            f"文章称{claimed_zh};实际数字介于{readable(lo, 'fraction', 'zh')}与"
            f"{readable(hi, 'fraction', 'zh')}之间({_ref_text(chosen[:1], 'zh')}),"
            "该范围内的任何数值都与文章相符。", chosen, "bounds")
    for b in chosen:
        band = reference_band([b.value], tol, b.base_unit)
        limit = (Interval(None, band.high) if b.relation == "upper_bound"
                 else Interval(band.low, None))
        word_en = "upper bound" if b.relation == "upper_bound" else "lower bound"
        word_zh = "上限" if b.relation == "upper_bound" else "下限"
        if not civ.overlaps(limit):
            return Outcome(
                "inconsistent",
                f"Claimed {claimed_en}, beyond the {word_en} {_ref_text([b], 'en')}.",
                f"文章称{claimed_zh},超出{word_zh}:{_ref_text([b], 'zh')}。", [b], b.relation)
        parts_en.append(f"the {word_en} {_ref_text([b], 'en')}")
        parts_zh.append(f"{word_zh}{_ref_text([b], 'zh')}")
    return Outcome(
        "unverifiable",
        f"Claimed {claimed_en}; it respects {' and '.join(parts_en)}, which cannot confirm it.",
        f"文章称{claimed_zh};未超出{'与'.join(parts_zh)},但上下限无法证实该数字。",
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
        if bounded.verdict == "inconsistent" or not same:
            return bounded
    if same:
        return judge_same(claim, same, alternatives, qualifier, tol)
    if proxies:
        return Outcome("unverifiable",
                       f"Only a related figure exists, not the same quantity: "
                       f"{_ref_text(proxies, 'en')}.",
                       f"只有相关而非相同口径的数字:{_ref_text(proxies, 'zh')}。",
                       proxies, "proxy")
    if cands and not usable:
        return Outcome("unverifiable",
                       "The references found are in other units than the claim.",
                       "找到的参考数据与文章数字单位不同,无法比较。", [], None)
    return Outcome("unverifiable", "No independent figure for this claim was found.",
                   "未找到可供核对的独立数字。", [], None)


def _source(row: dict[str, Any]) -> str:
    return f"{row['source_publisher']}, {row['source_document']}"


def candidates(claim: dict[str, Any], reference: pl.DataFrame, links: pl.DataFrame,
               shares: pl.DataFrame,
               cluster_totals: pl.DataFrame | None = None) -> tuple[list[Candidate], str | None]:
    """Every reference a claim can be compared with, and a qualifier override if linked."""
    out: list[Candidate] = []

    def add(rows: pl.DataFrame, relation: str, use: str = "value") -> None:
        for r in rows.iter_rows(named=True):
            if use == "year" and r["year"] is None:
                continue  # an undated row has no year to compare
            value = float(r["year"]) if use == "year" else r["value_base"]
            unit = "year" if use == "year" else r["base_unit"]
            if value is None:
                continue
            out.append(Candidate(r["ref_id"], value, r["year"], unit, relation, r["source_kind"],
                                 _source(r), r["entity_en"], r["entity_zh"] or r["entity_en"]))

    mine = links.filter(pl.col("claim_id") == claim["claim_id"])
    if not (mine["relation"] == "same").any():  # a curated same-quantity link replaces these
        add(reference.filter(pl.col("entity_id") == claim["entity_id"],
                             pl.col("metric") == claim["metric"]), "same")
    compare_as = None
    for link in mine.iter_rows(named=True):
        rows = reference.filter(pl.col("entity_id") == link["ref_entity_id"],
                                pl.col("metric") == link["ref_metric"])
        if link["use"] == "change":
            out.extend(_changes(rows, link["ref_base_year"], link["ref_year"], link["relation"]))
        else:
            if link["ref_year"] is not None:
                rows = rows.filter(pl.col("year") == link["ref_year"])
            add(rows, link["relation"], link["use"])
        compare_as = link["compare_as"] or compare_as
    if claim["metric"] in ("pop_share", "gdp_share"):
        col = claim["metric"]
        src = "pop_source" if col == "pop_share" else "gdp_source"
        for s in shares.filter(pl.col("entity_id") == claim["entity_id"],
                               pl.col("origin") == "reference").iter_rows(named=True):
            whole = s["boundary"].startswith("whole provinces")
            out.append(Candidate(
                s[src], s[col], s["year"], "fraction", "upper_bound" if whole else "same",
                "derived", s["boundary"],
                f"{s['entity_en']} ({'whole provinces' if whole else 'reference'})",
                f"{s['entity_zh']}({'整省口径' if whole else '参考数据'})",
                _basis_of(s[src], reference)))
        out.extend(_city_candidates(claim, cluster_totals))
    return out, compare_as


def _changes(rows: pl.DataFrame, base_year: int, year: int, relation: str) -> list[Candidate]:
    """The change from ``base_year`` to ``year``, one per vintage both years share.

    Like is paired with like: a census count is never subtracted from a mid-year estimate,
    which would mix a count with a model of the population.
    """
    out = []
    for (vintage,), group in rows.group_by("vintage", maintain_order=True):
        start = group.filter(pl.col("year") == base_year).sort("ref_id")
        end = group.filter(pl.col("year") == year).sort("ref_id")
        if start.is_empty() or end.is_empty():
            continue
        a, b = start.row(0, named=True), end.row(0, named=True)
        if a["base_unit"] != b["base_unit"]:
            continue
        kinds = {a["source_kind"], b["source_kind"]}
        basis = tuple(sorted(Counter([a["source_kind"], b["source_kind"]]).items()))
        out.append(Candidate(
            f"{b['ref_id']}−{a['ref_id']}", b["value_base"] - a["value_base"], year,
            b["base_unit"], relation, ", ".join(sorted(kinds)),
            f"{_source(b)} (change since {base_year}, {vintage or 'unlabelled'})",
            f"{b['entity_en']}, change {base_year}–{year} ({vintage or 'unlabelled'})",
            f"{b['entity_zh'] or b['entity_en']}{base_year}–{year}年变化({vintage or '未标注'})",
            basis))
    return out


def _basis_of(source: str, reference: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    """The source kinds of the reference rows a derived figure names (``sum of PROV002, ...``)."""
    ids = set(REF_ID.findall(source or ""))
    kinds = reference.filter(pl.col("ref_id").is_in(list(ids)))["source_kind"].to_list()
    return tuple(sorted(Counter(kinds).items()))


def _city_candidates(claim: dict[str, Any],
                     cluster_totals: pl.DataFrame | None) -> list[Candidate]:
    """A cluster's share from its member cities: the figure where every member is known, else
    the bounds that the known members and the known non-members allow."""
    if cluster_totals is None or cluster_totals.is_empty():
        return []
    col = claim["metric"]
    rows = cluster_totals.filter(pl.col("entity_id") == claim["entity_id"])
    out = []
    for r in rows.iter_rows(named=True):
        low, high = r[f"{col}_low"], r[f"{col}_high"]
        known = r["members_known_population" if col == "pop_share" else "members_known_gdp"]
        en = f"{r['entity_en']} (member cities, {known} of {r['members']} known)"
        zh = f"{r['entity_zh']}(按成员城市,{r['members']}个中已知{known}个)"
        src = "sum of member cities in china_cities_2023.csv over the national total"
        ref = r["pop_source" if col == "pop_share" else "gdp_source"]
        basis = parse_mix(r["pop_source_kinds" if col == "pop_share" else "gdp_source_kinds"])
        if low == high:
            out.append(Candidate(ref, low, r["year"], "fraction", "same", "derived", src,
                                 en, zh, basis))
        else:
            out.append(Candidate(ref, low, r["year"], "fraction", "lower_bound", "derived",
                                 src, en, zh, basis))
            out.append(Candidate(ref, high, r["year"], "fraction", "upper_bound", "derived",
                                 src, en, zh, basis))
    return out


def check_claims(claims: pl.DataFrame, reference: pl.DataFrame, links: pl.DataFrame,
                 shares: pl.DataFrame, tol: Tolerances,
                 cluster_totals: pl.DataFrame | None = None) -> list[dict[str, Any]]:
    """One fact-check row per claim."""
    rows = []
    for claim in claims.sort("claim_id").iter_rows(named=True):
        cands, compare_as = candidates(claim, reference, links, shares, cluster_totals)
        outcome = judge(claim, cands, tol, compare_as)
        rows.append(_row(claim, "direct", outcome, tol, compare_as))
    return rows


def _row(claim: dict[str, Any], check: str, o: Outcome, tol: Tolerances,
         compare_as: str | None = None) -> dict[str, Any]:
    civ = claim_interval(claim, compare_as or claim["qualifier"], tol)
    ref = o.refs[0] if o.refs else None
    values = [r.value for r in o.refs]
    # a ratio means something only against the same quantity, and not between two years
    comparable = bool(values) and o.relation == "same" and claim["base_unit"] != "year"
    return {
        "claim_id": claim["claim_id"], "check": check, "paragraph": claim["paragraph"],
        "entity": claim["entity_en"], "entity_zh": claim["entity_zh"],
        "metric": claim["metric"], "claimed": claim["printed"],
        "claimed_low": civ.low, "claimed_high": civ.high,
        "reference": _ref_text(o.refs, "en") if o.refs else None,
        "reference_value": (sum(values) / len(values)) if comparable else None,
        "reference_year": ref.year if ref else None,
        "year_gap": (abs(ref.year - claim["year"]) if ref and ref.year is not None
                     and claim["year"] is not None else None),
        "unit": claim["base_unit"], "relation": o.relation, "verdict": o.verdict,
        "reason": o.reason_en, "reason_zh": o.reason_zh,
        "source": "; ".join(dict.fromkeys(f"{r.ref_id}: {r.source}" for r in o.refs)) or None,
        "source_kind": ", ".join(sorted({r.source_kind for r in o.refs})) or None,
        "source_mix": source_mix(k for r in o.refs for k, n in r.kinds() for _ in range(n))
                      or None,
        # a verdict (not a mere lack of one) whose every underlying figure is weak
        "weak_basis": bool(o.refs) and o.verdict != "unverifiable"
                      and {k for r in o.refs for k, _ in r.kinds()} <= WEAK_KINDS,
        "ratio": (claim["value_base"] / (sum(values) / len(values))
                  if comparable and sum(values) else None),
    }


def implied_share_checks(claims: pl.DataFrame, reference: pl.DataFrame,
                         tol: Tolerances) -> list[dict[str, Any]]:
    """A population claim over its country's total, against published population shares."""
    nat = reference.filter(pl.col("entity_type") == "country", pl.col("metric") == "population")
    rows = []
    for claim in claims.filter(pl.col("metric") == "population").iter_rows(named=True):
        totals = nat.filter(pl.col("country") == claim["country"]).sort("year")
        published = reference.filter(pl.col("entity_id") == claim["entity_id"],
                                     pl.col("metric") == "pop_share")
        if totals.is_empty() or published.is_empty():
            continue
        same_year = (totals.filter(pl.col("year") == claim["year"]) if claim["year"] is not None
                     else totals.clear())
        # the national count of the claim's year; an undated claim takes the latest count
        total = (same_year if not same_year.is_empty() else totals).row(-1, named=True)
        share = dict(claim, metric="pop_share", value_base=claim["value_base"] / total[
            "value_base"], base_unit="fraction",
            printed=f"{claim['printed']} / {total['ref_id']}")
        cands = [Candidate(r["ref_id"], r["value_base"], r["year"], "fraction", "same",
                           r["source_kind"], _source(r), r["entity_en"],
                           r["entity_zh"] or r["entity_en"])
                 for r in published.iter_rows(named=True)]
        o = judge(share, cands, tol)
        pre_en = (f"Implied by {claim['claim_id']} over the national population "
                  f"({total['ref_id']}, {total['year']}): "
                  f"{readable(share['value_base'], 'fraction', 'en')}. ")
        pre_zh = (f"由{claim['claim_id']}除以全国人口({total['ref_id']},{total['year']}年)"
                  f"推得{readable(share['value_base'], 'fraction', 'zh')}。")
        o = Outcome(o.verdict, pre_en + o.reason_en, pre_zh + o.reason_zh, o.refs, o.relation)
        rows.append(_row(share, "implied_share", o, tol))
    return rows


def member_count_checks(claims: pl.DataFrame, membership: pl.DataFrame,
                        tol: Tolerances) -> list[dict[str, Any]]:
    """A count of a cluster's cities against the cities its planning documents list."""
    rows = []
    for claim in claims.filter(pl.col("metric") == "count_cities").iter_rows(named=True):
        # a plan that lists whole provinces does not enumerate its cities, so it cannot count
        plans = (membership.filter(pl.col("cluster_id") == claim["entity_id"])
                 .group_by("planning_document", "document_year")
                 .agg((pl.col("member_level") != "province").sum().alias("members"),
                      (pl.col("member_level") == "province").any().alias("by_province"),
                      pl.col("source_kind").first())
                 .filter(~pl.col("by_province")).sort("document_year"))
        if plans.is_empty():
            continue
        cands = [Candidate(f"{p['planning_document']} ({p['document_year']})",
                           float(p["members"]), p["document_year"], "count", "same",
                           p["source_kind"], "data/raw/reference/cluster_membership.csv",
                           f"cities listed in {p['planning_document']}",
                           f"{p['planning_document']}所列城市")
                 for p in plans.iter_rows(named=True)]
        o = judge(claim, cands, tol)
        rows.append(_row(claim, "member_count", o, tol))
    return rows


def run_factcheck(claims: pl.DataFrame, reference: pl.DataFrame, links: pl.DataFrame,
                  shares: pl.DataFrame, membership: pl.DataFrame,
                  tol: Tolerances, cluster_totals: pl.DataFrame | None = None) -> pl.DataFrame:
    """All checks, direct and across claims, in the factcheck.csv contract."""
    rows = (check_claims(claims, reference, links, shares, tol, cluster_totals)
            + implied_share_checks(claims, reference, tol)
            + member_count_checks(claims, membership, tol))
    return pl.DataFrame(rows, schema=published.schema("factcheck")).select(COLUMNS)
