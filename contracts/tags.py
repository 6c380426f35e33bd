"""Tags on every runtime resource: written by the stack and ValidateInput, read by every cleanup path."""

from __future__ import annotations

STACK_TAG = "mlstack:stack"
RUN_TAG = "mlstack:run"
EXPIRES_TAG = "mlstack:expires"
