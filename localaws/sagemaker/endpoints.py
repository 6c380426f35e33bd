"""Models, endpoint configs and endpoints: one model-server process per production variant."""

from __future__ import annotations

import io
import random
import shutil
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from moto.core.exceptions import ServiceException

from contracts import script_mode
from localaws.sagemaker import faults, procs, s3io
from localaws.sagemaker.common import ValidationException, arn, drop_none, utcnow
from localaws.sagemaker.models import backend
from localaws.sagemaker.names import validate_name
from localaws.sagemaker.serve import READY_LINE
from training.container import MODEL_DIR_ENV, Paths

SERVER_START_TIMEOUT_S = 180.0


class Model:
    def __init__(self, account_id: str, region: str, request: dict[str, Any]) -> None:
        self.name: str = request["ModelName"]
        self.arn = arn(account_id, region, "model", self.name)
        self.request = request
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])
        self.creation_time = utcnow()

    def container(self) -> dict[str, Any]:
        containers = self.request.get("Containers") or []
        primary = self.request.get("PrimaryContainer")
        if primary:
            return dict(primary)
        if len(containers) == 1:
            return dict(containers[0])
        raise ValueError(
            f"Model {self.name} has {len(containers)} containers; "
            "the local SageMaker serves single-container models."
        )

    def describe(self) -> dict[str, Any]:
        r = self.request
        return drop_none(
            {
                "ModelName": self.name,
                "PrimaryContainer": r.get("PrimaryContainer"),
                "Containers": r.get("Containers"),
                "InferenceExecutionConfig": r.get("InferenceExecutionConfig"),
                "ExecutionRoleArn": r.get("ExecutionRoleArn"),
                "VpcConfig": r.get("VpcConfig"),
                "CreationTime": self.creation_time,
                "ModelArn": self.arn,
                "EnableNetworkIsolation": bool(r.get("EnableNetworkIsolation", False)),
            }
        )

    def summary(self) -> dict[str, Any]:
        return {"ModelName": self.name, "ModelArn": self.arn, "CreationTime": self.creation_time}


class EndpointConfig:
    def __init__(self, account_id: str, region: str, request: dict[str, Any]) -> None:
        self.name: str = request["EndpointConfigName"]
        self.arn = arn(account_id, region, "endpoint-config", self.name)
        self.request = request
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])
        self.creation_time = utcnow()

    def describe(self) -> dict[str, Any]:
        r = self.request
        return drop_none(
            {
                "EndpointConfigName": self.name,
                "EndpointConfigArn": self.arn,
                "ProductionVariants": r.get("ProductionVariants"),
                "DataCaptureConfig": r.get("DataCaptureConfig"),
                "KmsKeyId": r.get("KmsKeyId"),
                "CreationTime": self.creation_time,
                "AsyncInferenceConfig": r.get("AsyncInferenceConfig"),
                "ExecutionRoleArn": r.get("ExecutionRoleArn"),
                "EnableNetworkIsolation": r.get("EnableNetworkIsolation"),
            }
        )

    def summary(self) -> dict[str, Any]:
        return {
            "EndpointConfigName": self.name,
            "EndpointConfigArn": self.arn,
            "CreationTime": self.creation_time,
        }


class VariantServer:
    """A running model server for one production variant."""

    def __init__(self, variant: dict[str, Any], image: str, proc: procs.Worker, port: int, workdir: Path):
        self.variant = variant
        self.name: str = variant["VariantName"]
        self.weight = float(variant.get("InitialVariantWeight", 1.0))
        self.image = image
        self.proc = proc
        self.port = port
        self.workdir = workdir

    def stop(self) -> None:
        procs.terminate(self.proc, grace_s=3.0)
        shutil.rmtree(self.workdir, ignore_errors=True)


