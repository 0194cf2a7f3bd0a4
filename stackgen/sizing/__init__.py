"""Sizing (pure): model facts + GPU + engine settings -> memory, KV cache, TP, replicas.

The model follows what vLLM measures when it starts; docs/sizing.md has the formulas,
their sources and the accuracy against published start-up logs.
"""

from __future__ import annotations

from stackgen.sizing.core import SizeResult, size
from stackgen.sizing.engine import EngineSettings, tp_choices
from stackgen.sizing.plan import ModelSizing, cold_start_seconds, llm_cold_start, llm_reasons, plan_model
from stackgen.sizing.search import fit_hint, smallest_fit, smallest_tp

__all__ = [
    "EngineSettings",
    "ModelSizing",
    "SizeResult",
    "cold_start_seconds",
    "llm_cold_start",
    "llm_reasons",
    "fit_hint",
    "plan_model",
    "size",
    "smallest_fit",
    "smallest_tp",
    "tp_choices",
]
