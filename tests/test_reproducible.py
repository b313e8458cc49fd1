"""Reproducible and resumable: the cache, determinism, and interrupted runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from citycluster.chain.catalog import DATASETS, FLOWS
from tests.conftest import built_once, copy_repo, run_cli, tree_bytes

pytestmark = pytest.mark.chain
VOLATILE = re.compile(r'<(dd|details) class="volatile">.*?</\1>', re.S)


def report_body(root: Path, lang: str) -> str:
    """A report without its volatile footer parts (build time, step timings)."""
    html = (root / "reports" / f"report.{lang}.html").read_text(encoding="utf-8")
    return VOLATILE.sub("", html)


def assert_same_results(a: Path, b: Path) -> None:
    assert tree_bytes(a / "data" / "processed") == tree_bytes(b / "data" / "processed")
    for name in ("models.csv", "factcheck.csv", "model_influence.csv"):
        assert (a / "reports" / name).read_bytes() == (b / "reports" / name).read_bytes()
    assert tree_bytes(a / "reports" / "figures") == tree_bytes(b / "reports" / "figures")
    for lang in ("en", "zh"):
        assert report_body(a, lang) == report_body(b, lang)


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
    """Run the chain on ``root`` (``citycluster run`` with ``args``), send ``sig`` once the
    model step has a kernel running, then run it again with the same ``args`` and
    ``--no-wait`` (a lock left held would refuse it); record what each left, for the tests to
    judge."""
    # short (a socket path may not exceed about 100 characters); removed once it is judged
    kernel_tmp = Path(tempfile.mkdtemp(prefix="cc-"))
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root), TMPDIR=str(kernel_tmp))
    with subprocess.Popen([sys.executable, "-m", "citycluster", "run", *args], cwd=root,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True) as proc:
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            if "03_model ..." in line or time.monotonic() > deadline:
                break
        time.sleep(1.0)  # inside the model step, with a kernel running
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


@pytest.fixture(scope="session")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> Interrupted:
    """A run stopped by Ctrl-C (SIGINT) in the model step and resumed. Its resumed outputs are
    also the second, independent clean run that the determinism check compares with
    chain_repo: every step of it ran in its own kernels from the raw files, none was copied."""
    made: list[Interrupted] = []

    def build(root: Path) -> None:
        made.append(interrupt_and_resume(root, signal.SIGINT))
        (root.parent / "interrupted.json").write_text(json.dumps({
            "returncode": made[0].returncode, "report_left": made[0].report_left,
            "outcome": made[0].outcome, "kernel_folders_left": made[0].kernel_folders_left,
            "lock_note_left": made[0].lock_note_left,
            "resumed": [made[0].resumed.returncode, made[0].resumed.stdout,
                        made[0].resumed.stderr],
            "outcome_after": made[0].outcome_after,
            "kernel_tmp_after": made[0].kernel_tmp_after}), encoding="utf-8")

    root = built_once(tmp_path_factory, "interrupted", build)
    record = json.loads((root.parent / "interrupted.json").read_text(encoding="utf-8"))
    code, out, err = record.pop("resumed")
    return Interrupted(root=root, resumed=subprocess.CompletedProcess([], code, out, err),
                       **record)


@pytest.fixture(scope="session")
def second_run(interrupted: Interrupted) -> Path:
    """The second clean run (see :func:`interrupted`), once its resume has ended well."""
    assert interrupted.resumed.returncode == 0, (interrupted.resumed.stdout
                                                 + interrupted.resumed.stderr)
    return interrupted.root


def test_two_clean_runs_give_identical_outputs(chain_repo: Path, second_run: Path) -> None:
    assert_same_results(chain_repo, second_run)


def test_an_up_to_date_rerun_touches_nothing(second_run: Path) -> None:
    before = tree_bytes(second_run / "reports")
    result = run_cli(second_run, "run")
    assert result.returncode == 0, result.stderr
    assert "everything is up to date" in result.stdout
    assert "7 up to date" in result.stdout
    assert tree_bytes(second_run / "reports") == before


def test_force_reruns_and_the_summary_says_why(second_run: Path, tmp_path: Path,
                                               kernel_tmp: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(second_run, root)
    result = run_cli(root, "run", "--only", "04_factcheck", "--force")
    assert result.returncode == 0, result.stderr
    assert "ran         04_factcheck: --force" in result.stdout
    # a raw file no table reads: ingest reruns and finds the same tables, so the steps between
    # are skipped; the reports rerun because their footer lists every raw file's hash
    readme = root / "data" / "raw" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA note.\n", encoding="utf-8")
    result = run_cli(root, "run", env={"TMPDIR": str(kernel_tmp)})
    assert result.returncode == 0, result.stderr
    assert "3 step(s) ran, 4 up to date" in result.stdout
    # the kernels started ahead for the steps found up to date were shut down
    assert not list(kernel_tmp.iterdir())
    assert "ran         01_ingest: inputs changed" in result.stdout
    for step in ("02_validate", "03_model", "04_factcheck", "05_figures"):
        assert f"up to date  {step}" in result.stdout
    # a changed figure reruns the steps that read it (up to the fact-check: the reports' own
    # rerun on changed inputs is the README case above)
    ref = root / "data" / "raw" / "reference" / "china_local.csv"
    ref.write_text(ref.read_text(encoding="utf-8").replace(",214.85,", ",230.5,"),
                   encoding="utf-8")
    result = run_cli(root, "run", "--until", "04_factcheck")
    assert result.returncode == 0, result.stderr
    assert "ran         01_ingest: inputs changed" in result.stdout
    assert "ran         04_factcheck: inputs changed" in result.stdout
    # a deleted output is noticed
    (root / "reports" / "factcheck.csv").unlink()
    result = run_cli(root, "run", "--until", "04_factcheck")
    assert "ran         04_factcheck: outputs missing or changed" in result.stdout


def test_a_terminated_run_stops_like_ctrl_c_and_records_why(tmp_path: Path) -> None:
    """SIGTERM (a SLURM time limit, a cancelled CI job) stops the run as Ctrl-C does, with no
    traceback, and its record says failed and why rather than "running"."""
    root = copy_repo(tmp_path / "repo")
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root))
    with subprocess.Popen([sys.executable, "-m", "citycluster", "run", "--until", "03_model"],
                          cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True) as proc:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "02_validate ..." in line:
                break
        time.sleep(1.0)  # inside the validation step, with a kernel running
        os.killpg(proc.pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "Traceback" not in output
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


def test_a_run_stopped_by_ctrl_c_resumes_to_the_same_outputs(chain_repo: Path,
                                                              interrupted: Interrupted) -> None:
    assert_resumed_well(interrupted, signal.SIGINT)
    assert interrupted.outcome_after["steps"][-1] == "06_report"
    assert_same_results(chain_repo, interrupted.root)


def test_a_run_killed_outright_resumes_to_the_same_outputs(chain_repo: Path,
                                                           tmp_path: Path) -> None:
    """SIGKILL inside the model step of a run to the models: the resumed run is not blocked
    by the dead run's lock and publishes the same tables as the full clean run (the full
    outputs after a resume are the Ctrl-C case's to compare)."""
    root = copy_repo(tmp_path / "repo")
    run = interrupt_and_resume(root, signal.SIGKILL, "--until", "03_model")
    assert_resumed_well(run, signal.SIGKILL)
    assert run.outcome_after["steps"][-1] == "03_model"
    ours = tree_bytes(root / "data" / "processed")
    theirs = tree_bytes(chain_repo / "data" / "processed")
    later = {DATASETS[d].path for d in FLOWS["04_factcheck"][1]
             if DATASETS[d].folder == "processed_dir"}  # the tables the fact-check publishes
    assert later and set(ours) == set(theirs) - later
    assert ours == {name: data for name, data in theirs.items() if name in ours}
    assert (root / "reports" / "models.csv").read_bytes() == \
        (chain_repo / "reports" / "models.csv").read_bytes()
