"""ML Stack: the user-facing tools (the `mlstack` command line and the embedded local AWS)."""
