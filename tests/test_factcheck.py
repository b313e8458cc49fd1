"""Fact-check rules on hand-made claims: each verdict, and the edges of each qualifier."""

from __future__ import annotations

import json

import polars as pl
import pytest

from citycluster.factcheck import candidates
from citycluster.factcheck import claims as fc
from citycluster.report.names import Names
from citycluster.report.reasons import reason

NAMES = pl.DataFrame({"entity_id": ["x", "x", "us_b", "us_b", "cn_yrd", "cn_yrd", "gb_in",
                                    "gb_in"],
                      "lang": ["en", "zh"] * 4,
                      "name": ["X", "甲", "B", "乙", "YRD", "长三角", "Inner London", "内伦敦"]})
LABEL = {"kind": "entity", "entity_id": "x"}


def written(outcome_or_row: fc.Outcome | dict, lang: str = "en") -> str:
    """The reason as a report in ``lang`` writes it."""
    args = (outcome_or_row["reason_args"] if isinstance(outcome_or_row, dict)
            else json.dumps(outcome_or_row.reason))
    return reason(args, Names(NAMES, lang))

EXACT = fc.Tolerances(approx=0.05, rounding=0.0, max_year_gap=2, stale_years=5)
LOOSE = fc.Tolerances(approx=0.05, rounding=0.02, max_year_gap=2, stale_years=5)


def claim(value: float, qualifier: str = "eq", year: int | None = 2023,
          unit: str = "persons") -> dict:
    return {"claim_id": "C900", "paragraph": "P001", "entity_id": "x", "entity_en": "X",
            "entity_zh": "甲", "metric": "population", "printed": str(value), "country": "CHN",
            "value_base": value, "base_unit": unit, "qualifier": qualifier, "year": year}


def ref(value: float, year: int | None = 2023, relation: str = "same", ref_id: str = "R1",
        unit: str = "persons") -> fc.Candidate:
    return fc.Candidate(ref_id, value, year, unit, relation, "primary", "publisher, table",
                        LABEL)


@pytest.mark.parametrize(("qualifier", "value", "reference", "verdict"), [
    ("eq", 100, 100, "consistent"),
    ("eq", 100, 100.5, "inconsistent"),          # exact means exact when rounding is 0
    ("gt", 100, 100, "inconsistent"),            # "more than 100" excludes 100
    ("gt", 100, 100.01, "consistent"),
    ("ge", 100, 100, "consistent"),
    ("ge", 100, 99.99, "inconsistent"),
    ("lt", 100, 100, "inconsistent"),
    ("lt", 100, 99.99, "consistent"),
    ("le", 100, 100, "consistent"),
    ("le", 100, 100.01, "inconsistent"),
    ("approx", 100, 105, "consistent"),          # the edge of ±5% is inside
    ("approx", 100, 95, "consistent"),
    ("approx", 100, 105.01, "inconsistent"),
    ("approx", 100, 94.99, "inconsistent"),
])
def test_qualifier_edges(qualifier: str, value: float, reference: float, verdict: str) -> None:
    outcome = fc.judge(claim(value, qualifier), [ref(reference)], EXACT)
    assert outcome.verdict == verdict, written(outcome)


def test_rounding_tolerance_widens_the_reference() -> None:
    assert fc.judge(claim(211), [ref(214.85)], LOOSE).verdict == "consistent"   # 1.8% off
    assert fc.judge(claim(211), [ref(216)], LOOSE).verdict == "inconsistent"    # 2.3% off
    assert fc.judge(claim(100, "gt"), [ref(100)], LOOSE).verdict == "consistent"


def test_years_are_compared_exactly() -> None:
    year = claim(2021, "eq", year=None, unit="year")
    out = fc.judge(year, [ref(2023, year=2023, unit="year")], LOOSE)
    assert out.verdict == "inconsistent"
    alt = ref(2021, year=2021, relation="alternative", ref_id="R2", unit="year")
    out = fc.judge(year, [ref(2023, year=2023, unit="year"), alt], LOOSE)
    assert "It matches" in written(out) and "R2" in written(out)


