"""Reproducible and resumable: determinism, the cache, and interrupted runs.

Determinism is judged on the real notebooks: the chain's run against a second, independent
run of every notebook by hand (see :func:`by_hand`). The cache and interrupted runs are the
runner's behaviour, judged on the stand-in chain (tests/standin.py), whose notebooks replay
the real run's outputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from citycluster.chain.catalog import DATASETS, FLOWS, INTERACTIVE_NOTICE
from citycluster.chain.params import load_defaults
from tests.conftest import (
    changed_files,
    completed,
    has_traceback,
    recorded_once,
    run_cli,
    tree_bytes,
)
from tests.standin import hold, wait_started
from tests.test_lab import LANG as LAB_LANG
from tests.test_lab import NOTEBOOK as RUN_IN_LAB

pytestmark = pytest.mark.chain
#: The report languages a run makes by default, each compared with its run by hand.
LANGUAGES = tuple(load_defaults()["report_languages"])
VOLATILE = re.compile(r'<(dd|details) class="volatile">.*?</\1>', re.S)


def without_volatile(html: str) -> str:
    """A report without its volatile footer parts (build time, step timings)."""
    return VOLATILE.sub("", html)


def report_body(root: Path, lang: str) -> str:
    """A published report, less its volatile parts."""
    return without_volatile((root / "reports" / f"report.{lang}.html").read_text(encoding="utf-8"))


def assert_same_results(a: Path, b: Path) -> None:
    assert tree_bytes(a / "data" / "processed") == tree_bytes(b / "data" / "processed")
    for name in ("models.csv", "factcheck.csv", "model_influence.csv"):
        assert (a / "reports" / name).read_bytes() == (b / "reports" / name).read_bytes()
    assert tree_bytes(a / "reports" / "figures") == tree_bytes(b / "reports" / "figures")
    for lang in LANGUAGES:
        assert report_body(a, lang) == report_body(b, lang)


def by_hand_run(root: Path, scratch: Path) -> dict[str, Any]:
    """Every notebook executed from notebooks/ as a researcher would: ``jupyter nbconvert
    --execute``, and 05_figures and 06_report once per language by plain papermill. Each reads what
    the ones before wrote under build/interactive/ (01_ingest reads the raw files), so together
    they are a second clean run from the raw files, independent of the runner; notebooks that
    read nothing of each other's run two at a time, as the chain runs them
    (:func:`citycluster.chain.plan.waves`). (A notebook that read a published table where it
    should read its predecessor's scratch output would go unnoticed here, since both hold the
    same bytes; the comparisons of whole folders below catch any scratch output that is
    missing.) 05_figures in its own language (``LAB_LANG``) is run by hand in JupyterLab
    instead (tests/test_lab.py), where its figures are compared the same way: without a
    browser, that comparison is skipped with it."""
    from citycluster.chain.plan import waves
    from citycluster.chain.steps import STEPS

    env = {k: v for k, v in os.environ.items() if k != "CITYCLUSTER_RUN"}
    env["CITYCLUSTER_ROOT"] = str(root)
    bin_ = Path(sys.executable).parent
    notebooks = root / "notebooks"

    def execute(step: str, lang: str | None) -> tuple[str, dict[str, Any]]:
        name = f"{step}.{lang}" if lang else step
        out = scratch / f"{name}.out.ipynb"
        command = ([str(bin_ / "papermill"), "--cwd", str(notebooks), f"{step}.ipynb",
                    str(out), "-p", "lang", lang] if lang else
                   [str(bin_ / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                    f"{step}.ipynb", "--output", str(out)])
        done = subprocess.run(command, cwd=notebooks, env=env, capture_output=True, text=True,
                              timeout=600)
        return name, {"out": str(out), **completed(done)}

    by_hand = [(step, lang) for step in STEPS
               for lang in (LANGUAGES if step.per_language else (None,))
               if (step.notebook, lang) != (f"notebooks/{RUN_IN_LAB}", LAB_LANG)]
    runs: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for wave in waves(by_hand):
            runs.update(pool.map(lambda item: execute(item[0].name, item[1]), wave))
    return runs


@pytest.fixture(scope="session")
def by_hand(chain_repo: Path,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A copy of the chain's outputs where every notebook ran by hand (:func:`by_hand_run`),
    with what the chain had published before, and what a run of the chain said afterwards."""
    def run(root: Path) -> dict[str, Any]:
        folders = ("data/processed", "reports")
        published = {name: tree_bytes(root / name) for name in folders}
        scratch = root.parent / "by-hand-notebooks"
        scratch.mkdir(exist_ok=True)
        runs = by_hand_run(root, scratch)
        after = {name: tree_bytes(root / name) for name in folders}
        changed = [f"{name}/{file}" for name in folders
                   for file in changed_files(published[name], after[name])]
        return {"runs": runs, "changed": changed, "chain": completed(run_cli(root, "run"))}

    return recorded_once(tmp_path_factory, "by-hand", run, start=chain_repo)


