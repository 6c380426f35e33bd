"""Script mode: the local SageMaker runs your own train.py under the framework containers' contract."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest

from contracts import script_mode
from handlers.plan_deployment.repack import repack
from localaws.sagemaker import job_logs
from mlstack.commands.source import pack
from tests.local.sagemaker.conftest import (
    BUCKET,
    REGION,
    ROLE,
    channels,
    features_csv,
    wait_training,
    wait_until,
)
from tests.local.sagemaker.test_sagemaker_endpoints import variants, wait_endpoint
from tests.local.sagemaker.test_sagemaker_tuning import wait_tuning

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

# Records what a script sees into its model, prints two metrics, and can crash or save nothing.
PROBE = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    import helper  # a module beside the script: the source directory is on the path

    seen = {
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("SM_", "SAGEMAKER_"))},
        "train_files": sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"])),
        "hyperparameters_json": json.loads(
            Path(os.environ["SM_INPUT_CONFIG_DIR"], "hyperparameters.json").read_text()
        ),
        "project_importable": True,
    }
    try:
        import training.train  # noqa: F401 - the project's modules are no script's business
    except ImportError:
        seen["project_importable"] = False
    print("epoch 1 loss: 0.50 score=0.61")
    print("epoch 2 loss: 0.25 score=0.75", flush=True)
    if os.environ.get("SM_HP_MODE") == "crash":
        print("about to fail", file=sys.stderr)
        raise ValueError("the data has no column 'age' " + helper.NOTE)
    if os.environ.get("SM_HP_MODE") != "nomodel":
        Path(os.environ["SM_MODEL_DIR"], "seen.json").write_text(json.dumps(seen))
    """
)
METRICS = [
    {"Name": "score", "Regex": r"score=([0-9.]+)"},
    {"Name": "train:loss", "Regex": r"loss: ([0-9.]+)"},
]


def put_source(directory: Path, entry_point: str = "train.py") -> str:
    """Pack `directory` as the CLI does and put it in the bucket; its s3:// URI."""
    source = pack(directory / entry_point) if (directory / entry_point).exists() else None
    if source is None:  # an entry point that is not there: pack the directory through another file
        source = pack(next(p for p in sorted(directory.iterdir()) if p.is_file()))
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=source.key, Body=source.archive)
    return f"s3://{BUCKET}/{source.key}"


def script_request(
    name: str,
    prefix: str,
    source_uri: str,
    *,
    entry_point: str = "train.py",
    image: str = SKLEARN_IMAGE,
    hyperparameters: dict[str, Any] | None = None,
    metrics: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A CreateTrainingJob request as the SageMaker SDK makes one for a framework estimator."""
    code_channel = {
        "ChannelName": script_mode.CODE_CHANNEL,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source_uri}},
    }
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "MetricDefinitions": METRICS if metrics is None else metrics,
        },
        "RoleArn": ROLE,
        "HyperParameters": {
            **script_mode.static_hyperparameters(entry_point, REGION, hyperparameters or {}),
        },
        "InputDataConfig": [*channels(prefix), code_channel],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "EnableNetworkIsolation": True,
    }


@pytest.fixture
def probe_source(tmp_path: Path, dataset: dict[str, Any]) -> str:
    (tmp_path / "train.py").write_text(PROBE)
    (tmp_path / "helper.py").write_text('NOTE = "(helper)"\n')
    return put_source(tmp_path)


def model_file(job: dict[str, Any], name: str) -> bytes:
    bucket, key = job["ModelArtifacts"]["S3ModelArtifacts"][len("s3://") :].split("/", 1)
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def job_log(name: str) -> list[str]:
    """The job's log as a user reads it: CloudWatch Logs, /aws/sagemaker/TrainingJobs, <job>/algo-1-…."""
    logs = boto3.client("logs", region_name=REGION)
    group = "/aws/sagemaker/TrainingJobs"

    def streams() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = logs.describe_log_streams(
            logGroupName=group, logStreamNamePrefix=f"{name}/"
        )["logStreams"]
        return found

    wait_until(lambda: logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] and streams())
    (stream,) = streams()
    assert stream["logStreamName"].startswith(f"{name}/algo-1-")
    events = logs.get_log_events(
        logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
    )
    return [event["message"] for event in events["events"]]


