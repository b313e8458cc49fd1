"""great-expectations suites for every table, written as code, and a readable summary.

Each expectation carries ``meta`` with a severity (critical rules stop the chain, warnings are
carried into the report) and a plain description. great-expectations is imported lazily: it costs
seconds, and only the validation step needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from citycluster import units
from citycluster.schema import CONFIDENCE, LINK_USES, QUALIFIERS, RELATIONS

CRITICAL = "critical"
WARNING = "warning"
PLAUSIBLE_YEARS = (1800, 2100)


@dataclass(frozen=True)
class Rule:
    """One expectation: its great-expectations class name, arguments, severity and meaning."""

    expectation: str
    kwargs: dict[str, Any]
    description: str
    severity: str = CRITICAL


def _not_null(cols: tuple[str, ...]) -> list[Rule]:
    return [Rule("ExpectColumnValuesToNotBeNull", {"column": c}, f"{c} is filled in")
            for c in cols]


def claims_rules(paragraphs: list[str]) -> list[Rule]:
    """Rules for the claims ledger (after ingest: printed values plus base-unit values)."""
    return [
        *_not_null(("claim_id", "paragraph", "entity_id", "entity_en", "metric", "value",
                    "unit", "qualifier", "printed")),
        Rule("ExpectColumnValuesToBeUnique", {"column": "claim_id"}, "claim_id is unique"),
        Rule("ExpectColumnValuesToMatchRegex", {"column": "claim_id", "regex": r"^C\d{3,}$"},
             "claim_id looks like C001"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "paragraph", "value_set": paragraphs},
             "paragraph is a locator that exists in the article"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "unit", "value_set": list(units.UNITS)},
             "unit is in the unit table"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "qualifier", "value_set": list(QUALIFIERS)},
             "qualifier is one of approx, gt, lt, ge, le, eq"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "value_base"},
             "value converts to base units"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "year", "min_value": PLAUSIBLE_YEARS[0],
             "max_value": PLAUSIBLE_YEARS[1]}, "year is plausible"),
        Rule("ExpectColumnValuesToMatchRegex", {"column": "country",
             "regex": r"^[A-Z]{3}$"}, "country is an ISO 3166 alpha-3 code"),
        _shares_in_unit_interval(),
    ]


# Metrics that are parts of a whole; a floor-area ratio or a growth rate in % is not.
SHARE_CONDITION = ('dimension=="fraction" & (metric.str.endswith("_share") | '
                   'metric.isin(["supporting_rate", "industry_linkage", "purity"]))')


def _shares_in_unit_interval() -> Rule:
    return Rule("ExpectColumnValuesToBeBetween", {"column": "value_base", "min_value": 0,
                "max_value": 1, "row_condition": SHARE_CONDITION, "condition_parser": "pandas"},
                "shares and rates of a whole lie within [0, 1]")


def reference_rules() -> list[Rule]:
    """Rules for the long table of reference statistics."""
    positive = '~metric.str.endswith("_change") & dimension!="fraction"'
    return [
        *_not_null(("ref_id", "entity_id", "entity_en", "metric", "value", "unit",
                    "source_publisher", "source_document", "confidence")),
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["source_file", "ref_id"]},
             "ref_id is unique within its file"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "unit", "value_set": list(units.UNITS)},
             "unit is in the unit table"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "confidence",
             "value_set": list(CONFIDENCE)}, "confidence is primary, secondary or recalled"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "value_base"},
             "value converts to base units"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "value_base", "min_value": 0,
             "strict_min": True, "row_condition": positive, "condition_parser": "pandas"},
             "populations, areas, amounts and counts are positive"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "year", "min_value": PLAUSIBLE_YEARS[0],
             "max_value": PLAUSIBLE_YEARS[1]}, "year is plausible"),
        _shares_in_unit_interval(),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "source_url"},
             "the source has a link", severity=WARNING),
    ]


def membership_rules() -> list[Rule]:
    """Rules for the cluster membership table."""
    return [
        *_not_null(("cluster_id", "member_zh", "province_entity_id", "planning_document",
                    "whole_province")),
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["cluster_id", "member_zh",
             "planning_document"]}, "a member is listed once per cluster and plan"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "cluster_id", "value_set":
             ["cn_yrd", "cn_jjj", "cn_gba", "cn_myr", "cn_cy"]}, "one of the five clusters"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "confidence",
             "value_set": list(CONFIDENCE)}, "confidence is primary, secondary or recalled"),
    ]


def links_rules() -> list[Rule]:
    """Rules for the curated claim-to-reference links of the fact-check."""
    return [
        *_not_null(("claim_id", "ref_entity_id", "ref_metric", "use", "relation", "note")),
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": [
             "claim_id", "ref_entity_id", "ref_metric", "ref_year", "use"]},
             "a link is listed once"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "relation", "value_set": list(RELATIONS)},
             "relation is same, upper_bound, lower_bound, proxy or alternative"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "use", "value_set": list(LINK_USES)},
             "use is value or year"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "compare_as",
             "value_set": list(QUALIFIERS)}, "compare_as, where given, is a qualifier"),
    ]


def shares_rules() -> list[Rule]:
    """Rules for derived population and GDP shares."""
    return [
        *_not_null(("entity_id", "country", "origin", "pop_share", "gdp_share")),
        Rule("ExpectColumnValuesToBeBetween", {"column": "pop_share", "min_value": 0,
             "max_value": 1, "strict_max": True}, "a population share is below 1"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "gdp_share", "min_value": 0,
             "max_value": 1}, "a GDP share lies within [0, 1]"),
    ]


def cross_rules(tolerance: float) -> list[Rule]:
    """Rules across tables, evaluated on the table of checks from :func:`cross_checks`."""
    return [
        Rule("ExpectColumnValuesToBeBetween", {"column": "relative_gap", "min_value": -tolerance,
             "max_value": tolerance, "row_condition": 'check=="province_sum"',
             "condition_parser": "pandas"},
             f"provincial sums within {tolerance:.0%} of the national total"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "ratio", "min_value": 0,
             "max_value": 1, "strict_max": True, "row_condition": 'check=="below_country"',
             "condition_parser": "pandas"},
             "an entity's population is below its country's"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "ratio", "min_value": 0,
             "max_value": 0, "row_condition": 'check=="link_target"',
             "condition_parser": "pandas"},
             "a fact-check link names an existing claim and reference (entity and metric)"),
    ]


@dataclass
class Outcome:
    """The result of one rule on one table, flattened for people and for the report."""

    table: str
    rule: str
    column: str
    severity: str
    description: str
    success: bool
    evaluated: int
    unexpected: int
    examples: str


def run_suites(
    tables: dict[str, tuple[pl.DataFrame, list[Rule], str]],
    docs_dir: Path | None = None,
) -> list[Outcome]:
    """Validate each table with its rules; build Data Docs into ``docs_dir`` when given.

    ``tables`` maps a table name to (frame, rules, id column); the id column labels offending
    rows in the messages (claim_id, ref_id, or the source row number).
    """
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    if docs_dir is not None:
        context.add_data_docs_site(site_name="local", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    source = context.data_sources.add_pandas("citycluster")
    outcomes: list[Outcome] = []
    for name, (frame, rules, id_col) in tables.items():
        pdf = frame.to_pandas()
        batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(name)
        suite = context.suites.add(gx.ExpectationSuite(name=name))
        for rule in rules:
            cls: Callable[..., Any] = getattr(gx.expectations, rule.expectation)
            suite.add_expectation(cls(**rule.kwargs, meta={
                "severity": rule.severity, "description": rule.description}))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        # A checkpoint (rather than the definition alone) so Data Docs list the results.
        actions = [gx.checkpoint.UpdateDataDocsAction(name="docs")] if docs_dir else []
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"{name}_checkpoint", validation_definitions=[definition], actions=actions,
            result_format={"result_format": "COMPLETE"}))
        run = checkpoint.run(batch_parameters={"dataframe": pdf})
        for result in run.run_results.values():
            outcomes.extend(_flatten(name, result, pdf, id_col))
    if docs_dir is not None:
        offline_data_docs(docs_dir)
    return outcomes


_REMOTE = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["\']https?://[^>]*>'
                     r'(?:\s*</script>)?', re.I)


def offline_data_docs(docs_dir: Path) -> int:
    """Strip what Data Docs load from CDNs, so the pages load nothing from the network.

    The pages stay readable as static HTML; the project's own summary.csv (and the validate
    notebook's table) remain the complete offline record. Returns the number of tags removed.
    """
    removed = 0
    for page in docs_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        cleaned, n = _REMOTE.subn("", html)
        if n:
            page.write_text(cleaned, encoding="utf-8")
            removed += n
    return removed


def _shown(value: Any) -> str:
    """An offending value as a reader should see it: a missing value says so, not ``nan``."""
    if value is None or (isinstance(value, float) and value != value):
        return "(empty)"
    return repr(value)


def _flatten(name: str, result: Any, pdf: Any, id_col: str) -> list[Outcome]:
    out = []
    for er in result.results:
        cfg = er.expectation_config
        res = er.result or {}
        idx = res.get("unexpected_index_list") or []
        ids = [str(pdf[id_col].iloc[i]) for i in idx[:5] if isinstance(i, int)]
        vals = res.get("partial_unexpected_list") or []
        examples = ", ".join(f"{i}={_shown(v)}" for i, v in zip(ids, vals, strict=False))
        column = cfg.kwargs.get("column") or "+".join(cfg.kwargs.get("column_list", []))
        out.append(Outcome(
            table=name, rule=cfg.type, column=column,
            severity=cfg.meta.get("severity", CRITICAL),
            description=cfg.meta.get("description", ""), success=bool(er.success),
            evaluated=int(res.get("element_count") or len(pdf)),
            unexpected=int(res.get("unexpected_count") or (0 if er.success else 1)),
            examples=examples))
    return out


def outcomes_frame(outcomes: list[Outcome]) -> pl.DataFrame:
    """The outcomes as a table: one row per rule and table."""
    return pl.DataFrame([o.__dict__ for o in outcomes])


def failures(outcomes: list[Outcome], severity: str = CRITICAL) -> list[Outcome]:
    """Failed rules of one severity."""
    return [o for o in outcomes if not o.success and o.severity == severity]


def failure_message(failed: list[Outcome], files: dict[str, str], docs: Path | None) -> str:
    """What a person needs to fix the data: file, column, rule, count and a few values."""
    lines = [f"validation failed: {len(failed)} critical rule(s) broken"]
    for o in failed:
        lines.append(f"- {files.get(o.table, o.table)}: column {o.column or '-'}: {o.rule} "
                     f"({o.description}): {o.unexpected} of {o.evaluated} row(s) offend"
                     + (f"; e.g. {o.examples}" if o.examples else ""))
    if docs is not None:
        lines.append(f"Data Docs: {docs / 'index.html'}")
    return "\n".join(lines)