def test_notebooks_run_by_hand_never_touch_what_the_chain_published(
        by_hand: tuple[Path, dict[str, Any]]) -> None:
    """Run by hand, each notebook says at once where it writes; the published tables and
    reports stay byte-identical, and the chain then finds everything up to date."""
    _, seen = by_hand
    for name, run in seen["runs"].items():
        assert run["returncode"] == 0, (name, run["stderr"][-2000:])
        assert "without encryption" not in run["stderr"], run["stderr"][-2000:]  # ipc, not TCP
        first = next(o for c in nbformat.read(run["out"], as_version=4).cells
                     if c.cell_type == "code" for o in c.get("outputs", []))
        assert first.get("text", "").startswith(
            f"{INTERACTIVE_NOTICE} {name.split('.')[0]}"), first
    assert seen["changed"] == []
    chain = seen["chain"]
    assert chain["returncode"] == 0, chain["stderr"]
    assert "ran " not in chain["stdout"] and "8 up to date" in chain["stdout"]


def test_two_clean_runs_give_identical_outputs(by_hand: tuple[Path, dict[str, Any]],
                                               tmp_path: Path) -> None:
    """The chain's run and the run by hand, two independent runs from the raw files, give
    byte-identical staged and published tables, result CSVs and report pages (less the
    footer's build time and timings), and the same figures in the languages JupyterLab does
    not make (its own are the JupyterLab test's to compare)."""
    from citycluster.report.html import export_html
    from citycluster.report.render import figure_language

    root, seen = by_hand
    scratch = root / "build" / "interactive"
    assert tree_bytes(scratch / "staging") == tree_bytes(root / "data" / "staging")
    assert tree_bytes(scratch / "processed") == tree_bytes(root / "data" / "processed")
    for table in (root / "reports").glob("*.csv"):
        assert (scratch / "reports" / table.name).read_bytes() == table.read_bytes(), table.name
    figures = tree_bytes(scratch / "reports" / "figures")
    chains = tree_bytes(root / "reports" / "figures")
    assert set(figures) == {n for n in chains if figure_language(Path(n)) != LAB_LANG} != set()
    assert figures == {n: chains[n] for n in figures}
    for lang in LANGUAGES:
        run = seen["runs"][f"06_report.{lang}"]
        nb = nbformat.read(run["out"], as_version=4)
        for cell in nb.cells:  # the notice is the one output a run of the chain lacks
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not o.get("text", "").startswith(INTERACTIVE_NOTICE)]
        nbformat.write(nb, tmp_path / f"{lang}.ipynb")
        page = export_html(tmp_path / f"{lang}.ipynb", tmp_path / f"report.{lang}.html", lang)
        assert without_volatile(page.read_text(encoding="utf-8")) == report_body(root, lang)


@dataclass(frozen=True)
class Interrupted:
    """A run stopped by a signal inside the model step and then resumed: what it left."""

    root: Path
    returncode: int
    report_left: bool
    outcome: dict
    kernel_folders_left: bool
    lock_note_left: bool
    resumed: subprocess.CompletedProcess[str]
    outcome_after: dict
    kernel_tmp_after: list[str]


def interrupt_and_resume(root: Path, sig: signal.Signals, *args: str) -> Interrupted:
    """Run the stand-in chain on ``root`` (``citycluster run`` with ``args``), its model step
    held; send ``sig`` once that step is running in its kernel, then run it again with the
    same ``args`` and ``--no-wait`` (a lock left held would refuse it); record what each
    left, for the tests to judge."""
    # short (a socket path may not exceed about 100 characters); removed once it is judged
    kernel_tmp = Path(tempfile.mkdtemp(prefix="cc-"))
    held = root.parent / "held"
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root), TMPDIR=str(kernel_tmp),
               **hold("03_model", held))
    with subprocess.Popen([sys.executable, "-m", "citycluster", "run", *args], cwd=root,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True) as proc:
        wait_started(held)  # inside the model step, with a kernel running
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)
    outcome = json.loads((root / "build" / "outcome.json").read_text(encoding="utf-8"))
    left = bool(list(kernel_tmp.glob("citycluster-kernel-*")))
    lock_note = (root / "build" / "run.lock.json").exists()
    report_left = (root / "reports" / "report.en.html").exists()
    resumed = run_cli(root, "run", *args, "--no-wait", env={"TMPDIR": str(kernel_tmp)})
    after = json.loads((root / "build" / "outcome.json").read_text(encoding="utf-8"))
    remaining = [p.name for p in kernel_tmp.iterdir()]
    shutil.rmtree(kernel_tmp, ignore_errors=True)
    return Interrupted(root, proc.returncode, report_left, outcome, left, lock_note, resumed,
                       after, remaining)


def test_an_up_to_date_rerun_touches_nothing(standin_run: tuple[Path, dict[str, Any]]) -> None:
    _, seen = standin_run
    rerun = seen["rerun"]
    assert rerun["returncode"] == 0, rerun["stderr"]
    assert "everything is up to date" in rerun["stdout"]
    assert "8 up to date" in rerun["stdout"]
    assert seen["rerun_changed"] == []


