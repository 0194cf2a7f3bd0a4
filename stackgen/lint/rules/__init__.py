"""The built-in rules; importing this package registers them all."""

from stackgen.lint.rules import (core, gpu, hygiene, identity, kserve, memory,  # noqa: F401
                                 probes, security, vllm)
