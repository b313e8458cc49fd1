"""Language lives in catalogs: every catalog in step with the English one, every code in the
data worded, no language branch or Chinese prose in the package, and a whole report rendered
in a pseudo-locale with no word left untranslated."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from babel import Locale

from citycluster import languages
from citycluster.factcheck.verdicts import Tolerances
from citycluster.paths import repo_root
from citycluster.report import i18n
from tests.conftest import DataAware

ROOT = repo_root()
SOURCE = languages.catalog(languages.SOURCE_LANGUAGE)


def problems(lang: str, catalog: dict[str, Any]) -> list[str]:
    tags = set(Locale.parse(catalog["meta"]["babel"]).plural_form.tags)
    return i18n.parity_problems(SOURCE, catalog, tags)


@pytest.mark.parametrize("lang", languages.available())
def test_every_catalog_has_the_keys_and_slots_of_the_english_one(lang: str) -> None:
    assert problems(lang, languages.catalog(lang)) == []


def test_the_parity_check_fails_on_a_missing_or_extra_key_or_slot() -> None:
    zh = copy.deepcopy(languages.catalog("zh"))
    del zh["text"]["findings_title"]
    zh["labels"]["no_such_code"] = "多余"
    zh["reasons"]["consistent"] = "文章称{claimed}：相符。"     # {ref} and {gap} dropped
    zh["plurals"]["n_warnings"] = {"one": "{n}条警告"}          # no "other" form
    found = problems("zh", zh)
    assert "missing text.findings_title" in found
    assert "extra labels.no_such_code" in found
    assert any(p.startswith("reasons.consistent has slots") for p in found)
    assert any(p.startswith("plurals.n_warnings needs") for p in found)


def test_every_code_in_the_data_has_words_in_every_language() -> None:
    raw = ROOT / "data" / "raw"
    claims = pl.read_csv(raw / "claims.csv", infer_schema=False)
    refs = pl.concat([pl.read_csv(p, infer_schema=False)
                      for p in (raw / "reference").glob("*.csv")
                      if "ref_id" in p.read_text(encoding="utf-8").splitlines()[0]],
                     how="diagonal")
    models = yaml.safe_load((ROOT / "params" / "default.yaml").read_text(encoding="utf-8"))
    codes = (set(claims["metric"]) | set(claims["qualifier"]) | set(refs["metric"])
             | set(refs["source_kind"]) | set(refs["vintage"].drop_nulls())
             | {m["name"] for m in models["models"]} | {"unlabelled", "derived"})
    for lang in languages.available():
        labels = languages.catalog(lang)["labels"]
        assert sorted(c for c in codes if c not in labels) == [], lang


#: Chinese that is data, not prose: the article's units the parser reads.
CHINESE_DATA_FILES = {"units.py"}  # data/units.py


def chinese_literals(path: Path) -> list[str]:
    """String constants with Chinese characters, leaving out docstrings."""
    import ast

    if path.name in CHINESE_DATA_FILES:
        return []
    cjk = re.compile(r"[\u3400-\u9fff]")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings and cjk.search(n.value)]


def test_no_language_branch_or_chinese_prose_in_the_package() -> None:
    branch = re.compile(r"""lang\s*[!=]=|==\s*["'](zh|en)["']|\[["'](zh|en)["']\]""")
    for path in (ROOT / "src" / "citycluster").rglob("*.py"):
        assert not branch.search(path.read_text(encoding="utf-8")), path
        assert chinese_literals(path) == [], path
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        code = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                         for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "code")
        assert not branch.search(code), path
        assert not re.search(r"[\u3400-\u9fff]", code), path


# ---- the pseudo-locale --------------------------------------------------------------------

OPEN, CLOSE = "⟦", "⟧"


def pseudo(value: Any, key: str = "") -> Any:
    """Every string of the English catalog wrapped in brackets, its {slots} kept."""
    if isinstance(value, dict):
        return {k: (v if k in ("meta", "divisor") else pseudo(v, k)) for k, v in value.items()}
    if isinstance(value, str):
        return f"{OPEN}{value}{CLOSE}" if value else value
    return value


def strip_pseudo(text: str) -> str:
    """The text with every bracketed (translated) span removed, innermost first."""
    inner = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
    while (shorter := inner.sub(" ", text)) != text:
        text = shorter
    return text


def chart_words(spec: Any) -> list[str]:
    """The words of a Vega-Lite spec a reader sees: titles, descriptions and text marks'
    constant text (data values are checked in the page's tables)."""
    out: list[str] = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k in ("title", "description") and isinstance(v, str):
                out.append(v)
            elif k != "datasets" and k != "data":
                out += chart_words(v)
    elif isinstance(spec, list):
        for v in spec:
            out += chart_words(v)
    return out


