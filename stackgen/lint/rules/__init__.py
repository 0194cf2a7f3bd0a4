"""The built-in rules; importing this package registers them all."""

from stackgen.lint.rules import core, gpu, hygiene, kserve, memory, probes, vllm  # noqa: F401