def test_force_reruns_and_the_summary_says_why(standin_chain: Path, tmp_path: Path,
                                               kernel_tmp: Path) -> None:
    """(That a changed figure reruns the real steps that read it is the tampered run's to
    show: tests/test_report.py.)"""
    root = tmp_path / "repo"
    shutil.copytree(standin_chain, root)
    result = run_cli(root, "run", "--only", "04_factcheck", "--force")
    assert result.returncode == 0, result.stderr
    assert "ran         04_factcheck: --force" in result.stdout
    # a raw file no table reads: ingest reruns and finds the same tables, so the steps between
    # are skipped; the reports rerun because their footer lists every raw file's hash
    readme = root / "data" / "raw" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA note.\n", encoding="utf-8")
    result = run_cli(root, "run", env={"TMPDIR": str(kernel_tmp)})
    assert result.returncode == 0, result.stderr
    assert "3 step(s) ran, 5 up to date" in result.stdout
    # the kernels started ahead for the steps found up to date were shut down
    assert not list(kernel_tmp.iterdir())
    assert "ran         01_ingest: inputs changed" in result.stdout
    for step in ("02_validate", "03_model", "04_factcheck", "05_figures"):
        assert f"up to date  {step}" in result.stdout
    # a deleted output is noticed
    (root / "reports" / "factcheck.csv").unlink()
    result = run_cli(root, "run", "--until", "04_factcheck")
    assert "ran         04_factcheck: outputs missing or changed" in result.stdout


def test_a_terminated_run_stops_like_ctrl_c_and_records_why(standin_copy: Path) -> None:
    """SIGTERM (a SLURM time limit, a cancelled CI job) stops the run as Ctrl-C does, with no
    traceback, and its record says failed and why rather than "running"."""
    root = standin_copy
    held = root.parent / "held"
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root), **hold("02_validate", held))
    with subprocess.Popen([sys.executable, "-m", "citycluster", "run", "--until", "03_model"],
                          cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True) as proc:
        wait_started(held)  # inside the validation step, with a kernel running
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert not has_traceback(output), output
    assert "stopped by SIGTERM before it finished: its reports and executed notebooks were not " \
           "published" in output
    outcome = json.loads((root / "build" / "outcome.json").read_text(encoding="utf-8"))
    assert outcome["status"] == "failed" and outcome["error"] == "stopped by SIGTERM"
    assert not (root / "data" / "processed").exists()  # nothing half-published


def assert_resumed_well(run: Interrupted, sig: signal.Signals) -> None:
    """What a stopped run must leave, and what resuming it must do, whatever stopped it."""
    assert run.returncode != 0
    assert not run.report_left  # nothing half-published
    # the run's record says it did not end well: failed when it could say so, else "running"
    assert run.outcome["status"] == ("failed" if sig == signal.SIGINT else "running"), \
        run.outcome
    if sig == signal.SIGKILL:  # it could not clean up: its kernels' folders are there, and
        assert run.kernel_folders_left  # the holder's note (the lock itself went with it)
        assert run.lock_note_left
    # the resumed run was not refused by the lock (--no-wait) and ended well
    assert run.resumed.returncode == 0, run.resumed.stdout + run.resumed.stderr
    assert run.outcome_after["status"] == "ok"
    # the next run removed what a run killed outright left, and left nothing of its own
    assert run.kernel_tmp_after == []


def test_a_run_stopped_by_ctrl_c_resumes_to_the_same_outputs(standin_chain: Path,
                                                              standin_copy: Path) -> None:
    """Ctrl-C inside the model step, then the resumed run: every output of a clean run, each
    as the clean run left it (replayed outputs: the runner's part is which files, and that
    none is stale or cut short)."""
    run = interrupt_and_resume(standin_copy, signal.SIGINT)
    assert_resumed_well(run, signal.SIGINT)
    assert run.outcome_after["steps"][-1] == "06_report"
    assert_same_results(standin_chain, standin_copy)


def test_a_run_killed_outright_resumes_to_the_same_outputs(standin_chain: Path,
                                                           standin_copy: Path) -> None:
    """SIGKILL inside the model step of a run to the models: the resumed run is not blocked
    by the dead run's lock and publishes the tables of a clean run up to the models, as that
    run left them. (The killed run's kernel ends by itself within a second: ipykernel polls
    its parent.)"""
    root = standin_copy
    run = interrupt_and_resume(root, signal.SIGKILL, "--until", "03_model")
    assert_resumed_well(run, signal.SIGKILL)
    assert run.outcome_after["steps"][-1] == "03_model"
    ours = tree_bytes(root / "data" / "processed")
    theirs = tree_bytes(standin_chain / "data" / "processed")
    later = {DATASETS[d].path for d in FLOWS["04_factcheck"][1]
             if DATASETS[d].folder == "processed_dir"}  # the tables the fact-check publishes
    assert later and set(ours) == set(theirs) - later
    assert ours == {name: data for name, data in theirs.items() if name in ours}
    assert (root / "reports" / "models.csv").read_bytes() == \
        (standin_chain / "reports" / "models.csv").read_bytes()
