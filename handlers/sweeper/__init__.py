"""Sweeper: delete this stack's endpoints whose mlstack:expires passed and that no running execution owns."""
