"""Per handler: cold import time in a fresh interpreter and asset size (targets: < 300 ms, < 1 MB)."""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from stacks.components.functions import handler_sources, powertools_sources, stage_files

HANDLERS = ("validate_input", "check_quotas", "plan_deployment", "evaluate", "cleanup")
RUNS = 5
# Import the handler as Lambda would: asset root and the Powertools layer on the path, nothing else of ours.
_PROBE = """
import sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
start = time.perf_counter()
__import__(f"handlers.{sys.argv[3]}.handler")
print((time.perf_counter() - start) * 1000)
"""


def _zipped_kb(folder: Path) -> float:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return len(buffer.getvalue()) / 1024


def _import_ms(asset: Path, layer: Path, name: str) -> float:
    # boto3 from the venv, as the Lambda runtime ships it; Powertools from the layer, first on the path.
    samples = []
    for _ in range(RUNS):
        output = subprocess.run(
            [sys.executable, "-c", _PROBE, str(asset), str(layer / "python"), name],
            capture_output=True,
            text=True,
            check=True,
            env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return statistics.median(samples)


def measure() -> dict[str, Any]:
    layer = stage_files(powertools_sources())
    import_ms, asset_kb = {}, {}
    for name in HANDLERS:
        asset = stage_files(handler_sources(name))
        import_ms[name] = round(_import_ms(asset, layer, name), 1)
        asset_kb[name] = round(_zipped_kb(asset), 1)
    return {
        "handler_import_ms": import_ms,
        "handler_asset_kb": asset_kb,
        "powertools_layer_kb": round(_zipped_kb(layer), 1),
    }
