"""End to end: the real tritonserver serves a model repository that `stackgen render`
wrote and the real `stackgen-runtime-fetch` laid out, the way the rendered pod does it.

`make runtime-venv` puts tritonserver 2.51 (PyPI's nvidia-pytriton wheel) in
./.venv-runtime/triton (docs/runtime.md). It carries the python backend only, so:

* the python-framework model is served for real: it loads from the rendered config.pbtxt,
  takes its inputs and outputs from the generated model.py, answers KServe v2 infer
  requests, passes the rendered probes, exports the metrics the rendered autoscaler
  queries and stops cleanly on SIGTERM;
* every other backend's rendered config is read by the server, which then stops at the
  missing backend library, never at a config or layout error;
* model.json is found where Triton's vLLM backend reads it (the version folder, which the
  real python backend reports as pb_utils.get_model_dir()) by a stand-in "vllm" backend,
  and it names the weights the init step brought.

Every server is started from a rendered container's command and args; only the repository
path and the ports are replaced, the backend directory is added and it listens on
127.0.0.1. Every server's process group is killed at the end.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from runtime_harness import RUNTIME_VENV, free_port, http

from stackgen.catalog.servers import server as server_profile

pytestmark = pytest.mark.runtime

READY_TIMEOUT_S = 120
FETCH = RUNTIME_VENV / "bin" / "stackgen-runtime-fetch"
PORT_FLAGS = ("--http-port", "--grpc-port", "--metrics-port")
REPOSITORY_FLAGS = ("--model-repository", "--model-store")
CONFIG_ERRORS = ("Error parsing text-format", "Poll failed", "failed to read text proto")

STACK = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {{name: triton-e2e, namespace: e2e}}
spec:
  cluster:
    provider: generic
    nodePools:
      - {{name: cpu, gpu: none, nodes: 2}}
      - {{name: l4, gpu: l4-24gb, nodes: 2, gpusPerNode: 1}}
  models:
    - {{name: echo, source: s3://models/echo, kind: other, framework: python, nodePool: cpu,
       replicas: {{min: 1, max: 3}}}}
    - {{name: embed, source: s3://models/embed, kind: embedding, framework: onnx}}
    - {{name: fraud, source: s3://models/fraud, kind: tabular, framework: xgboost}}
    - {{name: trees, source: s3://models/trees, kind: tabular, framework: sklearn}}
    - {{name: torchy, source: s3://models/torchy, kind: vision, framework: pytorch}}
    - {{name: tfm, source: s3://models/tfm, kind: vision, framework: tensorflow}}
    - {{name: plan, source: s3://models/plan, kind: vision, framework: tensorrt}}
    - {{name: chat, source: "hf://stackgen-tests/tiny-llama", kind: llm, modelConfig: {config},
       maxModelLen: 1024}}
    - {{name: trt, source: "hf://stackgen-tests/tiny-llama", kind: llm, engine: tensorrt-llm,
       modelConfig: {config}}}
  requirements: {{unifiedApi: true, orchestration: {orchestration}}}
"""

#: model -> (framework, engine) as in STACK; the expected backend comes from the profile.
MODELS = {"echo": ("python", None), "embed": ("onnx", None), "fraud": ("xgboost", None),
          "trees": ("sklearn", None), "torchy": ("pytorch", None),
          "tfm": ("tensorflow", None), "plan": ("tensorrt", None), "chat": (None, None),
          "trt": (None, "tensorrt-llm")}
LLMS = ("chat", "trt")
#: What the source folders of the models without a backend here hold. Those backends are
#: absent, so the files are never read; they stand for what --source brings. tfm is laid
#: out as a SavedModel export (saved_model.pb at the top): from such a folder tritonserver
#: cannot guess the platform, so the config must name it.
PLACEHOLDERS = {"embed": "model.onnx", "fraud": "xgboost.json", "trees": "checkpoint.tl",
                "torchy": "model.pt", "tfm": "saved_model.pb", "plan": "model.plan"}

#: The python model: y = x * SCALE + OFFSET on rows of WIDTH floats.
WIDTH, SCALE, OFFSET = 4, 2.5, -1.25
ECHO_MODEL = f'''\
import numpy as np
import triton_python_backend_utils as pb_utils

WIDTH, SCALE, OFFSET = {WIDTH}, {SCALE!r}, {OFFSET!r}


class TritonPythonModel:
    @staticmethod
    def auto_complete_config(config):
        config.add_input({{"name": "INPUT0", "data_type": "TYPE_FP32", "dims": [WIDTH]}})
        config.add_output({{"name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [WIDTH]}})
        return config

    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            y = (x * np.float32(SCALE) + np.float32(OFFSET)).astype(np.float32)
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("OUTPUT0", y)]))
        return responses
'''