class Endpoint:
    def __init__(self, account_id: str, region: str, request: dict[str, Any], config: EndpointConfig) -> None:
        self.account_id = account_id
        self.region = region
        self.name: str = request["EndpointName"]
        self.arn = arn(account_id, region, "endpoint", self.name)
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])
        self.config = config
        self.status = "Creating"
        self.failure_reason: str | None = None
        self.creation_time = self.last_modified = utcnow()
        self.servers: dict[str, VariantServer] = {}
        self.lock = threading.RLock()
        self.rng = random.Random(self.name)
        self.deleted = False

    def describe(self) -> dict[str, Any]:
        with self.lock:
            variants = []
            for v in self.config.request.get("ProductionVariants") or []:
                server = self.servers.get(v["VariantName"])
                count = int(v.get("InitialInstanceCount", 1))
                weight = float(v.get("InitialVariantWeight", 1.0))
                summary: dict[str, Any] = {"VariantName": v["VariantName"]}
                if server is not None:
                    summary["DeployedImages"] = [
                        {
                            "SpecifiedImage": server.image,
                            "ResolvedImage": server.image,
                            "ResolutionTime": self.last_modified,
                        }
                    ]
                    summary.update(
                        CurrentWeight=weight,
                        DesiredWeight=weight,
                        CurrentInstanceCount=count,
                        DesiredInstanceCount=count,
                    )
                else:
                    summary.update(DesiredWeight=weight, DesiredInstanceCount=count)
                variants.append(summary)
            return drop_none(
                {
                    "EndpointName": self.name,
                    "EndpointArn": self.arn,
                    "EndpointConfigName": self.config.name,
                    "ProductionVariants": variants,
                    "EndpointStatus": self.status,
                    "FailureReason": self.failure_reason,
                    "CreationTime": self.creation_time,
                    "LastModifiedTime": self.last_modified,
                }
            )

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "EndpointName": self.name,
                "EndpointArn": self.arn,
                "CreationTime": self.creation_time,
                "LastModifiedTime": self.last_modified,
                "EndpointStatus": self.status,
            }

    def set_status(self, status: str, reason: str | None = None) -> None:
        with self.lock:
            self.status = status
            self.failure_reason = reason
            self.last_modified = utcnow()


# --- models and configs ----------------------------------------------------------------------
def create_model(account_id: str, region: str, request: dict[str, Any]) -> Model:
    validate_name("modelName", request.get("ModelName"))
    if not (request.get("PrimaryContainer") or request.get("Containers")):
        raise ValidationException("Either PrimaryContainer or Containers must be specified.")
    return backend(account_id, region).models.add(Model(account_id, region, request))


def get_model(account_id: str, region: str, name: str) -> Model:
    return backend(account_id, region).models.lookup(name)


def delete_model(account_id: str, region: str, name: str) -> None:
    get_model(account_id, region, name)
    backend(account_id, region).models.remove(name)


def create_endpoint_config(account_id: str, region: str, request: dict[str, Any]) -> EndpointConfig:
    validate_name("endpointConfigName", request.get("EndpointConfigName"))
    variants = request.get("ProductionVariants") or []
    if not variants:
        raise ValidationException("ProductionVariants must contain at least one production variant.")
    seen: set[str] = set()
    for v in variants:
        if v.get("VariantName") in seen:
            raise ValidationException(
                f"Variant name {v.get('VariantName')} is repeated in the ProductionVariants."
            )
        seen.add(v.get("VariantName", ""))
        get_model(account_id, region, v.get("ModelName", ""))
    return backend(account_id, region).endpoint_configs.add(EndpointConfig(account_id, region, request))


def get_endpoint_config(account_id: str, region: str, name: str) -> EndpointConfig:
    return backend(account_id, region).endpoint_configs.lookup(name)


def delete_endpoint_config(account_id: str, region: str, name: str) -> None:
    get_endpoint_config(account_id, region, name)
    backend(account_id, region).endpoint_configs.remove(name)


# --- endpoints -------------------------------------------------------------------------------
def create_endpoint(account_id: str, region: str, request: dict[str, Any]) -> Endpoint:
    name = validate_name("endpointName", request.get("EndpointName"))
    config = get_endpoint_config(account_id, region, request.get("EndpointConfigName", ""))
    endpoint = backend(account_id, region).endpoints.add(Endpoint(account_id, region, request, config))
    threading.Thread(
        target=_deploy, args=(endpoint, config, False), name=f"endpoint-{name}", daemon=True
    ).start()
    return endpoint


def get_endpoint(account_id: str, region: str, name: str) -> Endpoint:
    return backend(account_id, region).endpoints.lookup(name)


def update_endpoint(account_id: str, region: str, name: str, config_name: str) -> Endpoint:
    endpoint = get_endpoint(account_id, region, name)
    config = get_endpoint_config(account_id, region, config_name)
    with endpoint.lock:
        if endpoint.status != "InService":
            raise ValidationException(f'Cannot update in-progress endpoint "{endpoint.arn}".')
        endpoint.set_status("Updating")
    threading.Thread(
        target=_deploy, args=(endpoint, config, True), name=f"endpoint-{name}", daemon=True
    ).start()
    return endpoint