def test_a_script_runs_with_the_toolkits_arguments_variables_and_tree(sm, dataset, probe_source):
    # Given a script and hyperparameters of several types, JSON-encoded as the SDK sends them
    hyperparameters = {"alpha": 0.5, "criterion": "gini", "k": 3, "flag": True}
    request = script_request("script-ok", dataset["prefix"], probe_source, hyperparameters=hyperparameters)
    request["HyperParameters"][script_mode.TUNING_OBJECTIVE] = "score"

    # When the job runs
    sm.create_training_job(**request)
    job = wait_training(sm, "script-ok")

    # Then it completes with both metrics read by their regexes (the last match counts)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics == {"score": 0.75, "train:loss": 0.25}
    seen = json.loads(model_file(job, "seen.json"))
    # And the script got its own hyperparameters as sorted arguments, SageMaker's kept out
    assert seen["argv"] == ["train.py", "--alpha", "0.5", "--criterion", "gini", "--flag", "True", "-k", "3"]
    env = seen["env"]
    assert json.loads(env["SM_HPS"]) == hyperparameters
    assert (env["SM_HP_ALPHA"], env["SM_HP_CRITERION"], env["SM_HP_K"]) == ("0.5", "gini", "3")
    assert json.loads(env["SM_USER_ARGS"]) == seen["argv"][1:]
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_NAME"] == "train"
    assert env["SM_CURRENT_INSTANCE_TYPE"] == "ml.m5.large"
    assert json.loads(env["SM_CHANNELS"]) == ["code", "train", "validation"]
    assert seen["train_files"] == ["train.csv"]
    assert env["SM_MODEL_DIR"].endswith("/model") and env["SM_OUTPUT_DATA_DIR"].endswith("/output/data")
    assert json.loads(env["SM_TRAINING_ENV"])["hyperparameters"] == hyperparameters
    # And it ran in the unpacked source directory, hyperparameters.json as SageMaker wrote it
    assert seen["cwd"] == env["SM_MODULE_DIR"] and seen["cwd"].endswith("/code")
    assert seen["hyperparameters_json"]["sagemaker_program"] == '"train.py"'
    assert seen["hyperparameters_json"]["_tuning_objective_metric"] == "score"
    assert seen["project_importable"] is False
    assert any("runs " + SKLEARN_IMAGE + " as Python" in line for line in job_log("script-ok"))


def test_a_crash_fails_the_job_with_the_end_of_its_stderr(sm, dataset, probe_source):
    request = script_request(
        "script-crash", dataset["prefix"], probe_source, hyperparameters={"mode": "crash"}
    )
    sm.create_training_job(**request)

    job = wait_training(sm, "script-crash")

    assert job["TrainingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage")
    assert "ValueError: the data has no column 'age' (helper)" in reason
    assert "about to fail" in reason and reason.endswith(", exit code: 1")
    assert 'Command "' in reason and "train.py --mode crash" in reason


def test_a_regex_that_matches_nothing_leaves_its_metric_out_and_says_so(sm, dataset, probe_source):
    metrics = [*METRICS, {"Name": "validation:auc", "Regex": r"auc=([0-9.]+)"}]
    sm.create_training_job(
        **script_request("script-nomatch", dataset["prefix"], probe_source, metrics=metrics)
    )

    job = wait_training(sm, "script-nomatch")

    assert job["TrainingJobStatus"] == "Completed"
    assert "validation:auc" not in {m["MetricName"] for m in job["FinalMetricDataList"]}
    assert "metric validation:auc: its regex 'auc=([0-9.]+)' matched nothing in this job's output" in (
        job_log("script-nomatch")
    )


def test_a_script_that_saves_no_model_fails_saying_where_to_save_it(sm, dataset, probe_source):
    request = script_request(
        "script-nomodel", dataset["prefix"], probe_source, hyperparameters={"mode": "nomodel"}
    )
    sm.create_training_job(**request)

    job = wait_training(sm, "script-nomodel")

    assert job["TrainingJobStatus"] == "Failed"
    assert "wrote no model to SM_MODEL_DIR (/opt/ml/model)" in job["FailureReason"]


def test_a_missing_entry_point_fails_naming_it_and_what_the_source_holds(sm, dataset, probe_source):
    sm.create_training_job(
        **script_request("script-noentry", dataset["prefix"], probe_source, entry_point="fit.py")
    )

    job = wait_training(sm, "script-noentry")

    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: entry point fit.py is not in the source directory")
    assert "helper.py, train.py" in job["FailureReason"]