#: A python-based backend named "vllm" (Triton runs <backends>/vllm/model.py with its
#: python backend). Like Triton's vLLM backend it reads model.json from
#: pb_utils.get_model_dir(), and fails to load when it is not there; it answers with
#: what it read instead of starting an engine.
VLLM_STANDIN = '''\
import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    @staticmethod
    def auto_complete_config(config):
        config.add_input({"name": "text_input", "data_type": "TYPE_STRING", "dims": [1]})
        config.add_output({"name": "engine_args", "data_type": "TYPE_STRING", "dims": [1]})
        return config

    def initialize(self, args):
        self.path = os.path.join(pb_utils.get_model_dir(), "model.json")
        with open(self.path) as file:
            self.engine_args = json.load(file)

    def execute(self, requests):
        body = json.dumps({"path": self.path, "args": self.engine_args}).encode()
        out = np.array([body], dtype=np.object_)
        return [pb_utils.InferenceResponse([pb_utils.Tensor("engine_args", out)])
                for _ in requests]
'''


# --- rendering and laying out ------------------------------------------------------------

def render(work: Path, config: Path, orchestration: str = "none") -> Path:
    work.mkdir(parents=True, exist_ok=True)
    stack = work / "stackgen.yaml"
    if config.resolve() != (work / config.name).resolve():  # modelConfig: inside the folder
        shutil.copyfile(config, work / "model-config.json")
        config = Path("model-config.json")
    stack.write_text(STACK.format(config=config, orchestration=orchestration))
    out = work / "deploy"
    done = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "render", "-q", "-f",
                           str(stack), "-o", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@dataclass
class Rendered:
    out: Path

    def obj(self, model: str, kind: str) -> dict:
        return load(self.out / "models" / model / f"{kind}.yaml")

    def files(self, model: str) -> dict[str, str]:
        return self.obj(model, "configmap")["data"]

    def pod(self, model: str) -> dict:
        return self.obj(model, "deployment")["spec"]["template"]["spec"]

    def triton(self, model: str) -> dict:
        return next(c for c in self.pod(model)["containers"] if c["name"] == "triton")


def mount_path(container: dict, volume: str) -> str:
    return next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume)


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def lay_out(rendered: Rendered, model: str, work: Path, repo: Path, source: Path) -> Path:
    """Runs the rendered init container's command with the real CLI: the ConfigMap's data
    in a folder for --config-dir, the repository volume at `repo`, `source` for --source."""
    init = rendered.pod(model)["initContainers"][0]
    command = list(init["command"])
    assert command[0] == "stackgen-runtime-fetch", command
    repo_mount = mount_path(init, "model-repository")
    assert flag(command, "--config-dir") == mount_path(init, "repository-config")
    assert flag(command, "--dest") == f"{repo_mount}/{model}"
    assert "--source" in command, f"{model}: the init step does not fetch its source: {command}"
    config_dir = work / "configmaps" / model
    config_dir.mkdir(parents=True)
    for key, text in rendered.files(model).items():
        (config_dir / key).write_text(text)
    dest = repo / flag(command, "--dest")[len(repo_mount):].lstrip("/")
    local = {"--config-dir": str(config_dir), "--dest": str(dest), "--source": str(source)}
    for i, arg in enumerate(command[:-1]):
        if arg in local:
            command[i + 1] = local[arg]
    done = subprocess.run([str(FETCH), *command[1:]], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, f"{model}: {done.stderr}"
    return dest


def make_sources(root: Path, tiny_llama: Path) -> dict[str, Path]:
    sources = {"echo": root / "echo", "chat": tiny_llama, "trt": tiny_llama}
    sources["echo"].mkdir(parents=True)
    (sources["echo"] / "model.py").write_text(ECHO_MODEL)
    for model, name in PLACEHOLDERS.items():
        path = root / model / name
        path.parent.mkdir(parents=True)
        path.write_bytes(f"{model} placeholder\n".encode())
        sources[model] = root / model
    return sources


# --- the server ----------------------------------------------------------------------------

@dataclass
class Triton:
    proc: subprocess.Popen
    base: str
    metrics: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, n: int = 80) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM to tritonserver (what the kubelet sends), then the whole group is killed
        so no python backend stub outlives the test."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            kill_group(self.proc)
        return self.proc.returncode


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def backends_dir(triton_env: Path) -> Path:
    return Path(os.path.realpath(triton_env / "bin" / "tritonserver")).parents[1] / "backends"