def delete_endpoint(account_id: str, region: str, name: str) -> None:
    endpoint = get_endpoint(account_id, region, name)
    with endpoint.lock:
        if endpoint.status in ("Creating", "Updating"):
            raise ValidationException(f'Cannot delete in-progress endpoint "{endpoint.arn}".')
        endpoint.deleted = True
        endpoint.set_status("Deleting")
        servers = list(endpoint.servers.values())
        endpoint.servers = {}
    for server in servers:
        server.stop()
    backend(account_id, region).endpoints.remove(name)


def _deploy(endpoint: Endpoint, config: EndpointConfig, updating: bool) -> None:
    started: dict[str, VariantServer] = {}
    try:
        injected = faults.take_failure("endpoint")
        if injected:
            raise _DeployError(injected)
        _start_variants(endpoint, config.request.get("ProductionVariants") or [], started)
        delay = faults.endpoint_delay()
        if delay:
            time.sleep(delay)
    except Exception as err:
        for server in started.values():
            server.stop()
        reason = str(err) if isinstance(err, _DeployError) else f"{type(err).__name__}: {err}"
        # A failed update rolls back: the old variants keep serving.
        endpoint.set_status("InService" if updating else "Failed", reason[:1024])
        return
    with endpoint.lock:
        old = list(endpoint.servers.values())
        if endpoint.deleted:
            old, started = list(started.values()), {}
        endpoint.servers = started
        endpoint.config = config
    for server in old:
        server.stop()
    endpoint.set_status("InService")


class _DeployError(Exception):
    """A variant that cannot be served; its message is the endpoint's FailureReason."""


def _start_variants(
    endpoint: Endpoint, variants: list[dict[str, Any]], started: dict[str, VariantServer]
) -> None:
    """Start every variant's server at once (an endpoint is as slow as its slowest model to load, not
    their sum); fill `started` with those that came up, then raise the first failure, if any."""
    with ThreadPoolExecutor(max_workers=max(1, len(variants)), thread_name_prefix=endpoint.name) as pool:
        futures = [(v["VariantName"], pool.submit(_start_variant, endpoint, v)) for v in variants]
    failures = []
    for name, future in futures:
        try:
            started[name] = future.result()
        except Exception as err:
            failures.append(err)
    if failures:
        raise failures[0]


def _start_variant(endpoint: Endpoint, variant: dict[str, Any]) -> VariantServer:
    model = get_model(endpoint.account_id, endpoint.region, variant.get("ModelName", ""))
    try:
        container = model.container()
    except ValueError as err:
        raise _DeployError(str(err)) from err
    image = container.get("Image", "")
    workdir = Path(tempfile.mkdtemp(prefix=f"mlstack-endpoint-{endpoint.name[:30]}-"))
    # A hosting container finds its model where a training container left it: <base>/model.
    model_dir = Paths(workdir).model_dir
    model_dir.mkdir()
    data_url = container.get("ModelDataUrl")
    try:
        if data_url:
            role = model.request.get("ExecutionRoleArn")
            _extract(s3io.read(endpoint.account_id, endpoint.region, data_url, role), model_dir)
    except (s3io.S3Error, tarfile.TarError) as err:
        shutil.rmtree(workdir, ignore_errors=True)
        raise _DeployError(
            f'Failed to extract model data archive from URL "{data_url}" for production variant '
            f"{variant['VariantName']}: {err}"
        ) from err
    environment = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
    try:
        _fetch_source(endpoint, model, environment, Paths(workdir))
    except _DeployError:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    env = procs.environment(
        model.request.get("ExecutionRoleArn"),
        endpoint.region,
        {"OMP_NUM_THREADS": "1", MODEL_DIR_ENV: str(model_dir), **environment},
    )
    proc = procs.start(
        "localaws.sagemaker.serve",
        ["--model-dir", str(model_dir), "--image", image],
        f"endpoint:{endpoint.name}/{variant['VariantName']}",
        str(workdir),
        env,
    )
    port, log = _await_ready(proc)
    if port is None:
        procs.terminate(proc)
        shutil.rmtree(workdir, ignore_errors=True)
        detail = " | ".join(log[-5:])
        raise _DeployError(
            f"The primary container for production variant {variant['VariantName']} did not pass the ping "
            f"health check. Please check CloudWatch logs for this endpoint. ({detail})"
        )
    # Keep draining the server's output so a chatty model never blocks on a full pipe.
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    return VariantServer(variant, image, proc, port, workdir)