def test_a_requirements_file_is_reported_not_installed(sm, dataset, tmp_path):
    (tmp_path / "train.py").write_text(PROBE)
    (tmp_path / "helper.py").write_text('NOTE = ""\n')
    (tmp_path / "requirements.txt").write_text("lightgbm==4.6.0\n")
    sm.create_training_job(**script_request("script-reqs", dataset["prefix"], put_source(tmp_path)))

    job = wait_training(sm, "script-reqs")

    assert job["TrainingJobStatus"] == "Completed"
    (note,) = [line for line in job_log("script-reqs") if "requirements.txt" in line]
    assert "the local SageMaker does not install it" in note and "scikit-learn " in note


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("no-program", "The scikit-learn container runs a training script: set the sagemaker_program"),
        ("s3-source", "with network isolation the container cannot reach S3"),
    ],
)
def test_what_the_container_cannot_run_fails_before_it_starts(sm, dataset, probe_source, change, reason):
    request = script_request(f"script-{change}", dataset["prefix"], probe_source)
    if change == "no-program":
        del request["HyperParameters"][script_mode.PROGRAM]
    else:
        request["HyperParameters"][script_mode.SUBMIT_DIRECTORY] = script_mode.encode(probe_source)
    sm.create_training_job(**request)

    job = wait_training(sm, f"script-{change}")

    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ") and reason in job["FailureReason"]


@pytest.mark.parametrize(
    ("example", "image", "regex"),
    [
        ("sklearn", SKLEARN_IMAGE, r"validation:auc=([0-9.]+)"),
        ("xgboost", XGB_IMAGE, r"validation-auc:([0-9.]+)"),
    ],
)
def test_a_tuning_job_tunes_a_script_by_its_metric_definitions(sm, dataset, example, image, regex):
    # Given an example script, its metric and ranges of its own hyperparameters
    source = put_source(EXAMPLES / example)
    definition = script_request("unused", dataset["prefix"], source, image=image)
    definition["AlgorithmSpecification"]["MetricDefinitions"] = [{"Name": "validation:auc", "Regex": regex}]
    ranges = (
        {"IntegerParameterRanges": [{"Name": "max_leaf_nodes", "MinValue": "4", "MaxValue": "32"}]}
        if example == "sklearn"
        else {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "5"}]}
    )
    request = {
        "HyperParameterTuningJobName": f"tune-{example}",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": ranges,
            "TrainingJobEarlyStoppingType": "Off",
        },
        "TrainingJobDefinition": {
            key: definition[key]
            for key in (
                "AlgorithmSpecification",
                "RoleArn",
                "InputDataConfig",
                "OutputDataConfig",
                "ResourceConfig",
                "StoppingCondition",
                "EnableNetworkIsolation",
            )
        }
        | {"StaticHyperParameters": definition["HyperParameters"]},
    }

    # When it runs
    sm.create_hyper_parameter_tuning_job(**request)
    tuned = wait_tuning(sm, f"tune-{example}")

    # Then every trial reported the objective its regex found, and the best is one of them
    assert tuned["HyperParameterTuningJobStatus"] == "Completed", tuned.get("FailureReason")
    assert tuned["ObjectiveStatusCounters"]["Succeeded"] == 2
    best = tuned["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert best["MetricName"] == "validation:auc" and 0.6 < best["Value"] <= 1.0
    trial = sm.describe_training_job(TrainingJobName=tuned["BestTrainingJob"]["TrainingJobName"])
    assert wait_until(lambda: trial["ModelArtifacts"]["S3ModelArtifacts"].endswith("model.tar.gz"))


# --- serving: the framework's model server runs the script's inference functions ---------------------


def serve_script(sm: Any, name: str, job: dict[str, Any], source_uri: str, image: str) -> dict[str, Any]:
    """The trained model repacked with its code (as PlanDeployment does), as a network-isolated model on
    an endpoint of its own; the endpoint once it left Creating."""
    s3 = boto3.client("s3", region_name=REGION)
    target = f"s3://{BUCKET}/deploy/{name}/model.tar.gz"
    repack(s3, job["ModelArtifacts"]["S3ModelArtifacts"], source_uri, target, "alias/none")
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": image,
            "ModelDataUrl": target,
            "Environment": script_mode.serving_environment("train.py", REGION),
        },
        EnableNetworkIsolation=True,
    )
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants(("Tuning", name)))
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return wait_endpoint(sm, name)


