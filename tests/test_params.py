"""Strict parameters: unknown names and wrong types stop a run and list what is valid."""

from __future__ import annotations

import pytest

from citycluster.params import ParameterError, load_defaults, merge, parse_assignment
from citycluster.paths import repo_root
from citycluster.pipeline import STEPS, declared_parameters, select_steps


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
        assert set(declared) <= set(defaults), step.notebook


def test_step_selection() -> None:
    assert [s.name for s in select_steps(until="02")] == ["01_ingest", "02_validate"]
    assert [s.name for s in select_steps(only=["report", "ingest"])] == ["01_ingest",
                                                                      "06_report"]
    with pytest.raises(ParameterError, match="steps are"):
        select_steps(until="07_publish")
