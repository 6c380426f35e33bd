"""The pipeline's Lambda handlers, one sub-package each, and `common`, the code they share.

Each function's asset holds this package with its own handler and `common` only (plus `contracts`),
so `handlers.<name>.handler.lambda_handler` imports the same way on Lambda, in tests and in the CLI.
"""
