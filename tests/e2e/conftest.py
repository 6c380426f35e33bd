"""End-to-end fixtures: one local AWS subprocess and one deployed stack per session, and run helpers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localaws import children, ports
from localaws.settings import PROJECT_ROOT, REGION, SAGEMAKER_CONTROL_PREFIX, client_env
from tests.local.conftest import start_server
from training.prepare_data import prepare

STACK_NAME = "MlStack-local"
CDK = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"
STAGE = "local"
# Small, seeded datasets: enough signal for honest metric bounds, little training time.
DATASET_ROWS: dict[str, int | None] = {"bank": 3000, "digits": None, "friedman": None}
POLL_S = 0.5
RUN_TIMEOUT_S = 240.0
ABORT_CLEANUP_TIMEOUT_S = 120.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "destroys_stack: runs `cdk destroy` on the session stack (ordered last)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow end-to-end tests first, so that parallel workers start on them and the quick tiers fill
    in around them; tests that destroy the session stack after every other test (a worker takes tests
    in this order, and they are handed out last)."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("destroys_stack") is not None,
            item.get_closest_marker("e2e") is None,
        )
    )


# --- the local AWS ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The local AWS in a subprocess on a free port: {"url", "env", "port", "log"}; stopped with children."""
    state = tmp_path_factory.mktemp("e2e-local-aws")
    port = ports.free_port()
    log = state / "server.log"
    proc = start_server(port, state, log, iam="enforce")
    env = client_env(port)
    try:
        yield {"url": env["AWS_ENDPOINT_URL"], "env": env, "port": port, "log": log}
    finally:
        children.kill_tree(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            children.kill_tree(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # Endpoint servers and Lambda runs carry the server's marker even outside its process group.
        children.kill_marked(proc.pid)
        _keep_access_log(state / "access-log.jsonl")


def _keep_access_log(log: Path) -> None:
    """`make iam-report` reads every worker's IAM decisions after the session."""
    keep = os.environ.get("MLSTACK_IAM_LOG_DIR")
    if keep and log.exists():
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        shutil.copyfile(log, Path(keep) / f"access-log-{worker}.jsonl")


def _client(local_aws: dict[str, Any], service: str) -> Any:
    env = local_aws["env"]
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(service, endpoint_url=env["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="session")
def aws(local_aws: dict[str, Any]) -> Callable[[str], Any]:
    """`aws("s3")`: a boto3 client bound to the local AWS, without touching os.environ."""
    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = _client(local_aws, service)
        return cache[service]

    return client


def empty_bucket(s3: Any, bucket: str) -> None:
    """Delete every object version and delete marker (a versioned bucket must be empty to be deleted)."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    except ClientError as err:
        if err.response["Error"]["Code"] != "NoSuchBucket":
            raise


# --- the deployed stack ----------------------------------------------------------------------------


def stage_variant(directory: Path, **changes: Any) -> Path:
    """A project directory whose cdk.json is ours with the local stage changed: deploying from it puts a
    second stack (give it its own stack_name and name_prefix) beside the session's."""
    document = json.loads((PROJECT_ROOT / "cdk.json").read_text())
    document["context"]["stages"][STAGE].update(changes)
    (directory / "cdk.json").write_text(json.dumps(document, indent=2))
    return directory


def cdk_env(local_aws: dict[str, Any]) -> dict[str, str]:
    """The CDK CLI's environment: Node 22 and this Python first on PATH, the local AWS's endpoint."""
    path = os.pathsep.join([str(CDK.parent), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, **local_aws["env"], "PATH": path, "CDK_DISABLE_VERSION_CHECK": "1"}


@dataclass
class Deployment:
    """A deployed stack; `destroy()` is idempotent so a test may destroy it early."""

    env: dict[str, str]
    out_dir: Path
    stack_name: str = STACK_NAME
    project_dir: Path = PROJECT_ROOT  # where the CLI reads cdk.json (the stage table) from
    outputs: dict[str, str] = field(default_factory=dict)
    destroyed: subprocess.CompletedProcess[str] | None = None

    def cdk(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        command = [
            str(CDK),
            *args,
            "-c",
            f"stage={STAGE}",
            "--app",
            f"{sys.executable} {PROJECT_ROOT / 'app.py'}",
            "--output",
            str(self.out_dir / "cdk.out"),
            "--no-notices",
        ]
        result = subprocess.run(
            command, cwd=self.project_dir, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"cdk {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def deploy(self) -> dict[str, str]:
        self.cdk("bootstrap", "aws://123456789012/us-east-1")
        outputs_file = self.out_dir / "outputs.json"
        self.cdk("deploy", "--require-approval", "never", "--outputs-file", str(outputs_file))
        by_stack: dict[str, dict[str, str]] = json.loads(outputs_file.read_text())
        (self.outputs,) = by_stack.values()
        return self.outputs

    def destroy(self) -> subprocess.CompletedProcess[str]:
        """`cdk destroy --force` unless an earlier destroy succeeded; returns the (last) result."""
        if self.destroyed is None or self.destroyed.returncode != 0:
            self.destroyed = self.cdk("destroy", "--force", check=False)
        return self.destroyed

    @property
    def gone(self) -> bool:
        return self.destroyed is not None and self.destroyed.returncode == 0

    def has_teardown(self, cfn: Any) -> bool:
        """Whether the stack carries the teardown custom resource (it empties buckets and stops jobs)."""
        resources = cfn.list_stack_resources(StackName=self.stack_name)["StackResourceSummaries"]
        return any(
            "teardown" in r["LogicalResourceId"].lower()
            and (r["ResourceType"].startswith("Custom::") or r["ResourceType"].endswith("CustomResource"))
            for r in resources
        )


@pytest.fixture(scope="session")
def deployment(local_aws: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The real app deployed (stage=local) against the local AWS; destroyed, and checked, at session end."""
    if not CDK.exists():
        pytest.skip("the CDK CLI is not installed (npm ci)")
    deployed = Deployment(env=cdk_env(local_aws), out_dir=tmp_path_factory.mktemp("e2e-cdk"))
    deployed.deploy()
    yield deployed
    if not deployed.gone and not deployed.has_teardown(_client(local_aws, "cloudformation")):
        manual_teardown(lambda service: _client(local_aws, service), deployed.outputs)
    result = deployed.destroy()
    assert result.returncode == 0, f"cdk destroy failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"


def manual_teardown(aws: Callable[[str], Any], outputs: dict[str, str], timeout: float = 60) -> None:
    """What a user must do before `cdk destroy` while the stack has no teardown custom resource:
    stop executions and jobs, delete endpoints, configs and models, empty the versioned buckets."""
    sfn, sm, prefix = aws("stepfunctions"), aws("sagemaker"), outputs["NamePrefix"]
    tuning_jobs = "HyperParameterTuningJobSummaries"
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=outputs["StateMachineArn"], statusFilter="RUNNING"
    ):
        for execution in page["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [
            j["HyperParameterTuningJobName"]
            for j in sm.list_hyper_parameter_tuning_jobs(NameContains=prefix)[tuning_jobs]
            if j["HyperParameterTuningJobStatus"] in ("InProgress", "Stopping")
        ] + [
            j["AutoMLJobName"]
            for j in sm.list_auto_ml_jobs(NameContains=prefix)["AutoMLJobSummaries"]
            if j["AutoMLJobStatus"] in ("InProgress", "Stopping")
        ]
        if not busy:
            break
        for name in busy:
            try:
                if name.endswith("-hpo"):
                    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
                else:
                    sm.stop_auto_ml_job(AutoMLJobName=name)
            except ClientError:
                pass  # already stopping
        time.sleep(POLL_S)
    for endpoint in sm.list_endpoints(NameContains=prefix)["Endpoints"]:
        sm.delete_endpoint(EndpointName=endpoint["EndpointName"])
    for config in sm.list_endpoint_configs(NameContains=prefix)["EndpointConfigs"]:
        sm.delete_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
    for model in sm.list_models(NameContains=prefix)["Models"]:
        sm.delete_model(ModelName=model["ModelName"])
    for key in ("DataBucketName", "ArtifactsBucketName"):
        empty_bucket(aws("s3"), outputs[key])


@pytest.fixture(scope="session")
def stack(deployment: Deployment) -> dict[str, str]:
    """The stack's Outputs (StateMachineArn, DataBucketName, ArtifactsBucketName, NamePrefix, ...)."""
    return deployment.outputs


# --- datasets --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dataset(
    stack: dict[str, str], aws: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """`dataset("bank")`: prepared (seeded, small) and uploaded once per session; returns its s3:// prefix."""
    cache: dict[str, str] = {}

    def get(name: str) -> str:
        if name not in cache:
            out = tmp_path_factory.mktemp(f"dataset-{name}")
            target = f"s3://{stack['DataBucketName']}/datasets/{name}/"
            prepared = prepare(name, out, rows=DATASET_ROWS.get(name), upload=target, s3_client=aws("s3"))
            assert prepared.uri == target
            cache[name] = target
        return cache[name]

    return get


# --- executions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Execution:
    """A finished (or given-up-on) execution as the user sees it."""

    arn: str
    name: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]

    def entered(self) -> list[str]:
        """Names of the states entered, in order."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if "stateEnteredEventDetails" in e]

    def state_output(self, state: str) -> Any:
        """The output of the last exit of `state` (parsed JSON), or None if it never exited."""
        outputs = [
            e["stateExitedEventDetails"]["output"]
            for e in self.events
            if e.get("stateExitedEventDetails", {}).get("name") == state
        ]
        return json.loads(outputs[-1]) if outputs else None

    @property
    def run_id(self) -> str | None:
        """The run id ValidateInput derived (reports live under reports/<run_id>/), None if it failed."""
        validated = self.state_output("ValidateInput")
        return validated["run"]["run_id"] if validated else None


def execution_name(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def describe(sfn: Any, arn: str) -> Execution:
    described = sfn.describe_execution(executionArn=arn)
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    output = described.get("output")
    return Execution(
        arn=arn,
        name=described["name"],
        status=described["status"],
        output=json.loads(output) if output else None,
        error=described.get("error"),
        cause=described.get("cause"),
        events=events,
    )


def wait_status(
    sfn: Any, arn: str, timeout: float = RUN_TIMEOUT_S, until: Callable[[str], bool] | None = None
) -> str:
    """Poll until the execution is no longer RUNNING (or `until(status)` holds); returns the status."""
    done = until or (lambda status: status != "RUNNING")
    deadline = time.monotonic() + timeout
    while True:
        status: str = sfn.describe_execution(executionArn=arn)["status"]
        if done(status) or time.monotonic() > deadline:
            return status
        time.sleep(POLL_S)


@pytest.fixture(scope="session")
def start(stack: dict[str, str], aws: Callable[[str], Any]) -> Callable[..., str]:
    """`start(input, name=None)`: start an execution; returns its ARN."""

    def go(payload: dict[str, Any], name: str | None = None) -> str:
        arn: str = aws("stepfunctions").start_execution(
            stateMachineArn=stack["StateMachineArn"], name=name or execution_name(), input=json.dumps(payload)
        )["executionArn"]
        return arn

    return go


@pytest.fixture(scope="session")
def run(start: Callable[..., str], aws: Callable[[str], Any]) -> Callable[..., Execution]:
    """`run(input, name=None, timeout=...)`: start an execution, wait for its end, return an Execution."""

    def go(payload: dict[str, Any], name: str | None = None, timeout: float = RUN_TIMEOUT_S) -> Execution:
        sfn = aws("stepfunctions")
        arn = start(payload, name)
        wait_status(sfn, arn, timeout)
        return describe(sfn, arn)

    return go


# --- what a run leaves behind ----------------------------------------------------------------------


LISTINGS = {
    "endpoints": ("list_endpoints", "Endpoints", "EndpointName"),
    "endpoint_configs": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName"),
    "models": ("list_models", "Models", "ModelName"),
}


def find_leftovers(sm: Any, prefix: str) -> dict[str, list[str]]:
    """Endpoints, endpoint configs and models whose names start with `prefix`."""
    found: dict[str, list[str]] = {}
    for kind, (operation, key, name_key) in LISTINGS.items():
        names: list[str] = []
        for page in sm.get_paginator(operation).paginate(NameContains=prefix):
            names.extend(item[name_key] for item in page[key] if item[name_key].startswith(prefix))
        found[kind] = sorted(names)
    return found


@pytest.fixture(scope="session")
def leftovers(stack: dict[str, str], aws: Callable[[str], Any]) -> Callable[[], dict[str, list[str]]]:
    """`leftovers()`: endpoints, endpoint configs and models named with the stack's prefix."""
    return lambda: find_leftovers(aws("sagemaker"), stack["NamePrefix"])


def wait_no_leftovers(
    leftovers: Callable[[], dict[str, list[str]]], timeout: float = ABORT_CLEANUP_TIMEOUT_S
) -> dict[str, list[str]]:
    """Poll (bounded) until nothing of the stack's is left; returns the last listing."""
    deadline = time.monotonic() + timeout
    while True:
        found = leftovers()
        if not any(found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(POLL_S)


@pytest.fixture(autouse=True)
def _nothing_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used the stack: no endpoint, endpoint config or model of ours is left."""
    checks = "stack" in request.fixturenames and not request.node.get_closest_marker("destroys_stack")
    find: Callable[[], dict[str, list[str]]] | None = request.getfixturevalue("leftovers") if checks else None
    yield
    if find is not None:
        assert find() == {"endpoints": [], "endpoint_configs": [], "models": []}


# --- reports ---------------------------------------------------------------------------------------


def read_report(s3: Any, bucket: str, run_id: str) -> dict[str, bytes]:
    """The objects under reports/<run_id>/ in `bucket`, by file name."""
    prefix = f"reports/{run_id}/"
    files: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            files[item["Key"][len(prefix) :]] = body
    return files


@pytest.fixture(scope="session")
def report(stack: dict[str, str], aws: Callable[[str], Any]) -> Callable[[str], dict[str, bytes]]:
    """`report(run_id)`: the objects under reports/<run_id>/ in the artifacts bucket, by file name."""
    return lambda run_id: read_report(aws("s3"), stack["ArtifactsBucketName"], run_id)


# --- fault injection -------------------------------------------------------------------------------


class Faults:
    """The local SageMaker's fault-injection API (`/_mlstack/sagemaker/faults`)."""

    def __init__(self, url: str) -> None:
        self.url = url + SAGEMAKER_CONTROL_PREFIX

    def _call(
        self, method: str, body: dict[str, Any] | None = None, route: str = "/faults"
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + route, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def add(self, **spec: Any) -> dict[str, Any]:
        """E.g. add(fail="endpoint", reason="..."), add(throttle="CreateEndpoint", count=2)."""
        return self._call("POST", spec)

    def clear(self) -> None:
        self._call("DELETE")
        self._call("DELETE", route="/quotas")

    def set_quota(self, name: str, value: float) -> dict[str, Any]:
        """Set the applied value of a SageMaker Service Quota (the local AWS serves ListServiceQuotas)."""
        return self._call("POST", {"name": name, "value": value}, route="/quotas")

    def active(self) -> dict[str, Any]:
        return self._call("GET")


@pytest.fixture
def faults(local_aws: dict[str, Any]) -> Iterator[Faults]:
    """Injected SageMaker faults and quota overrides, cleared before and after the test."""
    injected = Faults(local_aws["url"])
    injected.clear()
    yield injected
    injected.clear()
