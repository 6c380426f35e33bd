"""Every function the stack deploys imports from its own asset alone, as synth stages it for upload."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment

from stacks.config import load_config
from stacks.ml_stack import MlStack

ROOT = Path(__file__).resolve().parents[2]
# Our packages in an asset; nothing else of the project may be shipped or imported.
PROJECT = ("handlers", "contracts", "training")
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
# Run with -I (no cwd, no PYTHON* variables); the project root is never on the path, and the editable
# install's finder goes too, so nothing resolves from the checkout: only the asset and site-packages.
PROBE = """
import importlib, json, sys
sys.meta_path[:] = [f for f in sys.meta_path if not f.__module__.startswith("__editable__")]
sys.path[:] = [p for p in sys.path if p not in ("", {root!r})]
sys.path.insert(0, {asset!r})
module_name, _, attribute = {handler!r}.rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
assert callable(handler), {handler!r} + " is not callable"
stdlib = set(sys.stdlib_module_names)
outside = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0] in {project!r}
    and not (getattr(module, "__file__", None) or "").startswith({asset!r} + "/")
)
foreign = sorted(
    name for name in {{m.split(".")[0] for m in sys.modules}}
    if name not in stdlib and name not in {project!r} and name not in {allowed!r} and not name.startswith("_")
)
print(json.dumps({{"outside": outside, "foreign": foreign}}))
"""


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """Each Lambda function of the synthesized dev stack: logical id → (handler, staged asset folder)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = App(outdir=str(outdir), context={**context, "stage": "dev"})
    config = load_config({"stage": "dev", "stages": context["stages"]})
    stack = MlStack(
        app, config.stack_name, config=config, env=Environment(account="123456789012", region="eu-west-1")
    )
    artifact = app.synth().get_stack_artifact(stack.artifact_id)
    manifest = json.loads((outdir / f"{artifact.id}.assets.json").read_text())
    # The template names each function's code by S3 key; the asset manifest says which folder is zipped there.
    folders = {
        destination["objectKey"]: outdir / asset["source"]["path"]
        for asset in manifest["files"].values()
        for destination in asset["destinations"].values()
    }
    functions: dict[str, Any] = {
        logical_id: resource["Properties"]
        for logical_id, resource in artifact.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    return {
        logical_id: (properties["Handler"], folders[properties["Code"]["S3Key"]])
        for logical_id, properties in functions.items()
    }


def test_the_stack_deploys_the_handlers_package(deployed: dict[str, tuple[str, Path]]) -> None:
    # Given every function of the template, Then each runs handlers.<name>.handler.lambda_handler
    assert deployed
    for logical_id, (handler, _) in deployed.items():
        assert handler.startswith("handlers.") and handler.endswith(".handler.lambda_handler"), logical_id


def test_each_asset_holds_its_handler_common_and_contracts_only(
    deployed: dict[str, tuple[str, Path]],
) -> None:
    for handler, asset in deployed.values():
        name = handler.split(".")[1]
        # Then the asset root holds our packages at their repository paths, and no other handler
        assert sorted(p.name for p in asset.iterdir()) == sorted(PROJECT), handler
        assert sorted(p.name for p in (asset / "handlers").iterdir()) == sorted(
            ["__init__.py", "common", name]
        )
        assert (asset / "handlers" / name / "handler.py").is_file()


def test_each_asset_imports_its_handler_in_a_fresh_interpreter(
    deployed: dict[str, tuple[str, Path]], tmp_path: Path
) -> None:
    failures = {}
    for handler, asset in deployed.values():
        probe = PROBE.format(
            root=str(ROOT), asset=str(asset), handler=handler, project=PROJECT, allowed=ALLOWED
        )
        # When the handler is resolved with only its asset (and site-packages) on the path
        done = subprocess.run(
            [sys.executable, "-I", "-c", probe],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        # Then it imports, from the asset alone, nothing beyond the standard library, boto3 and Powertools
        if done.returncode != 0:
            failures[handler] = done.stderr.strip().splitlines()[-1:]
        elif (found := json.loads(done.stdout)) != {"outside": [], "foreign": []}:
            failures[handler] = found
    assert failures == {}
    assert len(deployed) >= 7  # the five pipeline steps, the sweeper and the teardown