class _Text(DataAware):
    """The text a reader reads, one string per block (a paragraph, a cell, a heading), leaving
    out scripts, styles, data shown as code or time, and data shown as recorded
    (``translate="no"``). A sentence runs on through its links and the titles set into it."""

    SKIP = frozenset({"script", "style", "code", "time"})
    INLINE = frozenset({"a", "b", "i", "em", "strong", "cite", "span", "small", "sup", "sub",
                        "abbr", "br", "wbr", "code", "time"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.blocks: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        super().handle_starttag(tag, attrs)
        self.depth += tag in self.SKIP
        if tag not in self.INLINE:
            self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        self.depth -= tag in self.SKIP
        if tag not in self.INLINE:
            self.blocks.append("")

    def handle_data(self, data: str) -> None:
        if not self.depth and not self.in_data and data.strip():
            self.blocks[-1] += " " + data.strip()

    @property
    def texts(self) -> list[str]:
        return [b.strip() for b in self.blocks if b.strip()]


def reader_text(page: str) -> list[str]:
    parser = _Text()
    parser.feed(page)
    return parser.texts


@pytest.mark.chain
def test_the_report_renders_in_a_pseudo_locale_with_no_untranslated_word(
        chain_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from citycluster.chain import params, provenance
    from citycluster.chain.catalog import DATASETS, FLOWS
    from citycluster.report import body, exhibit
    from citycluster.report.voice import Voice

    catalog = pseudo(SOURCE) | {"meta": {"babel": "en", "typography": {}, "script": ""}}
    (tmp_path / "xx.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True),
                                      encoding="utf-8")
    monkeypatch.setattr(languages, "CATALOG_DIRS", [*languages.CATALOG_DIRS, tmp_path])
    folders = {"processed_dir": chain_repo / "data" / "processed",
               "reports_dir": chain_repo / "reports"}
    tables = {}
    for name in FLOWS["06_report"][0]:
        ds = DATASETS[name]
        if ds.path.endswith((".parquet", ".csv")):
            path = folders[ds.folder] / ds.path
            tables[name] = pl.read_csv(path) if ds.path.endswith(".csv") else pl.read_parquet(path)
    en = tables["place_names"].filter(pl.col("lang") == "en")
    tables["place_names"] = pl.concat([tables["place_names"], en.with_columns(
        pl.lit("xx").alias("lang"), (OPEN + pl.col("name") + CLOSE).alias("name"))])
    v = Voice.of("xx", tables["place_names"])
    tables["figures"] = exhibit.drawn(tables, v)  # the chain made none in this language
    record = provenance.load(chain_repo / "reports") or {"params": {}}
    from citycluster.paths import repo_root
    from citycluster.report import article, citation

    checked = article.load(chain_repo / "data" / "raw" / "article.yaml")
    html = "".join(body.sections(tables, v, Tolerances(0.05, 0.02, 2), ["xx"], record,
                                 checked, citation.load(repo_root())))

    # data shown as it is, never translated: ids, the article's printed figures, file names
    data_tokens = sorted({t for t in (*tables["claims"]["printed"],
                                      *tables["validation_summary"]["examples"].drop_nulls())
                          if len(t) > 1}, key=len, reverse=True)
    specs = [json.loads(spec) for spec in tables["figures"]["spec"]]
    from citycluster.report.charts import FIGURES

    assert len(specs) == len(FIGURES)
    words = [w for spec in specs for w in chart_words(spec)]
    untranslated = [w for w in words if strip_pseudo(w).strip(" ·,;:()")
                    and re.search(r"[A-Za-z\u3400-\u9fff]{2,}", strip_pseudo(w))]
    assert untranslated == []

    # a cell that is a table's or a column's name is an identifier, shown as it is
    identifiers = {*tables["validation_summary"]["table"], *tables["validation_summary"]["column"]}
    # and so are the footer's parameter names, folders and language codes
    values = [x for value in record["params"].values()
              for x in (value if isinstance(value, list) else [value]) if isinstance(x, str)]
    identifiers |= set(params.load_schema()["properties"])
    data_tokens = sorted({*data_tokens, *(x for x in values if len(x) > 1)}, key=len,
                         reverse=True)
    leftover = []
    for t in reader_text(html):
        if t in identifiers:
            continue
        rest = strip_pseudo(t)
        for token in data_tokens:
            rest = rest.replace(token, " ")
        # ids, hashes, numbers, file paths and parameter names are data, not words
        rest = re.sub(r"[\w./\-−:+%,]*[\d_./][\w./\-−:+%,]*", " ", rest)
        if re.search(r"[A-Za-z\u3400-\u9fff]{2,}", rest):
            leftover.append(t)
    assert leftover == [], "\n".join(leftover)
