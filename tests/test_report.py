"""The rendered outputs as files: bound prose, escaping, size, figures, index, provenance."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from citycluster.report import charts

pytestmark = pytest.mark.chain
MAX_REPORT_BYTES = 1_500_000


def body(root: Path, lang: str) -> str:
    return (root / "reports" / f"report.{lang}.html").read_text(encoding="utf-8")


def test_prose_follows_the_input_figures(chain_repo: Path, tampered_repo: Path) -> None:
    assert "about 45% of China's population" in body(chain_repo, "en")
    assert "about 47% of China's population" in body(tampered_repo, "en")
    assert "约占全国人口的45%" in body(chain_repo, "zh")
    assert "约占全国人口的47%" in body(tampered_repo, "zh")


def test_strings_from_data_are_escaped(tampered_repo: Path) -> None:
    for lang in ("en", "zh"):
        html = body(tampered_repo, lang)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" not in html


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_is_self_contained_and_small(chain_repo: Path, lang: str) -> None:
    path = chain_repo / "reports" / f"report.{lang}.html"
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size <= MAX_REPORT_BYTES
    assert html.count("<script>(function(){") == 1  # one inlined Vega bundle, not one per chart
    assert html.count("vegaEmbed(\"#") == len(charts.FIGURES)
    assert not re.search(r"<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
                         html, re.I)
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", html)  # no remote fonts or images
    for section in ("claims", "data", "validation", "models", "cases", "factcheck", "caveats",
                    "provenance"):
        assert f'id="{section}"' in html


def test_footer_records_commit_lock_inputs_and_timings(chain_repo: Path) -> None:
    html = body(chain_repo, "en")
    lock = hashlib.sha256((chain_repo / "requirements.lock").read_bytes()).hexdigest()
    claims = hashlib.sha256((chain_repo / "data" / "raw" / "claims.csv").read_bytes()).hexdigest()
    assert lock in html and claims in html
    assert "01_ingest" in html and "bootstrap_reps" in html


def test_figures_are_exported_per_language_and_png_only_when_asked(chain_repo: Path,
                                                                    tmp_path: Path) -> None:
    from citycluster.report import render

    folder = chain_repo / "reports" / "figures"
    expected = {f"{f.name}.{lang}.{ext}" for f in charts.FIGURES for lang in ("zh", "en")
                for ext in ("vl.json", "svg")}
    assert {p.name for p in folder.iterdir()} == expected
    chart = charts.alt.Chart(charts.alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q")
    (png,) = [p for p in render.export(chart, tmp_path, "one", png=True) if p.suffix == ".png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (folder / "share_scatter.zh.svg").read_text(encoding="utf-8")
    assert "GDP比重与人口比重" in svg and "Noto Sans CJK SC" in svg


def test_factcheck_csv_gives_every_claim_a_verdict(chain_repo: Path) -> None:
    import polars as pl

    checks = pl.read_csv(chain_repo / "reports" / "factcheck.csv")
    for col in ("claim_id", "entity_id", "metric", "claimed", "reference", "unit", "verdict",
                "reason_code", "reason_args", "source"):
        assert col in checks.columns
    claims = pl.read_csv(chain_repo / "data" / "raw" / "claims.csv")
    direct = checks.filter(pl.col("check") == "direct")
    assert sorted(direct["claim_id"]) == sorted(claims["claim_id"])
    assert set(checks["verdict"]) <= {"consistent", "inconsistent", "unverifiable"}
    assert checks["reason_code"].null_count() == 0 and checks["reason_args"].null_count() == 0
    judged = checks.filter(pl.col("verdict") != "unverifiable")
    assert judged["source"].null_count() == 0
    # the known findings of the reference research
    verdict = dict(direct.select("claim_id", "verdict").iter_rows())
    assert verdict["C011"] == verdict["C028"] == verdict["C045"] == "inconsistent"
    assert verdict["C012"] == verdict["C040"] == "consistent"
    assert verdict["C008"] == "unverifiable"


def test_index_lists_every_output(chain_repo: Path) -> None:
    index = (chain_repo / "reports" / "index.html").read_text(encoding="utf-8")
    for href in ("report.zh.html", "report.en.html", "executed/06_report.zh.ipynb",
                 "validation/index.html", "models.csv", "figures/growth_cases.en.svg"):
        assert f'href="{href}"' in index


def test_chinese_prose_uses_chinese_punctuation(chain_repo: Path) -> None:
    """A native reader's check: no ASCII ( ) , ; : touching a Chinese character in the text of
    the Chinese report (scripts and styles aside)."""
    from html.parser import HTMLParser

    cjk = "[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
    pattern = re.compile(rf"[(),;:](?={cjk})|(?<={cjk})[(),;:]")

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.skip, self.parts = 0, []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.skip += tag in ("script", "style")

        def handle_endtag(self, tag: str) -> None:
            self.skip -= tag in ("script", "style")

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(body(chain_repo, "zh"))
    hits = [p[max(0, m.start() - 10):m.end() + 10] for p in parser.parts
            for m in pattern.finditer(p)]
    assert hits == []


def test_labels_are_placed_without_collisions() -> None:
    import polars as pl

    from citycluster.report.labels import placed

    data = pl.DataFrame({"x": [0.10, 0.101, 0.30], "y": [0.10, 0.101, 0.30],
                         "name": ["长江三角洲城市群", "粤港澳大湾区", "Tokaido"],
                         "size": [3.0, 2.0, 1.0]})
    kept = placed(data, "x", "y", "name", "size", x_domain=[0, 0.4], y_domain=[0, 0.4],
                  width=560, height=420)
    assert kept["name"].to_list() == ["长江三角洲城市群", "Tokaido"]  # the smaller twin gives way
