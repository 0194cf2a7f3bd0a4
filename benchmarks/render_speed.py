"""Time to render generated stacks of growing size (target: 200 models under 2 s on this
2-core machine) and whether it grows linearly. Prints figures only."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_speed import stack  # noqa: E402  (the same generated stack as the plan benchmark)

from stackgen.catalog import stack_facts
from stackgen.decide import decide  # noqa: E402
from stackgen.render import render_files  # noqa: E402
from stackgen.spec import parse_stack  # noqa: E402


def in_process(models: int) -> tuple[float, int]:
    data = stack(models)
    data["spec"]["requirements"] = {"teams": 1}  # standalone: the most objects per model
    for model in data["spec"]["models"]:
        model.pop("team")
    start = time.perf_counter()
    parsed = parse_stack(data, "bench.yaml")
    files = render_files(parsed, decide(parsed, stack_facts(parsed, Path.cwd())))
    return time.perf_counter() - start, len(files)


def cli(models: int) -> float:
    exe = str(Path(sys.executable).with_name("stackgen"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stackgen.yaml"
        data = stack(models)
        data["spec"]["requirements"] = {"teams": 1}
        for model in data["spec"]["models"]:
            model.pop("team")
        with path.open("w") as fh:
            YAML(typ="safe").dump(data, fh)
        start = time.perf_counter()
        subprocess.run([exe, "render", "-q", "-f", str(path), "-o", str(Path(tmp) / "out")],
                       check=True, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    in_process(10)  # warm the template cache and catalogs
    base = None
    for models in (50, 100, 200, 400):
        seconds, files = min(in_process(models) for _ in range(3))
        per = seconds / models * 1000
        base = base or per
        print(f"{models:4d} models  {files:5d} files  {seconds:6.3f} s in-process  "
              f"{per:5.2f} ms/model  (x{per / base:.2f} of the 50-model cost per model)")
    print(f" 200 models  stackgen render (CLI, files written): {cli(200):.3f} s  (target < 2 s)")


if __name__ == "__main__":
    main()
