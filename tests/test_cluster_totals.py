"""The clusters summed from their member cities, on a province small enough to check by hand:
three cities, two of them members, one figure missing."""

from __future__ import annotations

import polars as pl
import pytest

from citycluster.ingest.cluster_totals import city_cluster_shares

REF_COLUMNS = ("ref_id", "entity_id", "entity_zh", "entity_type", "country", "metric", "year",
               "value_base", "base_unit", "vintage", "source_kind")


def _reference(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame([dict(zip(REF_COLUMNS, r, strict=True)) for r in rows],
                        schema={c: (pl.Float64 if c == "value_base" else
                                    pl.Int32 if c == "year" else pl.String)
                                for c in REF_COLUMNS})


@pytest.fixture
def province() -> dict[str, pl.DataFrame]:
    """China of 1,000 people and 10,000 yuan; province 甲 of 100 people and 1,000 yuan, with
    cities a and b (members) and c (not); b's GDP and c's GDP are missing."""
    base = ("CHN", "population")
    reference = _reference([
        ("NAT1", "cn", "中国", "country", *base, 2023, 1000.0, "persons", "first_release",
         "statistics_office"),
        ("NAT2", "cn", "中国", "country", "CHN", "gdp", 2023, 10000.0, "CNY", "first_release",
         "statistics_office"),
        ("PROV1", "cn_prov_jia", "甲省", "province", *base, 2023, 100.0, "persons",
         "first_release", "statistics_office"),
        ("PROV2", "cn_prov_jia", "甲省", "province", "CHN", "gdp", 2023, 1000.0, "CNY",
         "first_release", "news"),
        ("CITY1", "cn_city_a", "甲市", "prefecture_city", *base, 2023, 40.0, "persons",
         "first_release", "news"),
        ("CITY2", "cn_city_a", "甲市", "prefecture_city", "CHN", "gdp", 2023, 500.0, "CNY",
         "first_release", "aggregator"),
        ("CITY3", "cn_city_b", "乙市", "prefecture_city", *base, 2023, 30.0, "persons",
         "first_release", "news"),
        ("CITY4", "cn_city_c", "丙市", "prefecture_city", *base, 2023, 30.0, "persons",
         "first_release", "news"),
    ])
    membership = pl.DataFrame({
        "cluster_id": ["cn_yrd", "cn_yrd"], "planning_document": ["plan", "plan"],
        "document_year": [2016, 2016], "member_level": ["city", "city"],
        "member_entity_id": ["cn_city_a", "cn_city_b"]})
    coordinates = pl.DataFrame({"entity_id": ["cn_city_a", "cn_city_b", "cn_city_c"],
                                "province_zh": ["甲省"] * 3})
    return {"reference": reference, "membership": membership, "coordinates": coordinates}


def test_members_known_sum_exactly_and_a_missing_one_gives_bounds(
        province: dict[str, pl.DataFrame]) -> None:
    t = city_cluster_shares(province["reference"], province["membership"],
                            province["coordinates"])
    assert t["entity_id"].to_list() == ["cn_yrd", "cn_big5"]
    row = t.row(0, named=True)
    # population: both members known, 40 + 30 of 1,000
    assert (row["pop_share_low"], row["pop_share_high"]) == (0.07, 0.07)
    assert row["members_known_population"] == 2
    assert row["pop_rows"] == "CITY1, CITY3, NAT1"
    # GDP: b is missing and so is c, the non-member: a's 500 below, the province's 1,000 above
    assert (row["gdp_share_low"], row["gdp_share_high"]) == (0.05, 0.1)
    assert row["gdp"] is None and row["gdp_share"] is None and row["members_known_gdp"] == 1
    assert row["gdp_source_kinds"] == "aggregator 1, news 1"
    assert row["members"] == 2 and row["sar_population"] is None


def test_an_estimate_fills_the_missing_member_beside_the_observed_bounds(
        province: dict[str, pl.DataFrame]) -> None:
    estimates = pl.DataFrame({"entity_id": ["cn_city_b"], "metric": ["gdp"],
                              "value_base": [200.0], "low": [150.0], "high": [250.0]})
    row = city_cluster_shares(province["reference"], province["membership"],
                              province["coordinates"], estimates).row(0, named=True)
    assert (row["gdp_share_low"], row["gdp_share_high"]) == (0.05, 0.1)  # observed: unchanged
    assert row["est_gdp_share"] == pytest.approx(0.07)
    assert (row["est_gdp_share_low"], row["est_gdp_share_high"]) == pytest.approx((0.065, 0.075))
    assert (row["estimated_gdp"], row["members_estimated_gdp"]) == (200.0, 1)
    assert row["estimated_ids_gdp"] == "cn_city_b" and row["observed_gdp"] == 500.0


def test_no_national_total_gives_an_empty_table(province: dict[str, pl.DataFrame]) -> None:
    reference = province["reference"].filter(pl.col("ref_id") != "NAT2")
    assert city_cluster_shares(reference, province["membership"],
                               province["coordinates"]).is_empty()