def local_argv(container: dict, repo: Path, ports: dict[str, int], mount: str) -> list[str]:
    argv = [*container.get("command", []), *container.get("args", [])]
    assert argv[0] == "tritonserver", argv
    out = []
    for arg in argv[1:]:
        key, _, value = arg.partition("=")
        if key in REPOSITORY_FLAGS:
            assert value == mount, f"{arg}: the repository is mounted at {mount}"
            arg = f"{key}={repo}"
        elif key in PORT_FLAGS:
            arg = f"{key}={ports[key]}"
        out.append(arg)
    if not any(a.startswith("--metrics-port=") for a in out):
        out.append(f"--metrics-port={ports['--metrics-port']}")
    return out


def start_triton(triton_env: Path, container: dict, repo: Path, log: Path,
                 mount: str | None = None, backends: Path | None = None,
                 extra: tuple[str, ...] = ()) -> Triton:
    """`mount`: where the pod has the repository (default: the container's mount of the
    model-repository volume)."""
    ports = {name: free_port() for name in PORT_FLAGS}
    mount = mount or mount_path(container, "model-repository")
    argv = [str(triton_env / "bin" / "tritonserver"),
            *local_argv(container, repo, ports, mount),
            f"--backend-directory={backends or backends_dir(triton_env)}",
            "--http-address=127.0.0.1", "--grpc-address=127.0.0.1",
            "--metrics-address=127.0.0.1", *extra]
    # the python backend stub finds its packages through the first python3 on PATH
    env = {**os.environ, "PATH": f"{triton_env / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    if backends:  # a copied backend finds the wheel's libraries by LD_LIBRARY_PATH
        libs = backends_dir(triton_env).parents[2] / "nvidia_pytriton.libs"
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(libs),
                                                               env.get("LD_LIBRARY_PATH")]))
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    server = Triton(proc, f"http://127.0.0.1:{ports['--http-port']}",
                    f"http://127.0.0.1:{ports['--metrics-port']}", log)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            kill_group(proc)
            pytest.fail(f"tritonserver exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            # the HTTP service starts once every model has loaded or failed to
            if http("GET", server.base + "/v2/health/live", timeout=2)[0] == 200:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    server.stop(timeout=5)
    pytest.fail(f"tritonserver not live after {READY_TIMEOUT_S}s:\n{server.log_tail()}")


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("triton")


@pytest.fixture(scope="module")
def rendered(work, tiny_models) -> Rendered:
    return Rendered(render(work / "stack", tiny_models / "tiny-llama" / "config.json"))


@pytest.fixture(scope="module")
def repos(work, rendered, tiny_models) -> dict[str, Path]:
    """Each pod's repository volume holds its one model: the python model gets its own;
    the others share one (each is its own folder) so one server reads them all."""
    sources = make_sources(work / "sources", tiny_models / "tiny-llama")
    out = {"echo": work / "repos" / "echo", "chat": work / "repos" / "chat",
           "others": work / "repos" / "others"}
    lay_out(rendered, "echo", work / "echo", out["echo"], sources["echo"])
    lay_out(rendered, "chat", work / "chat", out["chat"], sources["chat"])
    for model in MODELS:
        if model != "echo":
            lay_out(rendered, model, work / "others", out["others"], sources[model])
    return out


@pytest.fixture(scope="module")
def echo_server(triton_env, rendered, repos, work):
    server = start_triton(triton_env, rendered.triton("echo"), repos["echo"],
                          work / "echo-server.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def others_server(triton_env, rendered, repos, work):
    # Their backends are absent, so loading fails; --exit-on-error=false keeps the server
    # up to report it (a pod holds one model and would exit, which is the same failure).
    server = start_triton(triton_env, rendered.triton("embed"), repos["others"],
                          work / "others-server.log", extra=("--exit-on-error=false",))
    yield server
    server.stop()


def infer(server: Triton, rows: list[list[float]]):
    return http("POST", server.base + "/v2/models/echo/infer", {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [len(rows), WIDTH],
         "data": [v for row in rows for v in row]}]})


