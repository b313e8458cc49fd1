"""The bad-input corpus: corrupted raw tables, each refused with a message a person can act on.

Each case corrupts a copy of ``data/raw``, runs ingest and validation in-process exactly as the
chain does (stage, audit, publish only if clean), and asserts the error names the file, the row
or offending values, the column and the rule, and that ``data/processed`` is byte-identical
afterwards. ``test_chain.py`` covers the same path end to end through ``citycluster run``.

A file that cannot be read stops ingest at once, so each such case runs alone. The audit reports
every broken rule at once and costs seconds, so the cases it judges share audits: cases that
change different lines are applied together to one copy and audited once, and each case must
still find its own line in the message (its file, column, rule and offending row or value).
"""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from citycluster.data import contracts
from citycluster.data.rawcsv import RawInputError
from citycluster.ingest.staging import stage_all
from citycluster.paths import repo_root
from citycluster.validation import audit
from tests.conftest import tree_bytes

RAW = repo_root() / "data" / "raw"
CLAIMS = "claims.csv"
NATIONAL = "reference/national_totals.csv"
PROVINCES = "reference/china_provinces_2023.csv"
MEMBERSHIP = "reference/cluster_membership.csv"
LINKS = "factcheck_links.csv"


@dataclass(frozen=True)
class Case:
    """One corruption: which file, how, and the fragments the error must contain."""

    name: str
    file: str
    corrupt: Callable[[bytes], bytes]
    expect: tuple[str, ...]


def sub(old: str, new: str, count: int = 1) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        text = data.decode("utf-8")
        assert old in text, f"corpus fixture out of date: {old!r} not in file"
        return text.replace(old, new, count).encode("utf-8")
    return apply


