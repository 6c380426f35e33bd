"""The framework image table ValidateInput picks script-mode images from, checked against the SDK."""

from __future__ import annotations

import json

from contracts.script_mode import FRAMEWORKS, IMAGES_FILE
from stacks.generate_framework_images import DEFAULT_VERSIONS, image_table
from stacks.generate_xgboost_images import XGBOOST_VERSION
from stacks.ml_stack import XGBOOST_IMAGES


def test_the_committed_table_is_what_the_sagemaker_sdk_resolves():
    assert json.loads(IMAGES_FILE.read_text())["frameworks"] == image_table()


def test_every_framework_defaults_to_the_line_the_local_sagemaker_runs():
    table = json.loads(IMAGES_FILE.read_text())["frameworks"]
    assert set(table) == set(FRAMEWORKS)
    assert {framework: entry["default"] for framework, entry in table.items()} == DEFAULT_VERSIONS
    # A script on XGBoost runs in the very image built-in XGBoost tuning uses, region by region.
    assert DEFAULT_VERSIONS["xgboost"] == XGBOOST_VERSION
    assert table["xgboost"]["versions"][XGBOOST_VERSION] == json.loads(XGBOOST_IMAGES.read_text())["images"]