def _fetch_source(endpoint: Endpoint, model: Model, environment: dict[str, str], paths: Paths) -> None:
    """A script's source named by an s3:// SAGEMAKER_SUBMIT_DIRECTORY, fetched as the serving container
    fetches it (into /opt/ml/code); a network-isolated container cannot, and fails to start as on AWS."""
    source = environment.get(script_mode.SERVING_SUBMIT_DIRECTORY, "")
    if not source.startswith("s3://"):
        return
    if model.request.get("EnableNetworkIsolation"):
        raise _DeployError(
            f"Model {model.name} runs with network isolation, so its container cannot download "
            f"{script_mode.SERVING_SUBMIT_DIRECTORY} {source}: repack the code into the model archive under "
            f"code/ and set it to {script_mode.SERVING_CODE_DIR}, as the SageMaker SDK does."
        )
    try:
        _extract(
            s3io.read(endpoint.account_id, endpoint.region, source, model.request.get("ExecutionRoleArn")),
            paths.code_dir,
        )
    except (s3io.S3Error, tarfile.TarError) as err:
        raise _DeployError(
            f"Failed to download {script_mode.SERVING_SUBMIT_DIRECTORY} {source}: {err}"
        ) from err
    environment[script_mode.SERVING_SUBMIT_DIRECTORY] = "/opt/ml/code"


def _extract(data: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        tar.extractall(dest, filter="data")


def _await_ready(proc: procs.Worker) -> tuple[int | None, list[str]]:
    log: list[str] = []
    result: list[int] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line.rstrip("\n"))
            if line.startswith(READY_LINE):
                result.append(int(line.split()[1]))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(SERVER_START_TIMEOUT_S)
    if not result:
        return None, log
    port = result[0]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=10) as resp:
            if resp.status != 200:
                return None, log
    except OSError as err:
        log.append(str(err))
        return None, log
    return port, log


def _drain(proc: procs.Worker) -> None:
    if proc.stdout is not None:
        for _ in proc.stdout:
            pass


# --- invocation ------------------------------------------------------------------------------
class ValidationError(ServiceException):
    code = "ValidationError"


class ModelError(ServiceException):
    code = "ModelError"

    def __init__(
        self, message: str, original_status: int, original_message: str, log_stream_arn: str
    ) -> None:
        super().__init__(message)
        self.OriginalStatusCode = original_status
        self.OriginalMessage = original_message
        self.LogStreamArn = log_stream_arn


def invoke(
    account_id: str,
    region: str,
    name: str,
    body: bytes,
    content_type: str,
    accept: str,
    target_variant: str | None,
) -> tuple[bytes, str, str]:
    """Forward to a variant's server: (body, content type, invoked variant) or a runtime error."""
    endpoint = backend(account_id, region).endpoints.get(name)
    if endpoint is None or endpoint.status not in ("InService", "Updating"):
        raise ValidationError(f"Endpoint {name} of account {account_id} not found.")
    with endpoint.lock:
        servers = dict(endpoint.servers)
        if target_variant:
            if target_variant not in servers:
                raise ValidationError(
                    f"Variant {target_variant} not found for endpoint {name} of account {account_id}."
                )
            server = servers[target_variant]
        else:
            choices = list(servers.values())
            server = endpoint.rng.choices(choices, weights=[max(s.weight, 0.0) for s in choices])[0]
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/invocations",
        data=body,
        method="POST",
        headers={"Content-Type": content_type or "text/csv", "Accept": accept or "*/*"},
    )
    logs = f"arn:aws:logs:{region}:{account_id}:log-group:/aws/sagemaker/Endpoints/{name}"
    injected = faults.take_failure("invocation")
    if injected is not None:
        raise ModelError(
            f'Received server error (500) from {server.name} with message "{injected}".', 500, injected, logs
        )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.read(), resp.headers.get("Content-Type", "text/csv"), server.name
    except urllib.error.HTTPError as err:
        text = err.read().decode("utf-8", "replace")
        kind = "client" if 400 <= err.code < 500 else "server"
        raise ModelError(
            f'Received {kind} error ({err.code}) from primary with message "{text}". See '
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:"
            f"group=/aws/sagemaker/Endpoints/{name} in account {account_id} for more information.",
            err.code,
            text,
            logs,
        ) from err
    except OSError as err:
        raise ModelError(
            f"Received server error (0) from primary: the model server is not reachable ({err}).",
            500,
            str(err),
            logs,
        ) from err
