"""The map's boundaries: China's whole territory, and a polygon for every member city."""

from __future__ import annotations

import polars as pl

from citycluster.ingest.shares import city_plan_members
from citycluster.paths import repo_root
from citycluster.report import chinamap

RAW = repo_root() / "data" / "raw" / "reference"


def features() -> list[dict]:
    return chinamap.boundaries()["objects"]["china"]["geometries"]


def test_the_map_shows_china_complete_territory() -> None:
    provinces = {f["properties"]["adcode"] for f in features()
                 if f["properties"]["layer"] == "provinces"}
    assert len(provinces) == 34
    # Taiwan, Hong Kong, Macao, and Hainan (whose Sansha holds the South China Sea islands)
    assert {"710000", "810000", "820000", "460000"} <= provinces
    dashes = [f for f in features() if f["properties"]["layer"] == "dashline"]
    assert len(dashes) == 1 and dashes[0]["type"] == "MultiLineString"
    assert len(dashes[0]["arcs"]) == 10  # the ten-dash line, east of Taiwan included


def test_every_member_city_has_a_polygon() -> None:
    membership = pl.read_csv(RAW / "cluster_membership.csv", infer_schema=False)
    coordinates = pl.read_csv(RAW / "geo" / "china_city_coordinates.csv", infer_schema=False)
    plan = city_plan_members(membership)
    members = plan.join(coordinates, left_on="member_entity_id", right_on="entity_id")
    shapes = {f["properties"].get("adcode") for f in features()}
    assert members.height == plan.height
    assert sorted(set(members["adcode"]) - shapes) == []


def test_the_boundaries_fit_the_size_budget() -> None:
    assert chinamap.TOPOJSON.stat().st_size < 200_000
