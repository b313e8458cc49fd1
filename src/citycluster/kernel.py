"""Notebook kernels over Unix sockets in a private folder, however the notebook is run.

Over TCP, ipykernel 7 warns at every kernel start that the traffic is not encrypted; a kernel
on local sockets is not reachable from the network at all, and the warning does not apply.
:class:`IpcProvisioner` is a jupyter_client kernel provisioner that gives each kernel the
``ipc`` transport and a temporary folder of its own for the sockets (so parallel runs cannot
collide on socket names); the folder goes when the kernel goes, not when it restarts. Where
the platform has no Unix sockets it behaves as jupyter_client's default provisioner.

It is declared once and used everywhere:

* ``python -m citycluster.kernel`` installs the kernel spec ``python3`` into this environment
  (``sys.prefix/share/jupyter/kernels/python3``), naming this interpreter and the provisioner
  (the ``citycluster-ipc`` entry point in pyproject.toml), so papermill, ``jupyter nbconvert
  --execute`` and JupyterLab all start such kernels; the Makefile runs it when it builds .venv.
* the chain (:mod:`citycluster.chain.runner`) starts its kernels through
  :class:`IpcKernelManager`, which uses the provisioner whatever the installed spec says, so
  the chain does not depend on the spec (reinstalling ipykernel puts its own spec back).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import List

#: The provisioner's entry point (group ``jupyter_client.kernel_provisioners``, pyproject.toml).
PROVISIONER = "citycluster-ipc"
ENTRY_POINT_GROUP = "jupyter_client.kernel_provisioners"
#: The kernel spec the notebooks name in their metadata.
KERNEL_NAME = "python3"
#: A kernel's socket folder in the temporary folder: this prefix, then the pid of the process
#: that started the kernel (``citycluster-kernel-<pid>-<random>``).
SOCKET_DIR_PREFIX = "citycluster-kernel-"


def ipc_available() -> bool:
    """Unix domain sockets (ZeroMQ's ``ipc`` transport) exist on this platform."""
    return os.name == "posix"


class IpcProvisioner(LocalProvisioner):
    """A local kernel on ``ipc`` sockets in a private temporary folder (posix), else TCP."""

    socket_dir: str | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        if km is not None and ipc_available():
            if self.socket_dir is None:  # a restart keeps the folder, and the socket names
                self.socket_dir = tempfile.mkdtemp(prefix=f"{SOCKET_DIR_PREFIX}{os.getpid()}-")
            km.transport = "ipc"
            km.ip = os.path.join(self.socket_dir, "kernel")
            if not km.connection_file:  # a kernel manager of its own (the chain's): all in one
                km.connection_file = os.path.join(self.socket_dir, "connection.json")
            km.cache_ports = False  # TCP port caching means nothing for a socket path
        return await super().pre_launch(**kwargs)

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        if not restart and self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        info["socket_dir"] = self.socket_dir
        return info

    async def load_provisioner_info(self, provisioner_info: dict) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.socket_dir = provisioner_info.get("socket_dir")


def remove_orphaned_socket_dirs(folder: str | None = None) -> list[str]:
    """Remove the socket folders of kernels whose starting process has died without cleaning
    up (a run killed outright, SIGKILL or out of memory: it cannot), so that they do not pile up
    in the temporary folder; their kernels end by themselves when their parent goes. Returns
    what it removed. A folder whose process lives, or whose name carries no pid, is left."""
    base = folder or tempfile.gettempdir()
    removed = []
    for name in os.listdir(base):
        pid = name.removeprefix(SOCKET_DIR_PREFIX).split("-", 1)[0]
        if not name.startswith(SOCKET_DIR_PREFIX) or not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        removed.append(os.path.join(base, name))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager that always uses :class:`IpcProvisioner`, whatever the kernel spec
    names: the chain's kernels are on local sockets even where the spec has not been
    installed (or was replaced by reinstalling ipykernel)."""

    #: Every client made for this kernel: whoever shuts it down closes those left open (nbclient
    #: leaves its client open when the kernel manager is not its own).
    clients: List[Any] = List()

    def client(self, **kwargs: Any) -> Any:
        client = super().client(**kwargs)
        self.clients.append(client)
        return client

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:  # set on the first start, kept across restarts
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = IpcProvisioner(kernel_id=self.kernel_id,
                                              kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_interrupt_kernel(self) -> None:
        # jupyter_client sends SIGINT before every shutdown request. The chain shuts a kernel
        # down only once its notebook has finished, so the signal interrupts nothing of ours;
        # it only races the kernel's last messages, and the kernel then prints
        # "KeyboardInterrupt caught in kernel" or a zmqstream traceback into the run's output
        # (seen under load). Interrupts at any other time (a cell's timeout) still go through.
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()


def kernel_spec() -> dict[str, Any]:
    """ipykernel's own spec for this interpreter, with the provisioner named in it."""
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()
    spec["argv"] = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec["metadata"] = {**spec.get("metadata", {}),
                        "kernel_provisioner": {"provisioner_name": PROVISIONER}}
    return spec


def provisioner_registered() -> bool:
    """The entry point resolves to this module's provisioner in this environment."""
    found = entry_points(group=ENTRY_POINT_GROUP, name=PROVISIONER)
    # "citycluster.kernel", not __name__: that is "__main__" under python -m
    return any(ep.value == "citycluster.kernel:IpcProvisioner" for ep in found)


def install(prefix: Path) -> list[tuple[Path, bool]]:
    """Write ``prefix/share/jupyter/kernels/python3``: kernel.json and ipykernel's logos.

    Returns each file with whether it changed; files already right are left alone.
    """
    from ipykernel.kernelspec import RESOURCES

    folder = prefix / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {"kernel.json": (json.dumps(kernel_spec(), indent=1) + "\n").encode()}
    for logo in sorted(Path(RESOURCES).glob("logo-*")):
        wanted[logo.name] = logo.read_bytes()
    written = []
    for name, content in wanted.items():
        target = folder / name
        changed = not target.is_file() or target.read_bytes() != content
        if changed:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        written.append((target, changed))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citycluster.kernel",
        description="Install the 'python3' kernel spec for this interpreter, with kernels on "
                    "local (ipc) sockets instead of TCP.")
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix),
                        help="install under PREFIX/share/jupyter/kernels (default: sys.prefix, "
                             "%(default)s)")
    args = parser.parse_args(argv)
    if not provisioner_registered():
        # a spec naming a provisioner jupyter_client cannot find hides the kernel altogether
        print(f"the kernel provisioner '{PROVISIONER}' is not registered in this environment: "
              "install the package first (uv pip install -e .); kernel spec not written",
              file=sys.stderr)
        return 1
    for path, changed in install(args.prefix):
        print(f"{'wrote' if changed else 'up to date'}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
