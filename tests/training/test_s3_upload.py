"""Uploading a prepared dataset to S3 (moto's mock_aws): keys, content, manifest last, refusals."""

import boto3
import pytest
from moto import mock_aws

from training.errors import DatasetError
from training.prepare_data import prepare
from training.s3_upload import parse_s3_uri, upload_dataset

BUCKET = "mlstack-data"
KEYS = {
    "train/train.csv",
    "validation/validation.csv",
    "test/test.csv",
    "test-raw/test.csv",
    "autopilot/train.csv",
    "manifest.json",
}


@pytest.fixture
def s3(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _keys(client, prefix):
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"][len(prefix) :] for o in listed}


def test_upload_writes_the_layout_under_the_prefix(s3, bank_dir):
    uri = upload_dataset(bank_dir, f"s3://{BUCKET}/datasets/bank/", default_prefix="unused", s3_client=s3)
    assert uri == f"s3://{BUCKET}/datasets/bank/"
    assert _keys(s3, "datasets/bank/") == KEYS
    body = s3.get_object(Bucket=BUCKET, Key="datasets/bank/train/train.csv")["Body"].read()
    assert body == (bank_dir / "train" / "train.csv").read_bytes()
    assert (
        s3.head_object(Bucket=BUCKET, Key="datasets/bank/manifest.json")["ContentType"] == "application/json"
    )


def test_a_bare_bucket_gets_the_default_prefix(s3, bank_dir):
    uri = upload_dataset(bank_dir, f"s3://{BUCKET}", default_prefix="datasets/bank", s3_client=s3)
    assert uri == f"s3://{BUCKET}/datasets/bank/"


def test_prepare_with_upload_uses_the_default_client(s3, tmp_path):
    prepared = prepare("breast_cancer", tmp_path / "bc", upload=f"s3://{BUCKET}/datasets/")
    assert prepared.uri == f"s3://{BUCKET}/datasets/"
    # The exploration goes beside the manifest, as the page a browser shows
    assert _keys(s3, "datasets/") == KEYS | {"exploration.json", "exploration.html"}
    page = s3.get_object(Bucket=BUCKET, Key="datasets/exploration.html")
    assert page["ContentType"] == "text/html"
    assert page["Body"].read() == (tmp_path / "bc" / "exploration.html").read_bytes()


def test_leftover_files_under_a_channel_are_refused(s3, bank_dir):
    # Given an object from another upload under the train channel
    s3.put_object(Bucket=BUCKET, Key="datasets/bank/train/old-part.csv", Body=b"1,2\n")
    # When uploading there, Then it refuses rather than let training read both
    with pytest.raises(DatasetError, match=r"already holds other files.*old-part\.csv"):
        upload_dataset(bank_dir, f"s3://{BUCKET}/datasets/bank/", default_prefix="x", s3_client=s3)
    assert _keys(s3, "datasets/bank/") == {"train/old-part.csv"}


def test_uploading_again_to_the_same_prefix_overwrites(s3, bank_dir):
    uri = f"s3://{BUCKET}/datasets/bank/"
    upload_dataset(bank_dir, uri, default_prefix="x", s3_client=s3)
    upload_dataset(bank_dir, uri, default_prefix="x", s3_client=s3)
    assert _keys(s3, "datasets/bank/") == KEYS


@pytest.mark.parametrize("uri", ["bucket/datasets/", "s3:///datasets/", "s3://Bad_Bucket/x/", "https://b/x"])
def test_a_malformed_uri_says_what_it_should_look_like(uri):
    with pytest.raises(DatasetError, match="must look like s3://<bucket>/datasets/<name>/"):
        parse_s3_uri(uri, default_prefix="datasets/x")


def test_a_bad_uri_fails_before_anything_is_written(tmp_path):
    with pytest.raises(DatasetError, match="must look like"):
        prepare("diabetes", tmp_path / "out", upload="bucket-without-scheme")
    assert not (tmp_path / "out").exists()


def test_a_directory_that_is_not_prepared_is_refused(s3, tmp_path):
    with pytest.raises(DatasetError, match="is not a prepared dataset"):
        upload_dataset(tmp_path, f"s3://{BUCKET}/x/", default_prefix="x", s3_client=s3)


def test_the_manifest_is_uploaded_last(s3, bank_dir, monkeypatch):
    uploaded = []
    original = s3.upload_file

    def record(filename, bucket, key, **kwargs):
        uploaded.append(key)
        return original(filename, bucket, key, **kwargs)

    monkeypatch.setattr(s3, "upload_file", record)
    upload_dataset(bank_dir, f"s3://{BUCKET}/d/", default_prefix="x", s3_client=s3)
    assert uploaded[-1] == "d/manifest.json"
    assert len(uploaded) == len(KEYS)
