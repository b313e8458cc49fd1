"""great-expectations suites for every table, written as code, and a readable summary.

Each expectation carries ``meta`` with a severity (critical rules stop the chain, warnings are
carried into the report) and a plain description. great-expectations is imported with this
module, not inside the function that runs the suites: its import costs about 2.5 s of CPU,
and the chain pays it in the validation step's kernel it starts ahead while ingest runs
(:func:`citycluster.chain.steps.import_source`) rather than within the step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import great_expectations as gx
import polars as pl
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.row_conditions import Column

from citycluster.data import published, units
from citycluster.data.contracts import Contract, CrossColumnRule, Field, ForeignKey

CRITICAL = "critical"
WARNING = "warning"
PLAUSIBLE_YEARS = (1800, 2100)

#: Which rows a conditional rule applies to, each a boolean column computed with polars before
#: validation. great-expectations then needs only ``Column(flag) == True``, a Condition object
#: (string row conditions are deprecated and gone in great-expectations 2).
CONDITIONS: dict[str, pl.Expr] = {
    # metrics that are parts of a whole; a floor-area ratio or a growth rate in % is not
    "when__share_of_whole": (pl.col("dimension") == "fraction") & (
        pl.col("metric").str.ends_with("_share")
        | pl.col("metric").is_in(["supporting_rate", "industry_linkage", "purity"])),
    "when__positive_measure": ~pl.col("metric").str.ends_with("_change")
                              & (pl.col("dimension") != "fraction"),
    "when__not_recalled": pl.col("source_kind") != "recalled",
}


def non_capturing(pattern: str) -> str:
    """The same pattern with its groups made non-capturing: pandas warns on a capturing group
    in ``str.contains`` (great-expectations' regex check), and the groups are never read."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)


def when(column: str, value: Any = True) -> tuple[str, Any]:
    """A rule's row condition: the rows where ``column`` equals ``value``."""
    return (column, value)


def with_conditions(frame: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """The frame with the condition columns its rules use."""
    needed = {r.kwargs["row_condition"][0] for r in rules if "row_condition" in r.kwargs}
    flags = [CONDITIONS[n].fill_null(False).alias(n) for n in sorted(needed) if n in CONDITIONS]
    return frame.with_columns(flags) if flags else frame


@dataclass(frozen=True)
class Rule:
    """One expectation: its great-expectations class name, arguments, severity and meaning."""

    expectation: str
    kwargs: dict[str, Any]
    description: str
    severity: str = CRITICAL
    #: the contract's name for a named rule (``url-unless-recalled``): the report's catalogs
    #: word a rule by this name, never by its English description
    name: str = ""


def _field_rules(field: Field) -> list[Rule]:
    """The expectations one declared column implies."""
    col = field.name
    rules = []
    if field.required:
        rules.append(Rule("ExpectColumnValuesToNotBeNull", {"column": col},
                          f"{col} is filled in (required)"))
    if field.unique:
        rules.append(Rule("ExpectColumnValuesToBeUnique", {"column": col}, f"{col} is unique"))
    allowed = list(units.UNITS) if field.enum_from == "units" else field.enum
    if allowed is not None:
        shown = ", ".join(allowed) if len(allowed) <= 8 else f"{len(allowed)} declared values"
        what = "the unit table" if field.enum_from == "units" else shown
        rules.append(Rule("ExpectColumnValuesToBeInSet", {"column": col,
                          "value_set": list(allowed)}, f"{col} is one of {what}"))
    if field.pattern is not None:
        rules.append(Rule("ExpectColumnValuesToMatchRegex",
                          {"column": col, "regex": non_capturing(field.pattern)},
                          f"{col} matches {field.pattern}"))
    if field.minimum is not None or field.maximum is not None:
        rules.append(Rule("ExpectColumnValuesToBeBetween", {"column": col, "min_value":
                          field.minimum, "max_value": field.maximum},
                          f"{col} lies within [{field.minimum}, {field.maximum}]"))
    return rules


def foreign_key_column(fk: ForeignKey) -> str:
    """The derived flag column that says whether a row's key exists in the other table."""
    return "fk__" + "__".join(fk.fields)


def contract_rules(contract: Contract, several_files: bool) -> list[Rule]:
    """Every rule a table's declaration implies: columns, keys, foreign keys, x-rules."""
    rules = [r for f in contract.fields for r in _field_rules(f)]
    key = list(contract.primary_key)
    if key:
        scope = ["source_file", *key] if several_files else key
        what = f"{'+'.join(key)} is unique" + (" within its file" if several_files else "")
        rules.append(Rule("ExpectColumnValuesToBeUnique", {"column": key[0]}, what)
                     if len(scope) == 1 else
                     Rule("ExpectCompoundColumnsToBeUnique", {"column_list": scope}, what))
    for fk in contract.foreign_keys:
        rules.append(Rule("ExpectColumnValuesToBeInSet", {"column": foreign_key_column(fk),
                          "value_set": [True]},
                          f"{'+'.join(fk.fields)} exists in {fk.table}."
                          f"{'+'.join(fk.ref_fields)}"))
    for rule in contract.rules:
        rules.append(_CROSS_COLUMN[rule.name](rule))
    return rules


_CROSS_COLUMN: dict[str, Callable[[CrossColumnRule], Rule]] = {
    "printed-matches-value": lambda r: Rule(
        "ExpectColumnValuesToBeInSet", {"column": "printed_agrees", "value_set": [True]},
        r.description, r.severity, r.name),
    "url-unless-recalled": lambda r: Rule(
        "ExpectColumnValuesToNotBeNull", {"column": "source_url",
        "row_condition": when("when__not_recalled")},
        r.description, r.severity, r.name),
    "change-has-two-years": lambda r: Rule(
        "ExpectColumnValuesToBeInSet", {"column": "change_years_ok", "value_set": [True]},
        r.description, r.severity, r.name),
}


def _shares_in_unit_interval() -> Rule:
    return Rule("ExpectColumnValuesToBeBetween", {"column": "value_base", "min_value": 0,
                "max_value": 1, "row_condition": when("when__share_of_whole")},
                "shares and rates of a whole lie within [0, 1]")


def derived_rules(table: str) -> list[Rule]:
    """Rules on the columns ingest derives (base-unit values), which no raw contract declares."""
    if table == "claims":
        return [Rule("ExpectColumnValuesToNotBeNull", {"column": "value_base"},
                     "value converts to base units"), _shares_in_unit_interval()]
    if table == "reference":
        return [Rule("ExpectColumnValuesToNotBeNull", {"column": "value_base"},
                     "value converts to base units"),
                Rule("ExpectColumnValuesToBeBetween", {"column": "value_base", "min_value": 0,
                     "strict_min": True, "row_condition": when("when__positive_measure")},
                     "populations, areas, amounts and counts are positive"),
                _shares_in_unit_interval()]
    return []


def shares_rules() -> list[Rule]:
    """Rules for derived population and GDP shares: those their published contract implies."""
    return contract_rules(published.contract("shares"), several_files=False)


def place_name_rules() -> list[Rule]:
    """One name per place and language, as the published contract's key says."""
    return contract_rules(published.contract("place_names"), several_files=False)


def cluster_total_rules() -> list[Rule]:
    """Rules for the clusters summed from their member cities: the contract's (bounds inside
    [0, 1], counts filled in), and bounds in order."""
    return [
        *contract_rules(published.contract("cluster_totals"), several_files=False),
        *[Rule("ExpectColumnPairValuesAToBeGreaterThanB", {"column_A": f"{m}_share_high",
               "column_B": f"{m}_share_low", "or_equal": True},
               f"the upper bound of the {m} share is not below the lower one")
          for m in ("pop", "gdp")],
    ]


def estimate_rules() -> list[Rule]:
    """Rules for the estimates of missing member figures: the contract's, one estimate per
    member and metric, and each strictly inside its own interval."""
    return [
        *contract_rules(published.contract("estimates"), several_files=False),
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["entity_id", "metric"]},
             "one estimate per member and metric"),
        *_inside("value_base", "an estimate"),
    ]


