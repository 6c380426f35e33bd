"""The run object's and the dataset layout's contracts: consistent, and refusing fields they lack."""

from __future__ import annotations

from dataclasses import fields

import pytest

from contracts.dataset_layout import (
    CHANNEL_NAMES,
    CHANNELS,
    FILES,
    NUMERIC_CHANNELS,
    Channels,
    ManifestFields,
    ManifestRows,
)
from contracts.names import RunNames, RunNamesDict
from contracts.run import RUN_PATH, Run, RunDataset, fields_of, run_path
from tests.handlers.conftest import manifest
from tests.handlers.runs import CLASSES, make_run
from tests.shapes import mismatches


def test_run_path_spells_the_jsonpath_of_a_field() -> None:
    assert run_path() == RUN_PATH == "$.run"
    assert run_path("names", "tuning_job") == "$.run.names.tuning_job"
    assert run_path("tuning", "use_spot") == "$.run.tuning.use_spot"
    assert run_path("dataset", "test_raw") == "$.run.dataset.test_raw"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("names", "tuningjob"), r"run.names has no field 'tuningjob': it has run_id, tuning_job"),
        (("limit",), r"run has no field 'limit': it has run_id, .*limits"),
        (("tags", "Key"), r"run.tags has no field 'Key': it has no fields"),
        (("poll_seconds", "value"), r"run.poll_seconds has no field 'value'"),
    ],
)
def test_run_path_refuses_what_the_run_object_lacks(path: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_path(*path)


def test_names_in_the_run_are_run_names_field_for_field() -> None:
    assert list(fields_of(RunNamesDict)) == [f.name for f in fields(RunNames)]


def test_the_dataset_block_has_every_channel_the_root_and_the_manifest() -> None:
    assert list(fields_of(Channels)) == list(CHANNELS) == list(FILES) == list(CHANNEL_NAMES)
    assert set(fields_of(RunDataset)) == {*CHANNEL_NAMES, "uri", "manifest"}


def test_rows_are_counted_per_numeric_channel() -> None:
    assert set(NUMERIC_CHANNELS) < set(CHANNEL_NAMES)
    assert list(fields_of(ManifestRows)) == list(NUMERIC_CHANNELS)


@pytest.mark.parametrize("problem_type", sorted(CLASSES))
def test_the_handlers_tests_use_runs_and_manifests_of_the_contracts_shape(problem_type: str) -> None:
    assert mismatches(make_run(problem_type), Run) == []
    doc = manifest(problem_type)
    assert mismatches({k: v for k, v in doc.items() if k in fields_of(ManifestFields)}, ManifestFields) == []
