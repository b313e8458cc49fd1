"""How one claim is judged against the figures it can be compared with, and why.

The rules of the fact-check (see :mod:`citycluster.factcheck`) in code: the interval a claim's
wording commits to, the band a rounded reference stands for, how a year is picked, what a bound
can and cannot say, and the reason each verdict gets, in English and Chinese from the same
numbers. Over 300 lines because each rule writes its own explanation beside it; the language
issue moves those sentences into catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from citycluster.formatting import readable

VERDICTS = ("consistent", "inconsistent", "unverifiable")


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


def ref_text(refs: list[Candidate], lang: str) -> str:
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
            f"beyond the {tol.max_year_gap}-year limit: {ref_text(group, 'en')}.",
            f"最接近的参考数据与文章年份({claim['year']}年)相差{gap}年,超出{tol.max_year_gap}"
            f"年的上限:{ref_text(group, 'zh')}。", group, "same")
    fits = civ.overlaps(reference_band([c.value for c in group], tol, group[0].base_unit))
    ref_en, ref_zh = ref_text(group, "en"), ref_text(group, "zh")
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
                f"Claimed {claimed_en} without a year; it matches {ref_text(undated, 'en')} "
                f"(undated); the latest dated figure, {ref_en}, differs.",
                f"文章称{claimed_zh}(未注明年份);与未注明年份的{ref_text(undated, 'zh')}相符;"
                f"最新的有年份数字{ref_zh}有所不同。", undated, "same")
    if claim["year"] is None:  # does it match an older figure instead?
        latest = group[0].year
        for year in sorted((y for y in groups if y is not None and y != latest), reverse=True):
            older = groups[year]
            if civ.overlaps(reference_band([c.value for c in older], tol, older[0].base_unit)):
                old_en, old_zh = ref_text(older, "en"), ref_text(older, "zh")
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
            extra_en = f" It matches {ref_text([alt], 'en')} instead."
            extra_zh = f"该数字与{ref_text([alt], 'zh')}相符。"
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
            f"and {readable(hi, 'fraction', 'en')} ({ref_text(chosen[:1], 'en')}), and every "
            "value in that range agrees with the claim.",
            f"文章称{claimed_zh};实际数字介于{readable(lo, 'fraction', 'zh')}与"
            f"{readable(hi, 'fraction', 'zh')}之间({ref_text(chosen[:1], 'zh')}),"
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
                f"Claimed {claimed_en}, beyond the {word_en} {ref_text([b], 'en')}.",
                f"文章称{claimed_zh},超出{word_zh}:{ref_text([b], 'zh')}。", [b], b.relation)
        parts_en.append(f"the {word_en} {ref_text([b], 'en')}")
        parts_zh.append(f"{word_zh}{ref_text([b], 'zh')}")
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
                       f"{ref_text(proxies, 'en')}.",
                       f"只有相关而非相同口径的数字:{ref_text(proxies, 'zh')}。",
                       proxies, "proxy")
    if cands and not usable:
        return Outcome("unverifiable",
                       "The references found are in other units than the claim.",
                       "找到的参考数据与文章数字单位不同,无法比较。", [], None)
    return Outcome("unverifiable", "No independent figure for this claim was found.",
                   "未找到可供核对的独立数字。", [], None)