def _inside(value: str, what: str) -> list[Rule]:
    """``value`` strictly inside the row's interval (``low``, ``high``)."""
    pair = "ExpectColumnPairValuesAToBeGreaterThanB"
    return [Rule(pair, {"column_A": value, "column_B": "low", "or_equal": False},
                 f"{what} is above its interval's lower end"),
            Rule(pair, {"column_A": "high", "column_B": value, "or_equal": False},
                 f"{what} is below its interval's upper end")]


def backtest_rules() -> list[Rule]:
    """Rules for the estimator's backtest: the contract's, one row per city and metric, and
    each estimate strictly inside its interval."""
    return [
        *contract_rules(published.contract("estimates_backtest"), several_files=False),
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["entity_id", "metric"]},
             "one backtest per city and metric"),
        *_inside("estimate", "a backtested estimate"),
    ]


def cross_rules(tolerance: float) -> list[Rule]:
    """Rules across tables, evaluated on the table of checks from :func:`cross_checks`."""
    return [
        Rule("ExpectColumnValuesToBeBetween", {"column": "relative_gap", "min_value": -tolerance,
             "max_value": tolerance, "row_condition": when("check", "province_sum")},
             f"provincial sums within {tolerance:.0%} of the national total"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "ratio", "min_value": 0,
             "max_value": 1, "strict_max": True,
             "row_condition": when("check", "below_country")},
             "an entity's population is below its country's"),
    ]


