"""House rules for what is committed: clean notebooks, an environment.yml that matches the lock."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from citycluster.chain.steps import STEPS
from citycluster.paths import repo_root

ROOT = repo_root()


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_committed_notebook_has_no_outputs(step) -> None:
    nb = json.loads((ROOT / step.notebook).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, step.notebook
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    tags = [c.get("metadata", {}).get("tags", []) for c in nb["cells"]]
    assert sum("parameters" in t for t in tags) == 1, "exactly one parameters cell"
    nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))


def test_environment_yml_matches_the_lock() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import write_environment_yml as envgen
    finally:
        sys.path.pop(0)
    lock = ROOT / "requirements.lock"
    env = (ROOT / "environment.yml").read_text()
    assert env == envgen.render(lock), "environment.yml is stale: run `make lock`"
    pins = re.findall(r'^      - "(\S+==[^"]+)"$', env, flags=re.M)
    assert pins == envgen.lock_pins(lock) and len(pins) > 50
    assert f"  - python{envgen.requires_python()}\n" in env


def test_lock_pins_what_is_installed() -> None:
    from importlib.metadata import version

    sys.path.insert(0, str(ROOT / "scripts"))
    import write_environment_yml as envgen

    sys.path.pop(0)
    from packaging.markers import Marker

    wrong = []
    for name, pinned, marker in envgen.lock_entries(ROOT / "requirements.lock"):
        if marker and not Marker(marker).evaluate():
            continue  # pinned for another interpreter or platform
        if version(name) != pinned:
            wrong.append(f"{name}: installed {version(name)}, locked {pinned}")
    assert not wrong, wrong


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests", "scripts",
                             "benchmarks"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_data_dictionary_is_generated_from_the_contracts() -> None:
    """data/raw/README.md's column tables are what datapackage.yaml gives (`citycluster
    dictionary` rewrites them); a hand edit or a stale block fails here."""
    from citycluster.data import contracts, dictionary
    from citycluster.paths import repo_root

    raw = repo_root() / "data" / "raw"
    readme = (raw / "README.md").read_text(encoding="utf-8")
    assert dictionary.updated(readme, contracts.load(raw)) == readme


def test_published_tables_dictionary_is_generated_from_their_contracts() -> None:
    from citycluster.data import dictionary, published
    from citycluster.paths import repo_root

    readme = (repo_root() / "data" / "README.md").read_text(encoding="utf-8")
    assert dictionary.updated(readme, published.package()) == readme, "run citycluster dictionary"


def test_a_table_that_drifts_from_its_contract_is_refused() -> None:
    import polars as pl
    import pytest

    from citycluster.data import published

    good = pl.DataFrame({"model": ["m"], "x_var": ["x"], "x": [1.0], "fit": [1.0],
                         "low": [0.5], "high": [1.5]})
    published.check("model_predictions", good)
    with pytest.raises(published.TableContractError, match="undeclared: \\['extra'\\]"):
        published.check("model_predictions", good.with_columns(pl.lit(1).alias("extra")))
    with pytest.raises(published.TableContractError, match="column x: type String"):
        published.check("model_predictions", good.with_columns(pl.lit("1").alias("x")))
    with pytest.raises(published.TableContractError, match="column fit: 1 empty"):
        published.check("model_predictions", good.with_columns(pl.lit(None, pl.Float64)
                                                               .alias("fit")))
    verdicts = pl.DataFrame({"verdict": ["maybe"]})
    with pytest.raises(published.TableContractError, match="columns differ"):
        published.check("factcheck", verdicts)


def test_every_raw_csv_is_declared() -> None:
    from citycluster.data import contracts
    from citycluster.paths import repo_root

    assert contracts.load(repo_root() / "data" / "raw").undeclared_files() == []


def test_no_file_points_to_a_document_outside_the_repository() -> None:
    """The first sketch (DESIGN.md) and the shared folder stay outside; nothing may send a
    reader there."""
    out = subprocess.run(["git", "grep", "-n", "-I", "-e", "DESIGN.md", "-e", "../shared",
                          "--", ".", ":!tests/test_repository.py"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.stdout == "", out.stdout


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", makefile, flags=re.M)
    assert phony is not None
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT,
                         capture_output=True, text=True).stdout
    listed = {line.split()[1] for line in out.splitlines() if line.startswith("make ")}
    assert set(phony.group(1).split()) - {"help"} <= listed, out


def test_every_top_module_and_stage_is_in_a_layer_of_the_import_contract() -> None:
    """Every module and stage at the package top is in a layer of the stages contract: a new
    one must take its place there, or a wrong-way import in it goes unseen."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c["layers"] for c in config["tool"]["importlinter"]["contracts"]
                  if c["type"] == "layers")
    named = {m.strip() for layer in layers for m in layer.replace(":", "|").split("|")}
    top = ROOT / "src" / "citycluster"
    top_modules = {f"citycluster.{p.stem}" for p in top.glob("*.py")
            if p.stem not in ("__init__", "__main__")}
    stages = {f"citycluster.{p.parent.name}" for p in top.glob("*/__init__.py")}
    everything = top_modules | stages
    assert everything == named, (sorted(everything - named), sorted(named - everything))


def test_the_package_is_laid_out_as_stages() -> None:
    """The science lives in the stage sub-packages, each small enough to read: at most eight
    modules at the package top, none over 400 lines, each stage's __init__ saying what it does."""
    top = ROOT / "src" / "citycluster"
    assert len(list(top.glob("*.py"))) <= 8, sorted(p.name for p in top.glob("*.py"))
    for path in top.rglob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 400, f"{path.relative_to(ROOT)}: {lines} lines"
    for init in top.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{init.relative_to(ROOT)}: say what the stage may import"


#: The longest a function may be: one screen, read at once.
MAX_FUNCTION_LINES = 60


def test_no_function_is_longer_than_a_screen() -> None:
    long = []
    for path in (ROOT / "src" / "citycluster").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}::{node.name} ({lines} lines)")
    assert not long, long


def test_the_verdict_words_are_written_once() -> None:
    """The verdicts come from the fact-check contract (factcheck.verdicts reads them there);
    as string literals they appear only where a reason code happens to share the word."""
    from citycluster.factcheck.verdicts import VERDICTS

    written = set()
    for path in (ROOT / "src" / "citycluster").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in VERDICTS:
                written.add(str(path.relative_to(ROOT)))
    assert len(written) <= 2, sorted(written)


def test_notebooks_read_like_a_paper() -> None:
    """Each notebook's title names its own step, and its code cells stay short: the work is in
    the package, the notebook says what each step does and why."""
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0]
        assert title.startswith(f"# {path.stem[:2]} · "), (path.name, title)
        for cell in nb.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if cell.cell_type == "code" and "parameters" not in tags:
                assert len(cell.source.splitlines()) <= 22, (path.name, cell.source[:80])


def test_ci_tests_every_supported_python() -> None:
    """The hosted workflow's matrix is pyproject's requires-python range, no more, no less."""
    import yaml

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import find_python
    finally:
        sys.path.pop(0)
    (_, low), (_, high) = find_python.supported()
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    matrix = workflow["jobs"]["chain"]["strategy"]["matrix"]["python"]
    assert matrix == [f"3.{m}" for m in range(low, high)]
    sweep = yaml.safe_load((ROOT / ".github" / "workflows" / "sweep.yml").read_text())
    assert sweep["env"]["PYTHON_VERSION"] in matrix


def test_an_unsupported_python_is_refused_with_the_range(tmp_path: Path) -> None:
    """`find_python.py --check` (the Makefile runs it before building .venv) accepts this
    interpreter, and refuses it, naming the range, once requires-python excludes it."""
    ok = subprocess.run([sys.executable, str(ROOT / "scripts" / "find_python.py"), "--check"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "find_python.py", tmp_path / "scripts")
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.8,<3.10"\n')
    refused = subprocess.run([sys.executable, str(tmp_path / "scripts" / "find_python.py"),
                              "--check"], capture_output=True, text=True)
    assert refused.returncode == 1
    assert "citycluster needs Python 3.8 to 3.9" in refused.stderr
    assert "make PYTHON=" in refused.stderr
