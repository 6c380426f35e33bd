"""Run Lambda functions for real, in a subprocess of the local AWS (no Docker)."""
