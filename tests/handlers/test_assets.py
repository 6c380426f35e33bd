"""Each handler imports only from its Lambda asset: its folder, common/, contracts/ and tuning_ranges."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ("validate_input", "check_quotas", "plan_deployment", "evaluate", "cleanup")
# What stacks/components/functions.py ships beside each handler folder.
SHARED = {
    "common": ROOT / "lambda" / "common",
    "contracts": ROOT / "contracts",
    "training/__init__.py": ROOT / "training" / "__init__.py",
    "training/tuning_ranges.py": ROOT / "training" / "tuning_ranges.py",
}
# Importable in the Lambda runtime besides the standard library (boto3 and its dependencies, the layer).
ALLOWED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "urllib3",
    "certifi",
    "six",
    "aws_lambda_powertools",
    "typing_extensions",
)
PROBE = """
import importlib, sys
sys.path[:] = [p for p in sys.path if p not in ("", {root!r}, {root!r} + "/lambda")]
sys.path.insert(0, {asset!r})
module = importlib.import_module({handler!r} + ".handler")
assert callable(module.lambda_handler)
stdlib = set(sys.stdlib_module_names)
local = {{{handler!r}, "common", "contracts", "training"}}
foreign = sorted(
    name for name in {{m.split(".")[0] for m in sys.modules}}
    if name not in stdlib and name not in local and name not in {allowed!r} and not name.startswith("_")
)
print(",".join(foreign))
"""


def _stage(tmp_path: Path, handler: str) -> Path:
    asset = tmp_path / handler
    shutil.copytree(ROOT / "lambda" / handler, asset / handler)
    for target, source in SHARED.items():
        if source.is_dir():
            shutil.copytree(source, asset / target)
        else:
            (asset / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, asset / target)
    return asset


@pytest.mark.parametrize("handler", HANDLERS)
def test_handler_imports_only_from_its_asset(tmp_path, handler):
    # Given the handler's asset as the stack stages it, outside the project tree
    asset = _stage(tmp_path, handler)
    probe = PROBE.format(root=str(ROOT), asset=str(asset), handler=handler, allowed=ALLOWED)
    # When it is imported in a fresh interpreter (no type stubs, no project packages on the path)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False
    )
    # Then the import works and pulls in nothing beyond the standard library, boto3 and Powertools
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
    assert (asset / handler / "__init__.py").exists()