def random_rows(n: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[round(rng.uniform(-10, 10), 3) for _ in range(WIDTH)] for _ in range(n)]


# --- the python model, served for real ----------------------------------------------------

def test_the_python_model_is_ready_and_passes_the_rendered_probes(echo_server, rendered):
    status, body = http("GET", echo_server.base + "/v2/models/echo/ready")
    assert status == 200, (body, echo_server.log_tail())
    container = rendered.triton("echo")
    probes = [container[p] for p in ("startupProbe", "readinessProbe", "livenessProbe")
              if p in container]
    assert probes, "the rendered container has no probes"
    for probe in probes:
        assert probe["httpGet"]["port"] == "http"
        status, body = http("GET", echo_server.base + probe["httpGet"]["path"])
        assert status == 200, (probe, body)


def test_the_server_runs_the_rendered_config(echo_server, rendered):
    config_text = rendered.files("echo")["config.pbtxt"]
    status, config = http("GET", echo_server.base + "/v2/models/echo/config")
    assert status == 200, config
    batch = int(re.search(r"^max_batch_size: (\d+)$", config_text, re.M).group(1))
    assert config["backend"] == "python" and config["max_batch_size"] == batch
    kind = re.search(r"kind: (KIND_\w+)", config_text).group(1)
    assert [g["kind"] for g in config["instance_group"]] == [kind] == ["KIND_CPU"]
    assert ("dynamic_batching" in config) == ("dynamic_batching" in config_text)
    # inputs and outputs come from model.py's auto_complete_config, not from an overlay
    assert [(i["name"], i["dims"]) for i in config["input"]] == [("INPUT0", [WIDTH])]
    assert [(o["name"], o["dims"]) for o in config["output"]] == [("OUTPUT0", [WIDTH])]
    status, body = infer(echo_server, random_rows(batch + 1, seed=3))
    assert status == 400 and "batch" in body["error"], body


def test_the_python_model_answers_infer(echo_server):
    rows = random_rows(3, seed=11)
    status, body = infer(echo_server, rows)
    assert status == 200, (body, echo_server.log_tail())
    (out,) = body["outputs"]
    assert (out["name"], out["datatype"], out["shape"]) == ("OUTPUT0", "FP32", [3, WIDTH])
    expected = [x * SCALE + OFFSET for row in rows for x in row]
    assert out["data"] == pytest.approx(expected, rel=1e-5, abs=1e-4)


def test_the_metrics_the_autoscaler_queries_exist(echo_server, rendered):
    query = rendered.obj("echo", "hpa")["metadata"]["annotations"]["stackgen.dev/metric-source"]
    names = set(re.findall(r"\b(nv_\w+)\{", query))
    assert names, query
    sent = 2
    for seed in range(sent):
        assert infer(echo_server, random_rows(1, seed))[0] == 200
    status, text = http("GET", echo_server.metrics + "/metrics")
    assert status == 200
    for name in names:
        series = re.findall(rf'^{name}\{{[^}}]*model="echo"[^}}]*\}} \S+$', text, re.M)
        assert series, f"{name} for model echo is not exported:\n{text[:2000]}"
    success = float(re.search(r'^nv_inference_request_success\{[^}]*model="echo"[^}]*\} (\S+)$',
                              text, re.M).group(1))
    assert success >= sent


