"""Runs the engine as a child process and turns SIGTERM into a graceful drain.

SIGTERM/SIGINT are forwarded to vLLM, which (with --shutdown-timeout) stops taking new
requests and lets in-flight ones finish. If it has not exited by the grace period plus a
margin, its whole process group is killed. A shutdown we were asked for exits 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from stackgen.runtime.engine import EngineCommand
from stackgen.runtime.logs import log

# Time on top of the drain for the engine core and the HTTP server to close.
SHUTDOWN_MARGIN_S = 15.0
FORWARDED = (signal.SIGTERM, signal.SIGINT)


@dataclass
class _Shutdown:
    signum: int | None = None
    deadline: float | None = None


def _start(cmd: EngineCommand) -> subprocess.Popen[bytes]:
    env = {**os.environ, **cmd.env}
    log("engine.start", argv=cmd.argv, env=cmd.env, servedModelName=cmd.served_name)
    # Its own process group: a terminal's Ctrl-C reaches it once (through us), and the
    # engine's worker processes can be cleaned up together.
    return subprocess.Popen(cmd.argv, env=env, process_group=0)


def _kill_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _install_forwarding(proc: subprocess.Popen[bytes], state: _Shutdown, grace: float) -> None:
    def forward(signum: int, _frame: object) -> None:
        if state.signum is None:
            state.signum = signum
            state.deadline = time.monotonic() + grace + SHUTDOWN_MARGIN_S
            log("shutdown.requested", signal=signal.Signals(signum).name,
                gracePeriodSeconds=grace, killAfterSeconds=grace + SHUTDOWN_MARGIN_S)
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass

    for sig in FORWARDED:
        signal.signal(sig, forward)


def _wait(proc: subprocess.Popen[bytes], state: _Shutdown) -> int:
    while True:
        try:
            return proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if state.deadline is not None and time.monotonic() > state.deadline:
            log("shutdown.timeout", level="warning",
                reason="the engine did not exit within the grace period; killing it")
            _kill_group(proc.pid, signal.SIGKILL)
            return proc.wait()


def exit_code(returncode: int, state: _Shutdown) -> int:
    """0 for a shutdown we asked for; the engine's code otherwise (128+N for signal N)."""
    requested = state.signum is not None
    timed_out = requested and state.deadline is not None and time.monotonic() > state.deadline
    if requested and not timed_out and returncode in (0, -signal.SIGTERM, -signal.SIGINT):
        return 0
    if returncode < 0:
        return 128 - returncode
    return returncode if returncode else (1 if timed_out else 0)


def run_engine(cmd: EngineCommand, grace_seconds: float) -> int:
    started = time.monotonic()
    proc = _start(cmd)
    state = _Shutdown()
    _install_forwarding(proc, state, grace_seconds)
    returncode = _wait(proc, state)
    leftovers = _kill_group(proc.pid, signal.SIGKILL)
    code = exit_code(returncode, state)
    log("engine.exited", returncode=returncode, exitCode=code,
        shutdownRequested=state.signum is not None, cleanedUpWorkers=leftovers,
        uptimeSeconds=round(time.monotonic() - started, 3))
    sys.stdout.flush()
    return code
