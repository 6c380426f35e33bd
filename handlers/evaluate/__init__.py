"""Evaluate: score every endpoint variant on the same test set, pick the winner, write the report."""
