"""`stackgen lint`: the CI gate for model-serving manifests.

Rules live in `stackgen.lint.rules` (one small module per topic, each rule a registered
function with its metadata); `engine.lint_paths` reads files, validates schemas and runs
the rules; `formats` turns a `Report` into text, JSON, SARIF, JUnit or GitHub annotations.
"""