def test_nearest_year_is_used_and_the_gap_stated() -> None:
    out = fc.judge(claim(100, year=2023), [ref(100, 2022), ref(50, 2010, ref_id="R2")], EXACT)
    assert out.verdict == "consistent" and "a gap of 1 year" in written(out)
    assert [r.ref_id for r in out.refs] == ["R1"]


def test_a_reference_too_far_away_cannot_judge() -> None:
    out = fc.judge(claim(100, year=2023), [ref(100, 2015)], EXACT)
    assert out.verdict == "unverifiable" and "8 years" in written(out)


def test_undated_claim_matching_only_an_old_figure() -> None:
    stale = fc.judge(claim(22, year=None), [ref(22, 2009), ref(14, 2019, ref_id="R2")], EXACT)
    assert stale.verdict == "inconsistent" and "out of date" in written(stale)
    recent = fc.judge(claim(24, year=None), [ref(24, 2022), ref(26, 2025, ref_id="R2")], EXACT)
    assert recent.verdict == "consistent" and "differs" in written(recent)


def test_several_references_of_one_year_span_a_range() -> None:
    both = [ref(135, 2023), ref(175, 2023, ref_id="R2")]
    assert fc.judge(claim(150), both, EXACT).verdict == "consistent"
    assert fc.judge(claim(16), both, EXACT).verdict == "inconsistent"


def test_bounds_can_only_contradict() -> None:
    upper = ref(0.54, relation="upper_bound", unit="fraction")
    below = fc.judge(claim(0.45, "approx", unit="fraction"), [upper], EXACT)
    assert below.verdict == "unverifiable" and "cannot confirm" in written(below)
    above = fc.judge(claim(0.60, "eq", unit="fraction"), [upper], EXACT)
    assert above.verdict == "inconsistent" and "upper bound" in written(above)
    lower = ref(0.207, relation="lower_bound", unit="fraction")
    assert fc.judge(claim(0.15, unit="fraction"), [lower], EXACT).verdict == "inconsistent"


def test_proxies_are_reported_not_judged() -> None:
    out = fc.judge(claim(3000), [ref(63, relation="proxy")], EXACT)
    assert out.verdict == "unverifiable" and "related figure" in written(out)


def test_no_reference_and_other_units_are_unverifiable() -> None:
    assert written(fc.judge(claim(1), [], EXACT)).startswith("No independent figure")
    out = fc.judge(claim(1), [ref(1, unit="km")], EXACT)
    assert out.verdict == "unverifiable" and "other units" in written(out)


def test_reasons_exist_in_both_languages() -> None:
    out = fc.judge(claim(65e6, year=None), [ref(50.24e6, 2022)], EXACT)
    assert "65 million people" in written(out) and "50.24 million people" in written(out)
    assert "6500万人" in written(out, "zh") and "5024万人" in written(out, "zh")


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows)


def test_implied_share_and_member_count_checks() -> None:
    claims = frame([{**claim(65e6, year=None), "country": "USA", "entity_id": "us_b"},
                    {**claim(20, year=None, unit="count"), "claim_id": "C901",
                     "metric": "count_cities", "entity_id": "cn_yrd"}])
    reference = frame([
        {"ref_id": "N1", "entity_id": "us", "entity_en": "US", "entity_zh": "美国",
         "entity_type": "country", "country": "USA", "metric": "population", "year": 2023,
         "value_base": 335e6, "base_unit": "persons", "source_kind": "government",
         "source_publisher": "p", "source_document": "d"},
        {"ref_id": "F1", "entity_id": "us_b", "entity_en": "B", "entity_zh": "乙",
         "entity_type": "city_cluster", "country": "USA", "metric": "pop_share", "year": None,
         "value_base": 0.17, "base_unit": "fraction", "source_kind": "aggregator",
         "source_publisher": "p", "source_document": "d"}])
    shares_rows = fc.implied_share_checks(claims, reference, EXACT)
    assert len(shares_rows) == 1 and shares_rows[0]["verdict"] == "inconsistent"
    assert "19.4" in written(shares_rows[0])
    membership = frame([{"cluster_id": "cn_yrd", "member_level": "city",
                         "planning_document": "plan", "document_year": 2016,
                         "source_kind": "aggregator"}] * 26
                       + [{"cluster_id": "cn_yrd", "member_level": "province",
                           "planning_document": "outline", "document_year": 2019,
                           "source_kind": "aggregator"}] * 4)
    counts = fc.member_count_checks(claims, membership, EXACT)
    assert len(counts) == 1 and counts[0]["verdict"] == "inconsistent"
    assert "26" in written(counts[0]) and "outline" not in written(counts[0])


