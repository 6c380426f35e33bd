"""Rules shared by the stack, the handlers and the CLI (stdlib only: it ships in every asset)."""
