"""Constructs that the stack wires together, one concern each."""
