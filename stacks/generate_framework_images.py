"""Regenerate contracts/framework_images.json from the sagemaker SDK's image table (dev time only).

Run `python -m stacks.generate_framework_images` after bumping sagemaker-core or a DEFAULT_VERSIONS entry;
tests/infra check the committed file against the library, so it cannot drift silently. The table lives
in contracts/ because ValidateInput picks a run's image from it at run time (contracts/ ships in every
handler asset); the stack itself does not read it.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any
from unittest import mock

from contracts.script_mode import FRAMEWORKS, IMAGES_FILE

# The container lines matching the scikit-learn and xgboost the local SageMaker runs scripts with.
DEFAULT_VERSIONS = {"sklearn": "1.9-0", "xgboost": "3.2-0"}
# The SageMaker-owned repositories the execution role may pull from (stacks/components/roles.py); the
# legacy `xgboost:1` algorithm image lives elsewhere and runs no scripts.
REPOSITORY_PREFIX = "sagemaker-"


def _versions(framework: str) -> list[str]:
    """Versions with a training and an inference image (script mode needs both) in a SageMaker repository."""
    table = json.loads(files("sagemaker.core").joinpath(f"image_uri_config/{framework}.json").read_text())
    training, inference = table["training"]["versions"], table["inference"]["versions"]
    return [
        version
        for version, entry in training.items()
        if version in inference and str(entry.get("repository", "")).startswith(REPOSITORY_PREFIX)
    ]


def _registries(framework: str, version: str) -> list[str]:
    table = json.loads(files("sagemaker.core").joinpath(f"image_uri_config/{framework}.json").read_text())
    return sorted(table["training"]["versions"][version]["registries"])


def image_table() -> dict[str, dict[str, object]]:
    """Framework → {default, versions: version → region → image URI}, as the sagemaker SDK resolves them.

    Raises AssertionError if a region's training and inference images differ: the run trains and serves
    with one image.
    """
    from sagemaker.core import common_utils, image_uris  # dev-only dependency, kept out of synth and handlers

    # The SDK re-reads botocore's endpoint table on every retrieve (0.1 s each, over a thousand calls here).
    resolver = functools.cache(common_utils._botocore_resolver)
    with mock.patch.object(common_utils, "_botocore_resolver", resolver):
        return _image_table(image_uris)


def _image_table(image_uris: Any) -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = {}
    for framework in FRAMEWORKS:
        versions: dict[str, dict[str, str]] = {}
        for version in _versions(framework):
            images = {}
            for region in _registries(framework, version):
                uris = {
                    str(image_uris.retrieve(framework, region, version, py_version="py3", image_scope=scope))
                    for scope in ("training", "inference")
                }
                assert len(uris) == 1, f"{framework} {version} in {region}: {sorted(uris)}"
                images[region] = uris.pop()
            versions[version] = images
        assert DEFAULT_VERSIONS[framework] in versions, f"{framework}: no {DEFAULT_VERSIONS[framework]}"
        table[framework] = {"default": DEFAULT_VERSIONS[framework], "versions": versions}
    return table


def main() -> None:
    document = {"frameworks": image_table()}
    IMAGES_FILE.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    counts = {f: len(v["versions"]) for f, v in document["frameworks"].items()}  # type: ignore[arg-type]
    print(f"wrote {counts} versions to {IMAGES_FILE}")


if __name__ == "__main__":
    main()