@dataclass
class RuleResult:
    """The result of one rule on one table, flattened for people and for the report."""

    table: str
    rule: str
    name: str
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
) -> list[RuleResult]:
    """Validate each table with its rules; build great-expectations' Data Docs into
    ``docs_dir`` only when asked (they need a checkpoint per table and load scripts from the
    network; the project's own page, :mod:`citycluster.report.validationpage`, is the offline
    record).

    ``tables`` maps a table name to (frame, rules, id column); the id column labels offending
    rows in the messages (claim_id, ref_id, or the source row number).
    """
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # the step prints its own
    if docs_dir is not None:
        context.add_data_docs_site(site_name="local", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    source = context.data_sources.add_pandas("citycluster")
    outcomes: list[RuleResult] = []
    result_format = {"result_format": "COMPLETE"}
    for name, (frame, rules, id_col) in tables.items():
        pdf = with_conditions(frame, rules).to_pandas()
        batch_definition = (source.add_dataframe_asset(name=name)
                            .add_batch_definition_whole_dataframe(name))
        expectations = []
        for rule in rules:
            cls: Callable[..., Any] = getattr(gx.expectations, rule.expectation)
            kwargs = dict(rule.kwargs)
            if "row_condition" in kwargs:
                column, value = kwargs["row_condition"]
                kwargs["row_condition"] = Column(column) == value
            expectations.append(cls(**kwargs, meta={
                "severity": rule.severity, "description": rule.description,
                "rule_name": rule.name or rule.expectation}))
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        if docs_dir is None:
            # validated on the batch directly: nothing is stored in the context, whose stores
            # serialise every suite and result (a fifth of the audit) for no reader
            batch = batch_definition.get_batch(batch_parameters={"dataframe": pdf})
            results = [batch.validate(suite, result_format=result_format)]
        else:  # Data Docs list only what a checkpoint ran, from the context's stores
            # the suite is stored once with all its expectations (adding them one by one
            # re-serialises the suite into the store each time: 1.5 s of the audit)
            definition = context.validation_definitions.add(gx.ValidationDefinition(
                name=name, data=batch_definition, suite=context.suites.add(suite)))
            checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=f"{name}_checkpoint", validation_definitions=[definition],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="docs")],
                result_format=result_format))
            results = list(checkpoint.run(batch_parameters={"dataframe": pdf})
                           .run_results.values())
        for result in results:
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


#: Offending rows a message names per rule; its count says how many there are in all.
EXAMPLES = 5


def _flatten(name: str, result: Any, pdf: Any, id_col: str) -> list[RuleResult]:
    out = []
    for er in result.results:
        cfg = er.expectation_config
        res = er.result or {}
        idx = res.get("unexpected_index_list") or []
        ids = [str(pdf[id_col].iloc[i]) for i in idx[:EXAMPLES] if isinstance(i, int)]
        vals = res.get("partial_unexpected_list") or []
        examples = "; ".join(f"{i}: {_shown(v)}" for i, v in zip(ids, vals, strict=False))
        column = cfg.kwargs.get("column") or "+".join(cfg.kwargs.get("column_list", []))
        out.append(RuleResult(
            table=name, rule=cfg.type, name=cfg.meta.get("rule_name", cfg.type), column=column,
            severity=cfg.meta.get("severity", CRITICAL),
            description=cfg.meta.get("description", ""), success=bool(er.success),
            evaluated=int(res.get("element_count") or len(pdf)),
            unexpected=int(res.get("unexpected_count") or (0 if er.success else 1)),
            examples=examples))
    return out


def outcomes_frame(outcomes: list[RuleResult]) -> pl.DataFrame:
    """The outcomes as a table: one row per rule and table."""
    return pl.DataFrame([o.__dict__ for o in outcomes])


def failures(outcomes: list[RuleResult], severity: str = CRITICAL) -> list[RuleResult]:
    """Failed rules of one severity."""
    return [o for o in outcomes if not o.success and o.severity == severity]


def failure_message(failed: list[RuleResult], files: dict[str, str], docs: Path | None) -> str:
    """What a person needs to fix the data: file, row, column, rule, and the offending values.

    Raw tables label each offending row with its file and line (``data/raw/claims.csv, row
    5``), so the example list is where to look.
    """
    lines = [f"validation failed: {len(failed)} critical rule(s) broken"]
    for o in failed:
        lines.append(f"- {files.get(o.table, o.table)}: column {o.column or '-'}: "
                     f"[{o.rule}] {o.description}: {o.unexpected} of {o.evaluated} row(s) "
                     "offend" + (f"; {o.examples}" if o.examples else ""))
    if docs is not None:
        lines.append(f"Data Docs: {docs / 'index.html'}")
    return "\n".join(lines)
