"""Strict parameters: unknown names and wrong types stop a run and list what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from citycluster.chain import params
from citycluster.chain.cli import main
from citycluster.chain.params import ParameterError, load_defaults, merge, parse_assignment
from citycluster.chain.steps import STEPS, declared_parameters, import_source, select_steps
from citycluster.paths import repo_root


def test_values_are_read_as_yaml() -> None:
    assert parse_assignment("approx_tolerance=0.1") == ("approx_tolerance", 0.1)
    assert parse_assignment("report_languages=[en]") == ("report_languages", ["en"])
    assert parse_assignment("lang=zh") == ("lang", "zh")


def test_malformed_assignment() -> None:
    with pytest.raises(ParameterError, match="name=value"):
        parse_assignment("approx_tolerance")


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ParameterError) as err:
        merge({"seed": 1, "lang": "en"}, {"sead": 2})
    assert "unknown parameter(s): sead" in str(err.value)
    assert "Valid parameters: lang, seed" in str(err.value)


@pytest.mark.parametrize(("name", "value"), [("seed", "x"), ("seed", 1.5), ("seed", True),
                                             ("tol", "0.1"), ("langs", "en"), ("langs", [1])])
def test_wrong_type_is_refused(name: str, value: object) -> None:
    defaults = {"seed": 1, "tol": 0.05, "langs": ["zh", "en"]}
    with pytest.raises(ParameterError, match=f"parameter {name} must be"):
        merge(defaults, {name: value})


def test_int_is_accepted_for_float_and_kept_as_float() -> None:
    assert merge({"tol": 0.05}, {"tol": 1}) == {"tol": 1.0}


def test_every_notebook_parameter_is_documented() -> None:
    defaults = load_defaults()
    for step in STEPS:
        declared = declared_parameters(repo_root() / step.notebook)
        assert declared, f"{step.notebook} has no parameters cell"
        assert set(declared) <= set(defaults) | set(params.RUNNER_SET), step.notebook


def test_the_imports_run_ahead_are_each_notebooks_own(tmp_path: Path) -> None:
    """What a kernel started ahead runs: every top-level import, in order, and nothing else;
    a cell that is not Python (a magic) is skipped, not an error."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("import nothing"),
        nbformat.v4.new_code_cell("x: int = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import polars as pl\nfrom citycluster.ingest import staging\n"
                                  "y = pl.DataFrame()\nif y.is_empty():\n    import json"),
        nbformat.v4.new_code_cell("%time y\nimport os"),
        nbformat.v4.new_code_cell("from pathlib import (\n    Path,\n)"),
    ])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert import_source(path) == ("import polars as pl\nfrom citycluster.ingest import staging\n"
                                   "from pathlib import (\n    Path,\n)")
    for step in STEPS:  # every notebook of the chain imports something, and only that
        source = import_source(repo_root() / step.notebook)
        assert source and all(line.startswith(("import ", "from ", "    ", ")"))
                              for line in source.splitlines()), (step.name, source)


def test_step_selection() -> None:
    assert [s.name for s in select_steps(until="02")] == ["01_ingest", "02_validate"]
    assert [s.name for s in select_steps(only=["report", "ingest"])] == ["01_ingest",
                                                                      "06_report"]
    with pytest.raises(ParameterError, match="steps are"):
        select_steps(until="07_publish")


@pytest.mark.parametrize(("assignment", "allowed"), [
    ("report_languages=[fr]", "one of en, zh"),
    ("bootstrap_reps=-5", ">= 1"),
    ("rounding_tolerance=5", "< 1"),
    ("approx_tolerance=1.0", "< 1"),
    ("cov_type=HC9", "one of nonrobust"),
    ("max_year_gap=-1", ">= 0"),
])
def test_out_of_domain_values_are_refused_before_any_step(assignment: str, allowed: str) -> None:
    result = CliRunner().invoke(main, ["run", "-p", assignment])
    assert result.exit_code == 2, result.output
    name = assignment.split("=")[0]
    assert f"parameter {name}" in result.output and allowed in result.output


def test_lang_is_not_a_user_parameter() -> None:
    result = CliRunner().invoke(main, ["run", "-p", "lang=fr"])
    assert result.exit_code == 2 and "report_languages" in result.output


def test_a_yaml_syntax_error_is_one_line_with_its_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 1\nbootstrap_reps: [1, 2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--params", str(bad)])
    assert result.exit_code == 2
    line = [ln for ln in result.output.splitlines() if "bad.yaml:" in ln]
    assert line and "YAML syntax" in line[0] and "Traceback" not in result.output


def test_every_default_is_inside_its_declared_domain() -> None:
    defaults, schema = params.load_defaults(), params.load_schema()
    assert set(defaults) == set(schema["properties"])
    params.check_domains(defaults)


def test_every_parameter_has_a_meaning_in_the_catalogs() -> None:
    """The report's footer gives each parameter's meaning from the catalogs (the English one is
    the source of every other, so parity carries this to each language)."""
    from citycluster import languages

    meanings = languages.catalog(languages.SOURCE_LANGUAGE)["parameters"]
    assert set(meanings) == set(params.load_schema()["properties"])


def test_the_language_domain_is_the_catalogs_present(tmp_path, monkeypatch) -> None:
    from citycluster import languages

    items = params.load_schema()["properties"]["report_languages"]["items"]["enum"]
    assert items == list(languages.available()) == ["en", "zh"]
    (tmp_path / "xx.yaml").write_text("meta: {babel: en}\n", encoding="utf-8")
    monkeypatch.setattr(languages, "CATALOG_DIRS", [*languages.CATALOG_DIRS, tmp_path])
    assert "xx" in params.load_schema()["properties"]["report_languages"]["items"]["enum"]


def test_notebook_parameter_cells_are_generated_from_the_yaml() -> None:
    import json

    from citycluster.chain.cells import parameter_cells
    from citycluster.paths import repo_root

    for nb, expected in parameter_cells(repo_root()).items():
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        cell = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
        assert "".join(cell["source"]) == expected, f"{nb.name}: run `citycluster cells`"
        for line in expected.splitlines():
            if " = " in line and not line.startswith(" "):
                assert ": " in line.split(" = ")[0]  # a type hint on every parameter


def test_a_formula_reading_a_column_its_sample_lacks_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("models:\n  - {name: m, family: share, sample: provinces,\n"
                    "     formula: 'gdp_share ~ pop_share + rainfall'}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--params", str(spec)])
    assert result.exit_code == 2
    assert "rainfall" in result.output and "sample provinces does not have" in result.output


def test_anything_refused_is_a_message_and_a_status_not_a_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from citycluster.chain.params import ParameterError
    from citycluster.chain.runner import StepFailed
    from citycluster.errors import CityclusterError
    from citycluster.validation.audit import ValidationFailed

    for kind in (ParameterError, StepFailed, ValidationFailed):
        assert issubclass(kind, CityclusterError)
    env = dict(os.environ, CITYCLUSTER_ROOT=str(tmp_path))  # not a repository
    done = subprocess.run([sys.executable, "-m", "citycluster", "run"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "does not look like the citycluster repository" in done.stderr
    assert "Traceback" not in done.stderr
