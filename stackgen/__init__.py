"""stackgen: pick, size, render, lint and apply model-serving stacks on Kubernetes."""

__version__ = "0.1.0"