def lines(edit: Callable[[list[str]], list[str]]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        return "\n".join(edit(data.decode("utf-8").split("\n"))).encode("utf-8")
    return apply


RAW_CASES = [
    Case("missing file", CLAIMS, lambda d: b"", ("claims.csv", "file-empty")),
    Case("empty file", NATIONAL, lambda d: b"\n\n", ("national_totals.csv", "file-empty")),
    Case("byte-order mark", CLAIMS, lambda d: b"\xef\xbb\xbf" + d,
         ("claims.csv, row 1", "byte-order-mark")),
    Case("not UTF-8 (GBK)", CLAIMS, lambda d: d.decode("utf-8").encode("gbk"),
         ("claims.csv, row 2", "not-utf8")),
    Case("semicolon delimiter", CLAIMS, lambda d: d.replace(b",", b";"),
         ("claims.csv, row 1", "delimiter", "';'")),
    Case("tab delimiter", PROVINCES, lambda d: d.replace(b",", b"\t"),
         ("china_provinces_2023.csv", "delimiter")),
    Case("renamed column", CLAIMS, sub("qualifier,year", "qualifer,year"),
         ("claims.csv, row 1, column qualifier", "missing-column", "renamed to 'qualifer'")),
    Case("missing column", NATIONAL, lines(lambda ls: [",".join(
        row.split(",")[:-1]) if i == 0 else row for i, row in enumerate(ls)]),
         ("national_totals.csv, row 1, column note", "missing-column")),
    Case("duplicated header", CLAIMS, sub("year,note", "year,year"),
         ("claims.csv, row 1, column year", "duplicate-column")),
    Case("columns reordered", CLAIMS, sub("value,unit,", "unit,value,"),
         ("claims.csv, row 1", "column-order")),
    Case("stray blank line", CLAIMS, lines(lambda ls: [*ls[:5], "", *ls[5:]]),
         ("claims.csv, row 6", "blank-line")),
    Case("thousands separator", PROVINCES, sub(",43760.7,", ',"43,760.7",'),
         ("china_provinces_2023.csv, row 2, column value", "thousands-separator")),
    Case("full-width digits", CLAIMS, sub(",6500,万人,", ",６５００,万人,"),
         ("claims.csv, row 29, column value", "full-width-digits")),
    Case("text in a number column", CLAIMS, sub(",6500,万人,", ",约6500,万人,"),
         ("claims.csv, row 29, column value", "not-a-number")),
    Case("field count", CLAIMS, sub("C002,P018,", "C002,P018,extra,"),
         ("claims.csv, row 3", "field-count")),
    Case("whole_province not boolean", MEMBERSHIP, sub(",true,", ",yes,"),
         ("cluster_membership.csv, row 2, column whole_province", "not-a-boolean")),
    Case("integer with decimals", CLAIMS, sub(",approx,2023,", ",approx,2023.5,"),
         ("claims.csv, row 7, column year", "not-an-integer")),
]

AUDIT_CASES = [
    Case("unknown unit", CLAIMS, sub(",6500,万人,", ",6500,萬人,"),
         ("claims.csv: column unit", "unit is one of the unit table",
          "claims.csv, row 29: '萬人'")),
    Case("bad qualifier", CLAIMS, sub(",approx,2023,", ",about,2023,"),
         ("column qualifier", "qualifier is one of", "row 7: 'about'")),
    Case("duplicate claim_id", CLAIMS, sub("C003,P018", "C002,P018"),
         ("column claim_id", "claim_id is unique", "C002")),
    Case("malformed claim_id", CLAIMS, sub("C003,P018", "c3,P018"),
         ("column claim_id", "claim_id matches", "row 4: 'c3'")),
    Case("paragraph not in article", CLAIMS, sub("C003,P018", "C003,P999"),
         ("paragraph exists in article_paragraphs.paragraph", "claims.csv, row 4")),
    Case("empty key", CLAIMS, sub("C004,P019,eu_blue_banana", "C004,P019,"),
         ("column entity_id", "entity_id is filled in (required)", "1 of 58", "row 5")),
    Case("share above 1", CLAIMS, sub(",57,%,eq,2023,", ",157,%,eq,2023,"),
         ("column value_base", "shares and rates of a whole", "row 8: 1.57")),
    Case("value and printed disagree", CLAIMS, sub(",57%,57,%,eq,2023,", ",57%,70,%,eq,2023,"),
         ("column printed_agrees", "the number read from printed equals value",
          "claims.csv, row 8")),
    Case("implausible year", CLAIMS, sub(",approx,2023,", ",approx,3023,"),
         ("column year", "year lies within", "row 7: 3023")),
    Case("negative population", PROVINCES, sub(",43760.7,", ",-43760.7,"),
         ("column value_base", "positive", "china_provinces_2023.csv, row 2")),
    Case("unknown source kind", NATIONAL, sub(",aggregator,", ",likely,"),
         ("column source_kind", "source_kind is one of", "'likely'")),
    Case("source missing", NATIONAL, sub("National Bureau of Statistics of China (NBS)", "", 1),
         ("column source_publisher", "source_publisher is filled in",
          "national_totals.csv, row")),
    Case("duplicate ref_id", PROVINCES, sub("PROV002,", "PROV001,"),
         ("column source_file+ref_id", "ref_id is unique within its file")),
    Case("unknown cluster", MEMBERSHIP, sub("cn_yrd,", "cn_xyz,"),
         ("cluster_membership.csv: column cluster_id", "cluster_id is one of", "'cn_xyz'")),
    Case("provinces do not add up", PROVINCES, sub(",43760.7,", ",843760.7,"),
         ("rules across tables: column relative_gap", "provincial sums within 5%",
          "CHN gdp 2023")),
    Case("link to a reference that does not exist", LINKS,
         sub("C045,cn_kunshan,output_electronic_information,", "C045,cn_kunshan,output_x,"),
         ("ref_entity_id+ref_metric exists in reference", "factcheck_links.csv, row")),
    Case("link to a claim that does not exist", LINKS, sub("C045,cn_kunshan,", "C945,cn_kunshan,"),
         ("claim_id exists in claims.claim_id", "factcheck_links.csv, row")),
    Case("link with an unknown relation", LINKS, sub(",value,,upper_bound,,The wider",
                                                     ",value,,roughly,,The wider"),
         ("factcheck_links.csv", "relation", "roughly")),
    Case("change link without its base year", LINKS, sub(",change,1951,same,", ",change,,same,"),
         ("factcheck_links.csv, row", "a change link names both years")),
    Case("province outnumbers its country", PROVINCES, sub(",2185.8,", ",218580,"),
         ("column ratio", "population is below its country's", "cn_prov_beijing")),
]


def blank(column: str, row: int = 2, value: str = "") -> Callable[[bytes], bytes]:
    """Empty one field (row = file line) and write the CSV back as it was otherwise."""
    def apply(data: bytes) -> bytes:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        rows[row - 1][rows[0].index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue().encode("utf-8")
    return apply


def _required_cases() -> list[Case]:
    """One blanked required field per declared raw file (whitespace-only for every other one):
    each must stop validation with the file, row, column and the required rule."""
    cases = []
    package = contracts.load(RAW)
    for i, contract in enumerate(package):
        column = contract.required[-1]
        value = "   " if i % 2 else ""
        cases.append(Case(f"blank required {contract.path}:{column}", contract.path,
                          blank(column, 2, value),
                          (f"column {column}",
                           f"{column} is filled in (required)", f"{contract.path}, row 2")))
    return cases


REQUIRED_CASES = _required_cases()


def stage_audit_publish(raw: Path, root: Path) -> None:
    """What 01_ingest and 02_validate do, in-process: stage, audit, publish only if clean."""
    staging, processed = root / "staging", root / "processed"
    stage_all(raw, staging, 0.05)
    result = audit.audit(staging, raw, 0.05, None)
    if result.critical_failures.height:
        raise audit.ValidationFailed(audit.failure_message(result))
    audit.publish(staging, processed)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace where the clean raw tables were staged, audited and published once."""
    root = tmp_path_factory.mktemp("wap")
    stage_audit_publish(RAW, root)
    return root


def corrupted_raw(tmp_path: Path, case: Case) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    target = raw / case.file
    target.write_bytes(case.corrupt(target.read_bytes()))
    return raw


def _assert_refused(case: Case, published: Path, tmp_path: Path, error: type) -> None:
    raw = corrupted_raw(tmp_path, case)
    before = tree_bytes(published / "processed")
    with pytest.raises(error) as info:
        stage_audit_publish(raw, published)
    message = str(info.value)
    for fragment in case.expect:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert tree_bytes(published / "processed") == before


def changed_lines(case: Case) -> set[tuple[str, int]]:
    """The (file, line) pairs a case changes: two cases that share none can share an audit."""
    original = (RAW / case.file).read_bytes()
    old, new = original.split(b"\n"), case.corrupt(original).split(b"\n")
    assert len(old) == len(new), f"{case.name}: an audit case changes lines, never their count"
    changed = {(case.file, i) for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b}
    assert changed, f"{case.name}: the corruption changes nothing"
    return changed


#: Cases of one table an audit takes at most: a rule's message names only the first
#: ``ex.EXAMPLES`` offending rows, and several cases of a table may break the same rule.
PER_TABLE = 3


def batches(cases: list[Case]) -> dict[str, int]:
    """Each case's audit: the first whose cases change none of the lines it changes and hold
    fewer than PER_TABLE cases of its table."""
    table_of = {c.path: c.table for c in contracts.load(RAW)}
    taken: list[tuple[set[tuple[str, int]], Counter[str]]] = []
    batch_of = {}
    for case in cases:
        lines_, table = changed_lines(case), table_of[case.file]
        batch = next((i for i, (seen, tables) in enumerate(taken)
                      if not seen & lines_ and tables[table] < PER_TABLE), len(taken))
        if batch == len(taken):
            taken.append((set(), Counter()))
        taken[batch][0].update(lines_)
        taken[batch][1][table] += 1
        batch_of[case.name] = batch
    return batch_of


class SharedAudits:
    """Audits of several corruptions at once, each run the first time one of its cases asks."""

    def __init__(self, cases: list[Case], published: Path, folder: Path) -> None:
        self.cases, self.published, self.folder = cases, published, folder
        self.batch_of = batches(cases)
        self.messages: dict[int, str] = {}

    def message(self, case: Case) -> str:
        """The refusal of the audit ``case`` shares, checked to have published nothing."""
        batch = self.batch_of[case.name]
        if batch not in self.messages:
            raw = self.folder / f"raw-{batch}"
            shutil.copytree(RAW, raw)
            for other in self.cases:
                if self.batch_of[other.name] == batch:
                    target = raw / other.file
                    target.write_bytes(other.corrupt(target.read_bytes()))
            before = tree_bytes(self.published / "processed")
            with pytest.raises(audit.ValidationFailed) as info:
                stage_audit_publish(raw, self.published)
            assert tree_bytes(self.published / "processed") == before
            self.messages[batch] = str(info.value)
        return self.messages[batch]


def assert_own_line(case: Case, audits: SharedAudits) -> None:
    """One line of the shared audit's message carries every fragment the case expects."""
    message = audits.message(case)
    assert any(all(f in line for f in case.expect) for line in message.splitlines()), \
        f"no line of the message has all of {case.expect!r}:\n{message}"


@pytest.fixture(scope="module")
def audits(published: Path, tmp_path_factory: pytest.TempPathFactory) -> SharedAudits:
    return SharedAudits(AUDIT_CASES + REQUIRED_CASES, published,
                        tmp_path_factory.mktemp("audits"))


def first_fast(cases: list[Case]) -> list[Any]:
    """Every case for ``make test``; only the first for ``make test-fast`` (each audit a
    second or two)."""
    return [pytest.param(c, id=c.name, marks=() if i == 0 else pytest.mark.slow)
            for i, c in enumerate(cases)]


def test_clean_tables_pass_and_publish(published: Path) -> None:
    names = sorted(p.name for p in (published / "processed").iterdir())
    declared = {f"{t}.parquet" for t in contracts.load(RAW).tables()}
    derived = {f"{t}.parquet" for t in audit.DERIVED_TABLES}
    assert names == sorted(declared | derived)


def test_publishing_keeps_the_later_steps_tables(published: Path, tmp_path: Path) -> None:
    """Validation alone (``--only 02_validate``) replaces the tables it publishes and keeps
    the later steps' (models, fact-check), which only those steps rewrite. (The runner's part,
    that such a run leaves them in place, is tests/test_chain.py's.)"""
    staging, processed = tmp_path / "staging", tmp_path / "processed"
    shutil.copytree(published / "staging", staging)
    shutil.copytree(published / "processed", processed)
    later = processed / "models.parquet"
    later.write_bytes(b"a later step's table")
    names = audit.publish(staging, processed)
    assert later.read_bytes() == b"a later step's table"
    assert names == sorted(p.name for p in staging.glob("*.parquet"))
    assert all((processed / n).read_bytes() == (staging / n).read_bytes() for n in names)


@pytest.mark.parametrize("case", RAW_CASES, ids=lambda c: c.name)
def test_unreadable_input_is_refused(case: Case, published: Path, tmp_path: Path) -> None:
    _assert_refused(case, published, tmp_path, RawInputError)


@pytest.mark.parametrize("case", first_fast(AUDIT_CASES))
def test_invalid_values_are_refused(case: Case, audits: SharedAudits) -> None:
    assert_own_line(case, audits)


@pytest.mark.parametrize("case", first_fast(REQUIRED_CASES))
def test_blank_required_field_is_refused(case: Case, audits: SharedAudits) -> None:
    assert_own_line(case, audits)


def test_every_raw_file_has_a_required_case() -> None:
    files = {c.path for c in contracts.load(RAW)}
    assert files == {c.file for c in REQUIRED_CASES}


def test_undeclared_file_is_refused(tmp_path: Path, published: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "reference" / "extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(RawInputError, match=r"extra.csv: \[undeclared-file\]"):
        stage_audit_publish(raw, published)


def test_missing_file_is_named(tmp_path: Path, published: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / MEMBERSHIP).unlink()
    with pytest.raises(RawInputError, match=r"cluster_membership.csv: \[file-missing\]"):
        stage_audit_publish(raw, published)


@pytest.mark.slow
def test_the_benchmark_panel_passes_the_audit(tmp_path: Path) -> None:
    """The bench's scale run feeds a synthetic panel through the real audit; a contract change
    that the panel does not follow (a new required column) must fail here, not in `make bench`."""
    from benchmarks.run import write_panel

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    write_panel(raw, rows=200)
    stage_audit_publish(raw, tmp_path / "work")
    assert (tmp_path / "work" / "processed").is_dir()


def test_data_docs_judge_like_the_plain_audit(tmp_path: Path) -> None:
    """With great-expectations' Data Docs asked for (``-p data_docs=true``) the suites run
    through a checkpoint that stores them; otherwise each is validated on its batch with
    nothing stored. Both give the same outcomes, and only the first writes the pages."""
    import polars as pl

    from citycluster.validation import expectations as ex

    frame = pl.DataFrame({"id": ["a", "b", "b"], "value": [1.0, -2.0, 3.0]})
    rules = [ex.Rule("ExpectColumnValuesToBeUnique", {"column": "id"}, "id is unique"),
             ex.Rule("ExpectColumnValuesToBeBetween", {"column": "value", "min_value": 0},
                     "value is not negative", ex.WARNING)]
    plain = ex.run_suites({"t": (frame, rules, "id")})
    docs = ex.run_suites({"t": (frame, rules, "id")}, tmp_path / "docs")
    assert plain == docs
    assert [(o.success, o.unexpected, o.severity) for o in plain] == [
        (False, 2, ex.CRITICAL), (False, 1, ex.WARNING)]
    assert (tmp_path / "docs" / "index.html").is_file()
