"""Start the IdP under the production server command, pinned to one core, and stop it."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import procstat

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The README's production command; ``{bind}``, ``{port}`` and ``{workers}`` are filled in.
DEFAULT_COMMAND = ("granian --interface wsgi --host 127.0.0.1 --port {port} --workers {workers} "
                   "--blocking-threads 4 --respawn-failed-workers wsgi:app")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    """The server did not become ready; the message ends with its log's tail."""


class Server:
    """The IdP serving on ``127.0.0.1:<port>`` in its own process group.

    Use it as a context manager: the whole group is terminated on exit, whatever happened.
    """

    def __init__(self, command: str, workers: int, env: dict, log_path: Path,
                 cpu: int | None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        argv = shlex.split(command.format(bind=f"127.0.0.1:{self.port}", port=self.port,
                                          workers=workers))
        self.argv = (["taskset", "-c", str(cpu)] if cpu is not None else []) + argv
        self.env, self.log_path = env, log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        with self.log_path.open("ab") as log:
            # taskset execs the server, so proc.pid is the server's master process; a new
            # session makes the master and its workers one group that stop() can end.
            self.proc = subprocess.Popen(self.argv, cwd=PROJECT_ROOT, env=self.env,  # noqa: S603
                                         stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"the server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise ServerError(f"the server was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_ms(self) -> float:
        """Return the CPU time of the server's whole process tree so far."""
        return procstat.tree_cpu_ms(self.proc.pid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the process group; kill it when it has not exited after 15 s.

        The group is signalled even when the master has already exited: orphaned
        workers would otherwise keep serving.
        """
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            self.proc.wait()
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
