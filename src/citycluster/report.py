"""The narrative report: prose bound to computed values, in Chinese and English, offline.

The 05_report notebook displays HTML fragments built here; nbconvert then turns the executed
notebook into a page with no code shown, through a template that loads nothing from the network.
Every string that comes from data passes through Jinja2's autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from citycluster.publish import write_text_atomic

TEMPLATES = Path(__file__).parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES / "sections"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "City clusters in figures: what an article claims, and what the data say",
        "claims_title": "What the article claims",
        "claims_intro": "The article cites {n_claims} figures in {n_paragraphs} of its "
                        "paragraphs, about {n_entities} places, in {n_units} units of measure.",
        "claims_share": "Its headline figure: the five national city clusters hold about "
                        "{pop} of China's population and produce {gdp} of its GDP (2023).",
        "data_title": "Data and sources",
        "data_intro": "{n_ref} reference figures from {n_files} tables test the claims: "
                      "{primary} seen in the official source, {secondary} in a reliable copy, "
                      "and {recalled} recalled without a copy found.",
        "validation_title": "Validation",
        "validation_intro": "{n_rules} rules checked the tables before publication: "
                            "{n_pass} passed, {n_warn} warning(s), {n_crit} critical failure(s).",
        "models_title": "Models",
        "models_intro": "Across the {n} provinces, the slope of GDP share on population share "
                        "is {slope} (95% interval {low} to {high}); a slope of 1 would mean "
                        "GDP simply tracks population.",
        "scaling_intro": "The scaling exponent of GDP on population across provinces is "
                         "{beta} (95% interval {low} to {high}).",
        "figure_share": "Each point is a place; points above the dashed line produce a larger "
                        "share of GDP than of population.",
        "caveats_title": "Caveats",
        "caveat_boundary": "Cluster shares computed from whole provinces overstate clusters "
                           "that the planning documents define by cities.",
        "table_term": "Model / term", "table_estimate": "Estimate", "table_ci": "95% interval",
        "table_n": "n", "table_warning": "Reading",
        "table_file": "Table", "table_conf": "Confidence", "table_rows": "Rows",
        "table_column": "Column", "table_rule": "Rule (warning)", "table_examples": "Examples",
    },
    "zh": {
        "title": "数字中的城市群:文章的说法与数据的检验",
        "claims_title": "文章引用了哪些数字",
        "claims_intro": "文章在{n_paragraphs}个段落中引用了{n_claims}个数字,涉及{n_entities}个"
                        "地区或对象,使用{n_units}种计量单位。",
        "claims_share": "其核心数字:五大国家级城市群约占全国人口的{pop},创造了{gdp}的GDP"
                        "(2023年)。",
        "data_title": "数据与来源",
        "data_intro": "用于检验的参考数据共{n_ref}条,来自{n_files}张表:其中{primary}条见于官方"
                      "原始来源,{secondary}条见于可靠转载,{recalled}条凭记忆录入、未找到出处。",
        "validation_title": "数据校验",
        "validation_intro": "发布前共以{n_rules}条规则校验数据:{n_pass}条通过,{n_warn}条警告,"
                            "{n_crit}条严重错误。",
        "models_title": "模型",
        "models_intro": "在{n}个省级行政区中,GDP比重对人口比重的斜率为{slope}"
                        "(95%区间 {low} 至 {high});斜率为1意味着GDP与人口同比例分布。",
        "scaling_intro": "各省GDP对人口的标度指数为{beta}(95%区间 {low} 至 {high})。",
        "figure_share": "每个点代表一个地区;位于虚线上方的点,其GDP比重高于人口比重。",
        "caveats_title": "局限",
        "caveat_boundary": "以整省数据计算的城市群比重,会高估按城市界定的城市群。",
        "table_term": "模型 / 项", "table_estimate": "估计值", "table_ci": "95%区间",
        "table_n": "样本量", "table_warning": "解读提示",
        "table_file": "数据表", "table_conf": "可信度", "table_rows": "行数",
        "table_column": "列", "table_rule": "规则(警告)", "table_examples": "示例",
    },
}


def text(lang: str, key: str, **values: Any) -> str:
    """A sentence of the report in ``lang`` with computed values filled in."""
    return TEXT[lang][key].format(**values)


def pct(x: float, digits: int = 1) -> str:
    """A share as a percentage: 0.4512 -> '45.1%'."""
    return f"{x * 100:.{digits}f}%"


def num(x: float, digits: int = 2) -> str:
    """A number with thousands separators and fixed decimals."""
    return f"{x:,.{digits}f}"


def section(id: str, title: str, paragraphs: Sequence[str],
            table: dict[str, Any] | None = None) -> str:
    """One report section as HTML; every value is escaped."""
    return _ENV.get_template("summary.html.j2").render(
        id=id, title=title, paragraphs=paragraphs, table=table)


def table(df: pl.DataFrame, header: Sequence[str],
          formats: dict[str, Callable[[Any], str]] | None = None) -> dict[str, Any]:
    """A frame as header and cells; numeric cells are right-aligned and formatted."""
    formats = formats or {}
    rows = []
    for row in df.iter_rows(named=True):
        cells = []
        for col, value in row.items():
            fmt = formats.get(col)
            is_num = isinstance(value, int | float) and not isinstance(value, bool)
            text_value = "" if value is None else (fmt(value) if fmt else str(value))
            cells.append({"text": text_value, "num": is_num})
        rows.append(cells)
    return {"header": list(header), "rows": rows}


def export_html(executed: Path, out: Path, lang: str | None = None) -> Path:
    """The executed report notebook as an offline HTML page with no code cells shown."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    lang = lang or nb.metadata.get("papermill", {}).get("parameters", {}).get("lang", "en")
    exporter = HTMLExporter(
        template_name="report", extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        language_code=lang,
    )
    # The notebook's own markdown explains the notebook to a researcher; the reader's page is
    # made only of the outputs the code cells display.
    nb.cells = [c for c in nb.cells if c.cell_type == "code"]
    nb.metadata["title"] = TEXT.get(lang, TEXT["en"])["title"]
    body, _ = exporter.from_notebook_node(nb)
    write_text_atomic(out, body)
    return out
