"""A minimal notebook chain for the runner's own behaviour: the real steps, cheap notebooks.

Killing, resuming, locking, partial runs, forced reruns and sweeps are the runner's work; what
the notebooks compute adds nothing to them but about 20 s of kernel imports per run. A
stand-in copy of the repository keeps everything of the real one (the steps and their declared
reads and writes, the parameters cells, the cache, the hooks, the publishing) except the
notebooks' bodies: each stand-in checks that every input its step declares is there, then
replays its step's outputs from a golden run of the real chain (byte for byte, through the
same :class:`~citycluster.chain.catalog.Catalog` door). The report stand-in displays one
paragraph, which the report hook turns into the page as it would the real one. Steps named in
``real`` keep their real notebook: it reads the replayed tables as it would its own.

Outputs are replayed, so a test on this chain judges which files a run leaves and when, not
what they hold: what the notebooks compute is judged on the real chain.

A test that must act while a stand-in step runs (interrupt it, or start a second run while it
holds the folders) names a folder in ``CITYCLUSTER_STANDIN_HOLD_<step>``: the step creates
``started`` there once its inputs are checked, and writes nothing until ``go`` appears
(:func:`hold`, :func:`wait_started`, :func:`release`).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import yaml

from citycluster.chain.catalog import DATASETS, FLOWS
from citycluster.chain.steps import STEPS
from tests.conftest import ROOT, copy_repo

HOLD_ENV = "CITYCLUSTER_STANDIN_HOLD_{step}"

BODY = '''\
import os
import shutil
import time
from pathlib import Path

from IPython.display import HTML, display

from citycluster.chain.catalog import DATASETS, Catalog, patterns

STEP, GOLDEN, DEFAULTS = {step!r}, Path({golden!r}), {defaults!r}
cat = Catalog.for_step(STEP, {{k: v for k, v in globals().items() if k.endswith("_dir")}})
for name in cat.reads:  # every declared input it can name is there, as the real step needs
    ds = DATASETS[name]
    if ds.folder in cat.params:
        found = cat.path(name, {lang})
        assert any(found.glob(ds.path)) if "*" in ds.path else found.exists(), name
if os.environ.get({hold!r}):  # a test acts while the step runs: wait for its go
    held = Path(os.environ[{hold!r}])
    (held / "started").touch()
    deadline = time.monotonic() + 300
    while not (held / "go").exists():
        assert time.monotonic() < deadline, "held for 300 s and never let go"
        time.sleep(0.05)
for name in cat.writes:  # the golden run's outputs of this step, byte for byte
    ds = DATASETS[name]
    source = GOLDEN / DEFAULTS[ds.folder]
    if name == "report":  # the page is made by the report hook from what is displayed
        display(HTML(f"<p>stand-in report ({{lang}})</p>"))
    elif name == "report_pdf":  # and printed by it
        pass
    elif "*" in ds.path:
        for path in sorted(source.glob(ds.path)):
            shutil.copy(path, cat.target(name) / path.name)
    elif (source / ds.path).is_dir() and {lang} is None:
        shutil.copytree(source / ds.path, cat.target(name), dirs_exist_ok=True,
                        copy_function=shutil.copy)
    elif (source / ds.path).is_dir():  # a folder each language fills: its declared files
        (_, glob), = patterns((name,))
        for path in sorted(source.glob(glob.format(lang={lang}))):
            shutil.copy(path, cat.target(name) / path.name)
    else:
        shutil.copy(source / ds.path, cat.target(name))
print(f"stand-in {{STEP}} replayed {{', '.join(cat.writes)}}")
'''


def parameters_cell(notebook: Path) -> nbformat.NotebookNode:
    """The real notebook's parameters cell, as the runner injects into and keys by."""
    nb = nbformat.read(notebook, as_version=4)
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))


def write_standins(root: Path, golden: Path, real: tuple[str, ...] = ()) -> None:
    """Replace each notebook of the copy at ``root`` but those of the steps in ``real`` by its
    stand-in replaying ``golden``."""
    defaults = yaml.safe_load((ROOT / "params" / "default.yaml").read_text(encoding="utf-8"))
    folders = {DATASETS[n].folder for reads, writes in FLOWS.values() for n in (*reads, *writes)}
    for step in STEPS:
        if step.name in real:
            continue
        nb = nbformat.v4.new_notebook()
        nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}}
        body = BODY.format(step=step.name, golden=str(golden),
                           defaults={f: defaults[f] for f in sorted(folders)},
                           lang="lang" if step.per_language else "None",
                           hold=HOLD_ENV.format(step=step.name))
        nb.cells = [parameters_cell(ROOT / step.notebook), nbformat.v4.new_code_cell(body)]
        nbformat.write(nb, root / step.notebook)


def standin_repo(dest: Path, golden: Path, real: tuple[str, ...] = ()) -> Path:
    """A repository copy at ``dest`` whose chain is the stand-in chain replaying ``golden``
    (a copy where the real chain ran), nothing run yet."""
    copy_repo(dest)
    write_standins(dest, golden, real)
    return dest


def hold(step: str, folder: Path) -> dict[str, str]:
    """The environment that makes a stand-in step wait in ``folder`` for :func:`release`."""
    folder.mkdir(parents=True, exist_ok=True)
    return {HOLD_ENV.format(step=step): str(folder)}


def wait_started(folder: Path, timeout: float = 120) -> None:
    """Until the held step has started (its kernel running, its inputs checked)."""
    deadline = time.monotonic() + timeout
    while not (folder / "started").exists():
        assert time.monotonic() < deadline, f"the held step never started ({folder})"
        time.sleep(0.05)


def release(folder: Path) -> None:
    """Let the held step go on."""
    (folder / "go").touch()
