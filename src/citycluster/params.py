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

from citycluster.paths import repo_root

DEFAULT_PARAMS = Path("params") / "default.yaml"


class ParameterError(ValueError):
    """A parameter name or value the run cannot accept."""


def load_defaults(path: Path | None = None) -> dict[str, Any]:
    """The documented defaults; every valid parameter name is a key here."""
    path = path or repo_root() / DEFAULT_PARAMS
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values")
    return data


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
        raise ParameterError(
            f"unknown parameter(s): {', '.join(sorted(unknown))}. "
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
        with open(params_file, encoding="utf-8") as fh:
            from_file = yaml.safe_load(fh) or {}
        if not isinstance(from_file, dict):
            raise ParameterError(f"{params_file}: expected a mapping of parameter names to values")
        overrides.update(from_file)
    for text in assignments:
        name, value = parse_assignment(text)
        overrides[name] = value
    merged = merge(defaults, overrides)
    check_structured(merged)
    return merged


def check_structured(params: Mapping[str, Any]) -> None:
    """Check the model and trend specs before any step runs, so a typo fails in a second."""
    from citycluster.modelspec import (
        SAMPLE_NAMES,
        ModelSpecError,
        TrendError,
        TrendSpec,
        parse_specs,
    )

    try:
        parse_specs(params.get("models", []), SAMPLE_NAMES)
        for i, raw in enumerate(params.get("trends", [])):
            TrendSpec.parse(raw, i)
    except (ModelSpecError, TrendError) as exc:
        raise ParameterError(str(exc)) from exc
