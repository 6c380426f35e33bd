"""Regenerate stacks/xgboost_images.json from the sagemaker SDK's image table (dev time only).

Run `python -m stacks.generate_xgboost_images` after bumping sagemaker-core or XGBOOST_VERSION;
tests/infra check the committed file against the library, so it cannot drift silently.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

XGBOOST_VERSION = "3.2-0"  # the container line matching the xgboost the local training runs
IMAGES_FILE = Path(__file__).with_name("xgboost_images.json")


def image_map() -> dict[str, str]:
    """Region → built-in XGBoost training/inference image URI, as the sagemaker SDK resolves it."""
    from sagemaker.core import image_uris  # dev-only dependency, kept out of synth

    table = json.loads(files("sagemaker.core").joinpath("image_uri_config/xgboost.json").read_text())
    regions = sorted(table["training"]["versions"][XGBOOST_VERSION]["registries"])
    return {region: str(image_uris.retrieve("xgboost", region, XGBOOST_VERSION)) for region in regions}


def main() -> None:
    document = {"version": XGBOOST_VERSION, "images": image_map()}
    IMAGES_FILE.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(document['images'])} regions to {IMAGES_FILE}")


if __name__ == "__main__":
    main()
