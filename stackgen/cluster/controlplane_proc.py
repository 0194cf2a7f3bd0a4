"""Processes of the local control plane, and a raw health probe (stdlib only).

Talking to the apiserver goes through stackgen.cluster.kube.Kube, built from the control
plane's admin kubeconfig; `http_ok` only probes the components Kube cannot reach: etcd's
plain-HTTP /health and the self-signed /healthz of the controller manager and scheduler.

Each component runs in its own session (process group) so that stopping it also stops
anything it forked; on Linux an attached component also gets SIGKILL from the kernel when
the thread that started it dies (PR_SET_PDEATHSIG), so a killed test run leaves nothing.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackgen.errors import CheckFailed

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


class ControlPlaneError(CheckFailed):
    """A component did not start or did not become ready."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Component:
    """One control-plane binary: its command line, its log file and its process."""

    name: str
    argv: list[str]
    log: Path
    detached: bool = False
    env: dict[str, str] | None = None  # added to this process's environment
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, env={**os.environ, **(self.env or {})},
                preexec_fn=None if self.detached else _die_with_parent,
            )

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL it after `grace` seconds (at once if 0)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        _signal_group(self.proc.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
        try:
            self.proc.wait(grace or None)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def record(self) -> dict[str, Any]:
        """What `kill_recorded` needs to stop this process from another Python process."""
        assert self.proc is not None
        return {"pid": self.proc.pid, "start_time": _start_time(self.proc.pid),
                "argv0": self.argv[0], "log": str(self.log)}


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, start_time: str | None) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0] != "Z" and (start_time is None or fields[19] == start_time)


def recorded_alive(record: dict[str, Any]) -> bool:
    """Is the process recorded by `Component.record` still running (and still that one)?"""
    return _alive(int(record["pid"]), record.get("start_time"))


def kill_recorded(record: dict[str, Any], grace: float = 10.0) -> None:
    """Stop a process recorded by `Component.record` (if it is still that process)."""
    pid, start = int(record["pid"]), record.get("start_time")
    if not _alive(pid, start):
        return
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid, start) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid, start):
        _signal_group(pid, signal.SIGKILL)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str,
               component: Component | None = None) -> None:
    """Poll `predicate` until true; fail early, with the log's tail, if `component` exits."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, ValueError, http.client.HTTPException, CheckFailed) as err:
            last = f" (last error: {err})"  # not up yet: poll again, and tell if it never is
        else:
            last = ""
        if component is not None and component.proc is not None and not component.running:
            raise ControlPlaneError(
                f"{component.name} exited with code {component.proc.returncode} while waiting "
                f"for {what}; last lines of {component.log}:\n{component.tail()}")
        time.sleep(0.2)
    log = f"; last lines of {component.log}:\n{component.tail()}" if component else ""
    raise ControlPlaneError(f"timed out after {timeout:.0f}s waiting for {what}{last}{log}")


def http_ok(url: str) -> bool:
    """GET `url` -> 200? A bare readiness probe for what is not the apiserver (so Kube and a
    kubeconfig do not apply): etcd's plain-HTTP /health, and the controller manager's and
    scheduler's /healthz, served with certificates they make themselves (TLS unverified;
    loopback only)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        ctx = ssl._create_unverified_context()  # noqa: S323 - loopback health check only
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.netloc, timeout=2, context=ctx)
    else:
        conn = http.client.HTTPConnection(parts.netloc, timeout=2)
    try:
        conn.request("GET", parts.path or "/")
        return conn.getresponse().status == 200
    finally:
        conn.close()
