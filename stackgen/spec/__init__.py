"""The stack file: pydantic models and a loader that reports file:line errors."""

from stackgen.spec.load import load_stack, parse_stack
from stackgen.spec.models import API_VERSION, Model, NodePool, Stack

__all__ = ["API_VERSION", "Model", "NodePool", "Stack", "load_stack", "parse_stack"]