def test_sigterm_stops_the_server_within_the_grace_period(triton_env, rendered, repos, work):
    server = start_triton(triton_env, rendered.triton("echo"), repos["echo"],
                          work / "sigterm-server.log")
    try:
        assert http("GET", server.base + "/v2/models/echo/ready")[0] == 200
        args = rendered.triton("echo")["args"]
        exit_timeout = int(next(a for a in args if a.startswith("--exit-timeout-secs="))
                           .split("=", 1)[1])
        grace = rendered.pod("echo")["terminationGracePeriodSeconds"]
        assert exit_timeout < grace
        start = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(timeout=grace)
        assert code == 0 and time.monotonic() - start < grace, server.log_tail()
        deadline = time.monotonic() + 10  # the stub leaves with its server
        while time.monotonic() < deadline:
            try:
                os.killpg(server.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("processes of the server's group outlived it")
    finally:
        server.stop(timeout=5)


# --- the other backends: configs read, only the backend library missing ------------------

def expected_backend(model: str) -> str:
    profile = server_profile("triton")
    framework, engine = MODELS[model]
    if engine:
        return profile.engines[engine].backend
    return profile.llm_backend if model in LLMS else profile.backends[framework]


def test_other_backends_configs_are_read_and_only_their_library_is_missing(others_server,
                                                                           rendered):
    status, index = http("POST", others_server.base + "/v2/repository/index", {})
    assert status == 200, index
    entries = {e["name"]: e for e in index}
    log = others_server.log_text()
    for text in CONFIG_ERRORS:
        assert text not in log, f"a rendered config was rejected:\n{others_server.log_tail()}"
    for model in MODELS:
        if model == "echo":
            continue
        backend = expected_backend(model)
        assert f'backend: "{backend}"' in rendered.files(model)["config.pbtxt"]
        entry = entries.get(model)
        assert entry is not None, f"{model} is not in the repository index: {index}"
        # a version folder was found (else there is no version) and the config was parsed
        # up to the point of loading its backend
        assert entry.get("version") == "1", entry
        assert entry.get("state") == "UNAVAILABLE", entry
        assert f"unable to find backend library for backend '{backend}'" in entry["reason"], entry


def test_model_json_is_in_the_version_folder_and_names_the_fetched_weights(rendered, repos):
    model_dir = repos["chat"] / "chat"
    assert (model_dir / "config.pbtxt").read_text() == rendered.files("chat")["config.pbtxt"]
    assert not (model_dir / "model.json").exists()
    args = json.loads((model_dir / "1" / "model.json").read_text())
    assert args["model"] == str((model_dir / "1").absolute())
    assert (model_dir / "1" / "config.json").is_file()
    assert (model_dir / "1" / "model.safetensors").is_file()
    rendered_args = json.loads(rendered.files("chat")["model.json"])
    assert {k: v for k, v in args.items() if k != "model"} == \
        {k: v for k, v in rendered_args.items() if k != "model"}


def test_a_vllm_backend_finds_model_json_where_triton_runs_it(triton_env, rendered, repos, work):
    """Triton's vLLM backend is absent here; a stand-in of that name, run by the real
    python backend, reads model.json where the real one does."""
    backends = work / "standin-backends"
    shutil.copytree(backends_dir(triton_env) / "python", backends / "python",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (backends / "vllm").mkdir()
    (backends / "vllm" / "model.py").write_text(VLLM_STANDIN)
    server = start_triton(triton_env, rendered.triton("chat"), repos["chat"],
                          work / "vllm-standin.log", backends=backends)
    try:
        status, body = http("GET", server.base + "/v2/models/chat/ready")
        assert status == 200, (body, server.log_tail())
        status, body = http("POST", server.base + "/v2/models/chat/infer", {"inputs": [
            {"name": "text_input", "datatype": "BYTES", "shape": [1], "data": ["hello"]}]})
        assert status == 200, (body, server.log_tail())
        found = json.loads(body["outputs"][0]["data"][0])
        version_dir = repos["chat"] / "chat" / "1"
        assert Path(found["path"]) == version_dir / "model.json"
        weights = Path(found["args"]["model"])
        assert weights == version_dir and (weights / "config.json").is_file()
        rendered_args = json.loads(rendered.files("chat")["model.json"])
        assert found["args"] == {**rendered_args, "model": str(version_dir)}
    finally:
        server.stop()


# --- KServe's Triton ServingRuntime -------------------------------------------------------

def test_the_kserve_triton_runtime_serves_a_repository(triton_env, tiny_models, repos, work):
    out = render(work / "kserve", tiny_models / "tiny-llama" / "config.json", "kserve")
    runtime = load(out / "kserve" / "servingruntime-stackgen-triton.yaml")
    (container,) = runtime["spec"]["containers"]
    # KServe's storage initializer puts the model repository in /mnt/models
    server = start_triton(triton_env, container, repos["echo"], work / "kserve-server.log",
                          "/mnt/models")
    try:
        assert http("GET", server.base + "/v2/health/ready")[0] == 200, server.log_tail()
        rows = random_rows(2, seed=5)
        status, body = infer(server, rows)
        assert status == 200, body
        assert body["outputs"][0]["data"] == pytest.approx(
            [x * SCALE + OFFSET for row in rows for x in row], rel=1e-5, abs=1e-4)
    finally:
        server.stop()
