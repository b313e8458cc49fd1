"""Model and trend specifications from the parameters, checked without heavy imports.

The command line checks every spec before a step starts, so a typo fails in a fraction of a
second; this module therefore imports nothing but the standard library. Fitting lives in
:mod:`citycluster.analysis.models` and :mod:`citycluster.analysis.trends`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from citycluster.errors import UsageError

FAMILIES = ("share", "scaling", "linkage")

class ModelSpecError(UsageError):
    """A model specification that cannot mean anything: fix the parameters."""


@dataclass(frozen=True)
class ModelSpec:
    """One model from the ``models`` parameter."""

    name: str
    family: str
    sample: str
    formula: str
    null: dict[str, float] = field(default_factory=dict)
    key_term: str | None = None

    @classmethod
    def parse(cls, raw: Any, index: int, samples: tuple[str, ...]) -> ModelSpec:
        """Check one entry of ``models``; the error names the entry and the key at fault."""
        where = f"models[{index}]"
        if not isinstance(raw, dict):
            raise ModelSpecError(f"{where}: expected a mapping, got {raw!r}")
        where = f"models[{index}] ({raw.get('name', 'unnamed')})"
        required = {"name", "family", "sample", "formula"}
        allowed = required | {"h0", "key_term"}
        if missing := required - set(raw):
            raise ModelSpecError(f"{where}: missing key(s) {', '.join(sorted(missing))}")
        if extra := set(raw) - allowed:
            raise ModelSpecError(f"{where}: unknown key(s) {', '.join(sorted(extra))}; "
                                 f"allowed: {', '.join(sorted(allowed))}")
        if raw["family"] not in FAMILIES:
            raise ModelSpecError(f"{where}: family {raw['family']!r} is not one of "
                                 f"{', '.join(FAMILIES)}")
        if raw["sample"] not in samples:
            raise ModelSpecError(f"{where}: sample {raw['sample']!r} is not one of "
                                 f"{', '.join(samples)}")
        if "~" not in str(raw["formula"]):
            raise ModelSpecError(f"{where}: formula {raw['formula']!r} has no '~'")
        null = raw.get("h0") or {}
        if not isinstance(null, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in null.values()):
            raise ModelSpecError(f"{where}: h0 must map terms to numbers, got {null!r}")
        return cls(str(raw["name"]), raw["family"], raw["sample"], str(raw["formula"]),
                   {str(k): float(v) for k, v in null.items()}, raw.get("key_term"))


#: Names a formula may call rather than read from the sample (patsy's and numpy's).
FORMULA_FUNCTIONS = frozenset({"np", "C", "I", "Q", "log", "exp", "sqrt", "center",
                               "standardize", "scale", "Treatment", "Sum", "Poly"})


def formula_columns(formula: str) -> set[str]:
    """The sample columns a formula reads: every bare name that is not a function or module.

    The formula is read as Python (``~`` and ``:`` become operators), which covers what the
    model specs use: transforms such as ``np.log(x)``, ``C(cluster)`` and interactions.
    """
    import ast

    text = formula.replace("~", ",").replace(":", "*")
    try:
        tree = ast.parse(f"({text})", mode="eval")
    except SyntaxError as exc:
        raise ModelSpecError(f"cannot read formula {formula!r}: {exc.msg}") from None
    skip = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    skip |= {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and id(n) not in skip and n.id not in FORMULA_FUNCTIONS}


def parse_specs(raw: list[Any], samples: tuple[str, ...]) -> list[ModelSpec]:
    """All model specs, checked; names must be unique because they key every output row."""
    specs = [ModelSpec.parse(r, i, samples) for i, r in enumerate(raw)]
    names = [s.name for s in specs]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise ModelSpecError(f"models: duplicate name(s) {', '.join(dupes)}")
    return specs


class TrendError(UsageError):
    """A trend spec that names no usable pair of dated claims."""


@dataclass(frozen=True)
class TrendSpec:
    entity_id: str
    metric: str

    @classmethod
    def parse(cls, raw: Any, index: int) -> TrendSpec:
        """A ``trends`` entry from the parameters; says which entry and key is wrong."""
        if not isinstance(raw, dict) or set(raw) != {"entity_id", "metric"}:
            raise TrendError(f"trends[{index}]: expected a mapping with exactly entity_id and "
                             f"metric, got {raw!r}")
        return cls(str(raw["entity_id"]), str(raw["metric"]))
