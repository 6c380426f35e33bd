"""The product never loads the emulator: only `mlstack local` and `mlstack demo` reach it, when run."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_starts_without_the_local_aws() -> None:
    # Given a fresh interpreter, When the CLI builds its whole parser (every command registered)
    probe = (
        "import sys; from mlstack import cli; cli.build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('localaws', 'moto')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # Then neither the emulator nor moto was imported
    assert result.stdout.strip() == "[]"