def test_the_reason_uses_the_qualifier_actually_compared() -> None:
    out = fc.judge(claim(16, "le", unit="km"), [ref(11.27, unit="km")], EXACT, "approx")
    assert "about 16 km" in written(out) and "at most" not in written(out)


def test_an_undated_claim_may_match_an_undated_reference() -> None:
    out = fc.judge(claim(100, year=None), [ref(100, None), ref(60, 2020, ref_id="R2")], EXACT)
    assert out.verdict == "consistent" and "undated" in written(out)


def test_bounds_are_taken_from_the_nearest_year_and_beat_agreement() -> None:
    old_bound = ref(50, 1980, relation="upper_bound")
    assert fc.judge(claim(100, year=2023), [old_bound], EXACT).verdict == "unverifiable"
    bound = ref(50, 2023, relation="upper_bound", ref_id="R2")
    out = fc.judge(claim(100, year=2023), [ref(100, 2023), bound], EXACT)
    assert out.verdict == "inconsistent" and "upper bound" in written(out)


def test_ratio_only_for_the_same_quantity_and_not_for_years() -> None:
    year = claim(2021, year=None, unit="year")
    row = fc._row(year, "direct", fc.judge(year, [ref(2023, 2023, unit="year")], EXACT), EXACT)
    assert row["ratio"] is None and row["reference_value"] is None
    bound = fc.judge(claim(0.3, unit="fraction"),
                     [ref(0.45, relation="upper_bound", unit="fraction")], EXACT)
    assert fc._row(claim(0.3, unit="fraction"), "direct", bound, EXACT)["ratio"] is None


def _population_rows(rows: list[tuple[str, int, float, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"ref_id": r, "year": y, "value_base": v, "vintage": vin, "source_kind": kind,
          "base_unit": "persons", "entity_id": "gb_in",
          "source_publisher": "pub", "source_document": "doc"} for r, y, v, vin, kind in rows],
        schema_overrides={"year": pl.Int32})


def test_a_change_subtracts_like_from_like() -> None:
    rows = _population_rows([("R1", 1951, 3_676_014, "census", "academic"),
                             ("R2", 1981, 2_422_348, "census", "academic"),
                             ("R3", 1981, 2_500_000, "estimate", "aggregator")])
    (change,) = candidates._changes(rows, 1951, 1981, "same")   # the estimate has no 1951 partner
    assert change.value == 2_422_348 - 3_676_014 and change.ref_id == "R2−R1"
    assert change.kinds() == (("academic", 2),)


def test_a_verdict_resting_only_on_aggregators_is_marked() -> None:
    weak = fc.Candidate("R1", 100, 2023, "persons", "same", "aggregator", "s", LABEL)
    derived = fc.Candidate("R2", 100, 2023, "persons", "same", "derived", "s", LABEL,
                           (("aggregator", 60), ("news", 5)))
    c = claim(100)
    row = fc._row(c, "direct", fc.judge(c, [weak], LOOSE), LOOSE)
    assert row["weak_basis"] is True and row["source_mix"] == "aggregator 1"
    row = fc._row(c, "direct", fc.judge(c, [derived], LOOSE), LOOSE)
    assert row["weak_basis"] is False and row["source_mix"] == "aggregator 60, news 5"


def test_the_verdicts_are_read_from_the_contract_in_their_meaning() -> None:
    """factcheck.verdicts takes the words by position from the contract's enum: reordering
    that list must not swap what a verdict means."""
    from citycluster.factcheck.verdicts import CONSISTENT, INCONSISTENT, UNVERIFIABLE

    assert (CONSISTENT, INCONSISTENT, UNVERIFIABLE) == (
        "consistent", "inconsistent", "unverifiable")
