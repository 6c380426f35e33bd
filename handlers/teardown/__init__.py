"""Teardown: a custom resource that, on stack deletion, leaves nothing running, billing or blocking."""
