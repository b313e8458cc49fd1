"""Run parameters: the defaults in ``params/default.yaml``, overrides, and strict checking.

papermill only warns about a parameter a notebook does not declare, so a mistyped name would run
silently with the default. Here an unknown name or a value of the wrong type stops the run and
lists what is valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from citycluster import languages
from citycluster.errors import UsageError
from citycluster.paths import repo_root

DEFAULT_PARAMS = Path("params") / "default.yaml"
PARAM_SCHEMA = Path("params") / "schema.yaml"
#: Set by the runner for each execution, never by the user: 05_figures and 06_report run once
#: per language.
RUNNER_SET = ("lang",)


class ParameterError(UsageError):
    """A parameter name or value the run cannot accept."""


def read_yaml(path: Path) -> Any:
    """A YAML file's content; a syntax error becomes one line with file, line and column."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ParameterError(f"{where}: {exc.problem or exc.context} (YAML syntax)") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: {exc} (YAML syntax)") from None


def load_defaults(path: Path | None = None) -> dict[str, Any]:
    """The documented defaults; every valid parameter name is a key here."""
    path = path or repo_root() / DEFAULT_PARAMS
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values")
    return data


def load_schema() -> dict[str, Any]:
    """The declared domain and meaning of every parameter (``params/schema.yaml``)."""
    schema = read_yaml(repo_root() / PARAM_SCHEMA)
    if not isinstance(schema, dict) or "properties" not in schema:
        raise ParameterError(f"{PARAM_SCHEMA}: expected a JSON Schema with properties")
    for prop in schema["properties"].values():  # a language is allowed when it has a catalog
        items = prop.get("items", {})
        if items.get("x-enum-from") == "catalogs":
            items["enum"] = list(languages.available())
    return schema


def _allowed(schema: dict[str, Any]) -> str:
    """What a schema node allows, in words, for the error message."""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        items = _allowed(schema["items"])
        return f"a list of {items}" if items else "a list"
    parts = [str(schema["type"])] if "type" in schema else []
    for key, words in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                       ("exclusiveMaximum", "<"), ("minLength", "length >="),
                       ("minItems", "at least items:")):
        if key in schema:
            parts.append(f"{words} {schema[key]}")
    if schema.get("uniqueItems"):
        parts.append("without repeats")
    return " ".join(parts)


def check_domains(params: Mapping[str, Any]) -> None:
    """Refuse a value outside its declared domain, naming the parameter, the value and what is
    allowed. fastjsonschema does the checking: it imports in about 10 ms where jsonschema takes
    0.7 s, and a refusal should come back in well under a second."""
    import fastjsonschema

    schema = load_schema()
    try:
        fastjsonschema.compile(schema)(dict(params))
    except fastjsonschema.JsonSchemaValueException as exc:
        name = exc.name.removeprefix("data.") if exc.name else "parameters"
        top = schema["properties"].get(name.split("[")[0].split(".")[0], {})
        node = exc.definition if isinstance(exc.definition, dict) else {}
        allowed = _allowed(node) or _allowed(top)
        raise ParameterError(f"parameter {name}: {exc.value!r} is not allowed; "
                             f"allowed: {allowed} ({top.get('description', exc.message)})"
                             ) from None


def parse_assignment(text: str) -> tuple[str, Any]:
    """``name=value`` from the command line, the value read as YAML (0.1, true, [zh, en])."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"-p expects name=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ParameterError(f"-p {name}: cannot read {raw!r} as a value ({exc})") from exc
    return name.strip(), value


def _type_name(value: Any) -> str:
    return type(value).__name__


def _compatible(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list):
        return isinstance(value, list) and all(
            _compatible(default[0], v) for v in value
        ) if default else isinstance(value, list)
    return isinstance(value, type(default))


def merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults with overrides applied; refuses unknown names and values of the wrong type."""
    valid = sorted(defaults)
    unknown = [k for k in overrides if k not in defaults]
    if unknown:
        hint = (" (lang is set by the runner for each language; choose the languages with "
                "report_languages)" if set(unknown) & set(RUNNER_SET) else "")
        raise ParameterError(
            f"unknown parameter(s): {', '.join(sorted(unknown))}{hint}. "
            f"Valid parameters: {', '.join(valid)}"
        )
    merged = dict(defaults)
    for name, value in overrides.items():
        default = defaults[name]
        if not _compatible(default, value):
            raise ParameterError(
                f"parameter {name} must be a {_type_name(default)} like the default "
                f"{default!r}, got {value!r} ({_type_name(value)}). "
                f"Valid parameters: {', '.join(valid)}"
            )
        merged[name] = float(value) if isinstance(default, float) else value
    return merged


def load_params(
    params_file: Path | None = None, assignments: Iterable[str] = ()
) -> dict[str, Any]:
    """Defaults, then a parameters file, then ``-p`` assignments, each checked strictly."""
    defaults = load_defaults()
    overrides: dict[str, Any] = {}
    if params_file is not None:
        from_file = read_yaml(params_file) or {}
        if not isinstance(from_file, dict):
            raise ParameterError(f"{params_file}: expected a mapping of parameter names to values")
        overrides.update(from_file)
    for text in assignments:
        name, value = parse_assignment(text)
        overrides[name] = value
    merged = merge(defaults, overrides)
    check_domains(merged)
    check_structured(merged)
    return merged


def check_structured(params: Mapping[str, Any]) -> None:
    """Check the model and trend specs before any step runs, so a typo fails in a second."""
    from citycluster.analysis.modelspec import (
        ModelSpecError,
        TrendError,
        TrendSpec,
        formula_columns,
        parse_specs,
    )
    from citycluster.analysis.samples import SAMPLE_COLUMNS

    try:
        specs = parse_specs(params.get("models", []), tuple(SAMPLE_COLUMNS))
        for i, raw in enumerate(params.get("trends", [])):
            TrendSpec.parse(raw, i)
        for i, spec in enumerate(specs):
            columns = SAMPLE_COLUMNS[spec.sample]
            if missing := sorted(formula_columns(spec.formula) - set(columns)):
                raise ParameterError(
                    f"models[{i}] {spec.name}: the formula reads {', '.join(missing)}, which "
                    f"sample {spec.sample} does not have; its columns: {', '.join(columns)}")
    except (ModelSpecError, TrendError) as exc:
        raise ParameterError(str(exc)) from exc
