"""Pure parts of the runtime: GPU counting, exit codes, settings round trip."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from stackgen.runtime.devices import count_visible
from stackgen.runtime.errors import RuntimeInputError
from stackgen.runtime.settings import EngineSettings, validate_settings
from stackgen.runtime.supervise import _Shutdown, exit_code


@pytest.mark.parametrize(("value", "count"), [
    ("0", 1), ("0,1,2,3", 4), ("", 0), ("-1", 0), ("0,1,-1,2", 2),
    ("GPU-3f2a,GPU-77b1", 2), (" 0 , 1 ", 2),
])
def test_cuda_visible_devices_is_counted_like_cuda_does(value, count):
    assert count_visible({"CUDA_VISIBLE_DEVICES": value})[0] == count


def test_device_nodes_are_counted_without_the_variable(tmp_path: Path):
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-modeset"):
        (tmp_path / name).touch()
    assert count_visible({}, dev=tmp_path)[0] == 2


def test_exit_codes():
    asked = _Shutdown(signum=signal.SIGTERM, deadline=float("inf"))
    assert exit_code(0, asked) == 0
    assert exit_code(-signal.SIGTERM, asked) == 0
    assert exit_code(1, asked) == 1
    assert exit_code(0, _Shutdown()) == 0
    assert exit_code(1, _Shutdown()) == 1
    assert exit_code(-signal.SIGKILL, _Shutdown()) == 128 + signal.SIGKILL
    late = _Shutdown(signum=signal.SIGTERM, deadline=0.0)  # killed after the grace period
    assert exit_code(-signal.SIGKILL, late) == 128 + signal.SIGKILL


def test_settings_document_round_trips():
    settings = EngineSettings(model="hf://acme/tiny", servedModelName="chat",
                              tensorParallelSize=4, extraArgs=["--enable-prefix-caching"])
    again = validate_settings(settings.to_document(), "doc")
    assert again == settings
    assert settings.gpus_needed == 4


def test_extra_args_cannot_override_managed_flags():
    with pytest.raises(RuntimeInputError, match="extraArgs"):
        validate_settings({"model": "/m", "extraArgs": ["--port=1"]}, "doc")
