"""How jobs get their data: streamed from S3 to the job's disk, never held whole in the server's memory."""

from __future__ import annotations

from typing import Any

import boto3
import numpy as np
import pytest
from moto.s3.models import FakeKey

from localaws.sagemaker import automl, s3io
from tests.local.sagemaker.conftest import REGION

ACCOUNT = "123456789012"


def test_an_object_is_copied_to_disk_in_chunks_not_read_whole(aws, tmp_path, monkeypatch):
    # Given an object of several chunks (bigger than moto keeps in memory)
    data = np.random.default_rng(5).bytes(3 * s3io.CHUNK_BYTES + 17)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="big.bin", Body=data)

    def whole(_: Any) -> bytes:
        raise AssertionError("the object was read whole")

    monkeypatch.setattr(FakeKey, "value", property(whole))

    # When a job downloads it
    s3io.download(ACCOUNT, REGION, "s3://data/big.bin", tmp_path / "big.bin")

    # Then the file has every byte
    assert (tmp_path / "big.bin").read_bytes() == data


def test_a_missing_object_is_an_s3_error(aws, tmp_path):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="data")
    with pytest.raises(s3io.S3Error, match="does not exist"):
        s3io.download(ACCOUNT, REGION, "s3://data/nothing.csv", tmp_path / "x")


def test_csv_parts_become_one_csv_with_one_header(tmp_path):
    parts = [tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"]
    parts[0].write_bytes(b"x,y\n1,0\n2,1")  # no newline at its end
    parts[1].write_bytes(b"x,y\n3,0\n")
    parts[2].write_bytes(b"x,y\n4,1\n")

    merged = automl.merge_csv_parts(parts, tmp_path / "merged.csv")

    assert merged.read_bytes() == b"x,y\n1,0\n2,1\n3,0\n4,1\n"
