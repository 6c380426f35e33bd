"""Helpers shared by every handler of the pipeline (shipped inside each Lambda asset)."""
