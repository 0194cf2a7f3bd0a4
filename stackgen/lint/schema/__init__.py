"""Schema validation: built-in kinds (kubernetes-validate's schemas), CRDs, removed APIs."""