@pytest.mark.parametrize(("example", "image"), [("sklearn", SKLEARN_IMAGE), ("xgboost", XGB_IMAGE)])
def test_a_trained_script_serves_probabilities_through_its_inference_functions(
    sm, runtime, dataset, example, image
):
    # Given the example trained in its framework's container
    source = put_source(EXAMPLES / example)
    request = script_request(f"serve-{example}", dataset["prefix"], source, image=image)
    sm.create_training_job(**request)
    job = wait_training(sm, f"serve-{example}")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")

    # When its model is served as the pipeline serves it
    endpoint = serve_script(sm, f"serve-{example}", job, source, image)
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")

    # Then rows of features get one probability of class 1 each, a single row too (as Evaluate reads them)
    rows = features_csv(dataset["x"][:5])
    for body, count in ((rows, 5), (rows.splitlines(keepends=True)[0], 1)):
        answer = runtime.invoke_endpoint(
            EndpointName=f"serve-{example}", ContentType="text/csv", Accept="text/csv", Body=body
        )
        values = [float(line) for line in answer["Body"].read().decode().split()]
        assert len(values) == count and all(0.0 <= v <= 1.0 for v in values)
    # And JSON when asked for, as the framework's default output_fn encodes it
    answer = runtime.invoke_endpoint(
        EndpointName=f"serve-{example}", ContentType="text/csv", Accept="application/json", Body=rows
    )
    assert len(json.loads(answer["Body"].read())) == 5
    # And JSON when no Accept is sent: the container's default, not the built-in algorithm's CSV
    answer = runtime.invoke_endpoint(EndpointName=f"serve-{example}", ContentType="text/csv", Body=rows)
    assert answer["ContentType"].startswith("application/json")
    assert len(json.loads(answer["Body"].read())) == 5
    sm.delete_endpoint(EndpointName=f"serve-{example}")


def test_a_script_without_model_fn_fails_the_endpoint_saying_so(sm, dataset, tmp_path):
    # Given a model whose script defines no model_fn (neither framework has a default)
    (tmp_path / "train.py").write_text(
        "import os, pathlib\n"
        "if __name__ == '__main__':\n"
        "    pathlib.Path(os.environ['SM_MODEL_DIR'], 'model.txt').write_text('m')\n"
        "    print('score=0.5')\n"
    )
    source = put_source(tmp_path)
    sm.create_training_job(**script_request("serve-nofn", dataset["prefix"], source))
    job = wait_training(sm, "serve-nofn")

    endpoint = serve_script(sm, "serve-nofn", job, source, SKLEARN_IMAGE)

    assert endpoint["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in endpoint["FailureReason"]
    assert "Please provide a model_fn implementation in train.py" in endpoint["FailureReason"]


def test_an_isolated_model_cannot_fetch_its_source_from_s3(sm, dataset, probe_source):
    sm.create_training_job(**script_request("serve-s3", dataset["prefix"], probe_source))
    job = wait_training(sm, "serve-s3")
    environment = {
        **script_mode.serving_environment("train.py", REGION),
        "SAGEMAKER_SUBMIT_DIRECTORY": probe_source,
    }
    sm.create_model(
        ModelName="serve-s3",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN_IMAGE,
            "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"],
            "Environment": environment,
        },
        EnableNetworkIsolation=True,
    )
    sm.create_endpoint_config(
        EndpointConfigName="serve-s3", ProductionVariants=variants(("Tuning", "serve-s3"))
    )
    sm.create_endpoint(EndpointName="serve-s3", EndpointConfigName="serve-s3")

    endpoint = wait_endpoint(sm, "serve-s3")

    assert endpoint["EndpointStatus"] == "Failed"
    assert "runs with network isolation, so its container cannot download" in endpoint["FailureReason"]


def test_a_long_log_keeps_its_start_and_its_end(monkeypatch):
    monkeypatch.setattr(job_logs, "MAX_LINES", 4)
    log = job_logs.JobLog()
    for i in range(7):
        log.add(i, f"line {i}")
    assert [text for _, text in log.lines] == ["line 0", "line 1", "line 5", "line 6"]
    assert log.dropped == 3
