"""CPU time of process trees, PostgreSQL backends and cores, read from ``/proc`` (Linux).

Every figure is in milliseconds of CPU (user + system). A process tree's time includes
the ``cutime``/``cstime`` of its members: a worker that exits and is reaped by the master
moves its time there, so a before/after difference stays right across worker restarts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PROC = Path("/proc")
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _read_stat(pid: int) -> tuple[int, int] | None:
    """Return ``(ppid, cpu ticks)`` of ``pid``, or ``None`` when it has gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    fields = text[text.rindex(")") + 2:].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ppid, utime + stime + cutime + cstime


def _pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def tree_cpu_ms(root: int) -> float:
    """Return the CPU time of ``root`` and all its descendants."""
    stats = {pid: s for pid in _pids() if (s := _read_stat(pid)) is not None}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
            todo.extend(children.get(pid, ()))
    return total * TICK_MS


def postgres_backends(database: str) -> list[int]:
    """Return the pids of the local PostgreSQL backends connected to ``database``.

    A backend's process title is ``postgres: [cluster: ]user database host(port) state``.
    """
    title = re.compile(rf"postgres: (?:\S+: )?\S+ {re.escape(database)} \S+\(\d+\)")
    pids = []
    for pid in _pids():
        try:
            cmdline = (PROC / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if title.match(cmdline.replace(b"\0", b" ").decode(errors="replace")):
            pids.append(pid)
    return pids


def pids_cpu_ms(pids: list[int]) -> float:
    """Return the summed CPU time of ``pids`` (those that have gone count as zero)."""
    return sum(s[1] for pid in pids if (s := _read_stat(pid)) is not None) * TICK_MS


class Backends:
    """CPU of one database's backends between two snapshots.

    Backends that start in between count from zero; one that exits in between loses its
    time (the application's connection pool keeps them open, so this is rare).
    """

    def __init__(self, database: str):
        self.database = database
        self.before: dict[int, float] = {}

    def start(self) -> None:
        self.before = {pid: pids_cpu_ms([pid]) for pid in postgres_backends(self.database)}

    def stop(self) -> float | None:
        """Return the backends' CPU since ``start``; ``None`` when none is visible here
        (a server on another machine, or /proc hiding other users' processes)."""
        after = {pid: pids_cpu_ms([pid]) for pid in postgres_backends(self.database)}
        if not after and not self.before:
            return None
        return sum(ms - self.before.get(pid, 0.0) for pid, ms in after.items())


def core_busy_ms(core: int) -> float:
    """Return the time core ``core`` has spent not idle since boot (all processes)."""
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith(f"cpu{core} "):
            user, nice, system, idle, iowait, irq, softirq, steal = (
                int(v) for v in line.split()[1:9])
            return (user + nice + system + irq + softirq + steal) * TICK_MS
    raise ValueError(f"no cpu{core} in /proc/stat")


def load_average() -> list[float]:
    return [float(v) for v in (PROC / "loadavg").read_text().split()[:3]]


def cpu_model() -> str:
    for line in (PROC / "cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"
