"""The pipeline's Lambda handlers: Docker-free assets, a Powertools layer, KMS-encrypted logs."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import aws_lambda_powertools
import typing_extensions
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contracts.run_options import stage_defaults
from contracts.script_mode import SOURCE_PREFIX
from stacks.components.arns import sagemaker_arn
from stacks.components.log_groups import encrypted_log_group
from stacks.components.nag import BUCKET_GRANT_ACTIONS, KEY_GRANT_ACTIONS, acknowledge, resource_finding
from stacks.config import StageConfig

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / "build" / "assets"
# Shipped inside every handler asset at the same paths as in the repository: the handlers package
# itself (not its other handlers), and what handlers, the stack and the CLI share (standard library only).
SHARED_SOURCES = (
    "handlers/__init__.py",
    "handlers/common",
    "contracts",
    "training/__init__.py",
    "training/tuning_ranges.py",
)
RUNTIME = lambda_.Runtime.PYTHON_3_14
# Every run's Autopilot output in the artifacts bucket (ValidateInput plans jobs/<run_id>/autopilot/).
AUTOPILOT_OUTPUTS = "jobs/*/autopilot/*"
# Script mode: the CLI's source archives, and each run's tuning output where a script's model is repacked.
SCRIPT_SOURCES = f"{SOURCE_PREFIX}*"
TUNING_OUTPUTS = "jobs/*/tuning/*"
_HANDLER_SAGEMAKER_KINDS = (
    "training-job",
    "endpoint",
    "endpoint-config",
    "model",
    "hyper-parameter-tuning-job",
    "automl-job",
)


def staged_asset(sources: dict[str, Path]) -> lambda_.Code:
    """An asset holding `sources` (asset path → source path), staged without Docker."""
    return lambda_.Code.from_asset(str(stage_files(sources)))


def stage_files(sources: dict[str, Path], build_dir: Path = BUILD_DIR) -> Path:
    """Copy `sources` once into a content-addressed folder under `build_dir` and return it.

    Plain copies instead of CDK bundling keep synth silent and repeatable; CDK then fingerprints
    the folder like any other asset.
    """
    files = sorted(_files(sources))
    digest = hashlib.sha256()
    for target, source in files:
        digest.update(target.encode() + b"\0" + source.read_bytes() + b"\0")
    staged = build_dir / digest.hexdigest()[:20]
    if not staged.exists():
        build_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=build_dir))
        for target, source in files:
            (scratch / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, scratch / target)
        try:
            scratch.rename(staged)
        except OSError:  # staged concurrently by another synth: same content, keep theirs
            shutil.rmtree(scratch)
    return staged


def _files(sources: dict[str, Path]) -> list[tuple[str, Path]]:
    found = []
    for target, source in sources.items():
        if not source.exists():
            raise FileNotFoundError(f"Lambda asset source {source} is missing")
        if source.is_file():
            found.append((target, source))
            continue
        for path in source.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.append((f"{target}/{path.relative_to(source).as_posix()}", path))
    return found


def handler_sources(name: str) -> dict[str, Path]:
    """What one handler's asset holds: handlers/<name> plus the shared modules, at the repository's paths."""
    return {f"handlers/{name}": ROOT / "handlers" / name, **{path: ROOT / path for path in SHARED_SOURCES}}


def powertools_sources() -> dict[str, Path]:
    """Powertools as installed in the project's environment (the pinned version the tests run with)."""
    return {
        "python/aws_lambda_powertools": Path(aws_lambda_powertools.__file__).parent,
        "python/typing_extensions.py": Path(typing_extensions.__file__),
    }


class PipelineFunctions(Construct):
    """One Lambda per pipeline step, each with its own least-privilege role and encrypted log group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        sagemaker_role: iam.IRole,
        xgboost_image: str,
        stack_name: str,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self._key = key
        self._layer = lambda_.LayerVersion(
            self,
            "Powertools",
            code=staged_asset(powertools_sources()),
            compatible_runtimes=[RUNTIME],
            description="Powertools for AWS Lambda (Python), the version pinned in requirements.txt",
        )
        self._environment = {
            "DATA_BUCKET": data_bucket.bucket_name,
            "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
            "NAME_PREFIX": config.name_prefix,
            "STACK_NAME": stack_name,
            "KEY_ARN": key.key_arn,
            "SAGEMAKER_ROLE_ARN": sagemaker_role.role_arn,
            "XGBOOST_IMAGE": xgboost_image,
            "STAGE_DEFAULTS": json.dumps(stage_defaults(config), sort_keys=True),
        }
        self.validate_input = self._function("validate_input", Duration.seconds(60))
        self.check_quotas = self._function("check_quotas", Duration.seconds(60))
        self.plan_deployment = self._function("plan_deployment", Duration.seconds(30))
        self.evaluate = self._function("evaluate", Duration.minutes(15), memory_mb=1024)
        self.cleanup = self._function("cleanup", Duration.minutes(15))
        self.all = [self.validate_input, self.check_quotas, self.plan_deployment, self.evaluate, self.cleanup]
        self._grant(data_bucket, artifacts_bucket)

    def _grant(self, data_bucket: s3.IBucket, artifacts_bucket: s3.IBucket) -> None:
        """Each handler gets what its code calls, on this stack's resources only."""
        prefixed = f"{self._config.name_prefix}-*"
        data_bucket.grant_read(self.validate_input, "datasets/*")
        artifacts_bucket.grant_read(self.validate_input, SCRIPT_SOURCES)  # a script run's source is there
        # A script's model is served with its code: PlanDeployment repacks both beside the model.
        artifacts_bucket.grant_read(self.plan_deployment, SCRIPT_SOURCES)
        artifacts_bucket.grant_read_write(self.plan_deployment, TUNING_OUTPUTS)
        data_bucket.grant_read(self.evaluate, "datasets/*")  # the test set, and the data's exploration
        artifacts_bucket.grant_put(self.evaluate, "reports/*")
        # What Autopilot's candidates point to (their definitions and reports), under the run's job output.
        artifacts_bucket.grant_read(self.evaluate, AUTOPILOT_OUTPUTS)
        self._key.grant_encrypt_decrypt(self.evaluate)
        self._allow(
            self.check_quotas,
            "ReadServiceQuotas",
            ["servicequotas:ListServiceQuotas", "servicequotas:ListAWSDefaultServiceQuotas"],
            ["*"],
        )
        self._allow(
            self.evaluate,
            "InvokeRunEndpoint",
            ["sagemaker:InvokeEndpoint"],
            [sagemaker_arn("endpoint", prefixed)],
        )
        # The leaderboard lists the trials and reads from the job itself what it searched and why it ended.
        self._allow(
            self.evaluate,
            "ReadLeaderboards",
            [
                "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                "sagemaker:DescribeHyperParameterTuningJob",
            ],
            [sagemaker_arn("hyper-parameter-tuning-job", prefixed)],
        )
        # A script run's plan says which trials printed nothing its objective's regex matches.
        self._allow(
            self.plan_deployment,
            "ListScriptTrials",
            ["sagemaker:ListTrainingJobsForHyperParameterTuningJob"],
            [sagemaker_arn("hyper-parameter-tuning-job", prefixed)],
        )
        # A warm start is checked against its parents, which are this stack's earlier tuning jobs.
        self._allow(
            self.validate_input,
            "ReadWarmStartParents",
            ["sagemaker:DescribeHyperParameterTuningJob"],
            [sagemaker_arn("hyper-parameter-tuning-job", prefixed)],
        )
        # The run's bill: each trial's (and Autopilot's, named after its job) billable time, the AutoML job's
        # duration when it lists none, and the endpoint's time InService.
        self._allow(
            self.evaluate,
            "ReadRunUsage",
            ["sagemaker:DescribeTrainingJob", "sagemaker:DescribeAutoMLJobV2", "sagemaker:DescribeEndpoint"],
            [sagemaker_arn(kind, prefixed) for kind in ("training-job", "automl-job", "endpoint")],
        )
        # IAM knows no resource for ListCandidatesForAutoMLJob: a job ARN here would never match.
        self._allow(self.evaluate, "ReadAutopilotCandidates", ["sagemaker:ListCandidatesForAutoMLJob"], ["*"])
        self._allow(
            self.cleanup,
            "StopRunJobs",
            [
                "sagemaker:DescribeHyperParameterTuningJob",
                "sagemaker:StopHyperParameterTuningJob",
                "sagemaker:DescribeAutoMLJobV2",
                "sagemaker:StopAutoMLJob",
            ],
            [sagemaker_arn("hyper-parameter-tuning-job", prefixed), sagemaker_arn("automl-job", prefixed)],
        )
        self._allow(
            self.cleanup,
            "DeleteRunEndpoint",
            [
                "sagemaker:DescribeEndpoint",
                "sagemaker:DeleteEndpoint",
                "sagemaker:DeleteEndpointConfig",
                "sagemaker:DeleteModel",
            ],
            [sagemaker_arn(kind, prefixed) for kind in ("endpoint", "endpoint-config", "model")],
        )
        self._acknowledge_wildcards(data_bucket, artifacts_bucket)

    def _acknowledge_wildcards(self, data_bucket: s3.IBucket, artifacts_bucket: s3.IBucket) -> None:
        prefixed = f"{self._config.name_prefix}-*"
        findings = [
            "Resource::*",
            *BUCKET_GRANT_ACTIONS,
            *KEY_GRANT_ACTIONS,
            *(
                resource_finding(self, arn)
                for arn in [
                    data_bucket.arn_for_objects("datasets/*"),
                    artifacts_bucket.arn_for_objects("reports/*"),
                    artifacts_bucket.arn_for_objects(AUTOPILOT_OUTPUTS),
                    artifacts_bucket.arn_for_objects(SCRIPT_SOURCES),
                    artifacts_bucket.arn_for_objects(TUNING_OUTPUTS),
                    *(sagemaker_arn(kind, prefixed) for kind in _HANDLER_SAGEMAKER_KINDS),
                ]
            ),
        ]
        for function in self.all:
            assert function.role is not None
            acknowledge(
                function.role,
                "AwsSolutions-IAM5",
                "X-Ray's PutTraceSegments/PutTelemetryRecords, Service Quotas' List* and SageMaker's "
                "ListCandidatesForAutoMLJob support no resource ARNs; S3 and KMS rights are grants on the "
                f"stack's own buckets (datasets/*, reports/*, {AUTOPILOT_OUTPUTS}, {SCRIPT_SOURCES}, "
                f"{TUNING_OUTPUTS}) and key; SageMaker rights "
                "are bounded to "
                f"resources named '{prefixed}'.",
                findings=findings,
            )

    def _allow(self, function: lambda_.Function, sid: str, actions: list[str], resources: list[str]) -> None:
        function.add_to_role_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))

    def _function(self, name: str, timeout: Duration, memory_mb: int = 256) -> lambda_.Function:
        function = self.handler_function(
            self,
            name,
            timeout=timeout,
            memory_mb=memory_mb,
            description=f"ML Stack pipeline step: {name.replace('_', ' ')}",
        )
        acknowledge(
            function,
            "Serverless-LambdaDLQ",
            "Invoked synchronously by the state machine, whose Retry/Catch handle failures; "
            "a DLQ only applies to asynchronous invocations.",
        )
        return function

    def handler_function(
        self,
        scope: Construct,
        name: str,
        *,
        timeout: Duration,
        description: str,
        memory_mb: int = 256,
        environment: dict[str, str] | None = None,
    ) -> lambda_.Function:
        """A handler of handlers/<name> built like the pipeline's: own role, encrypted logs, the layer.

        Other components (the lifecycle functions) create theirs in their own `scope` with this.
        """
        construct_id = "".join(part.title() for part in name.split("_"))
        log_group = encrypted_log_group(scope, f"{construct_id}Logs", key=self._key, config=self._config)
        # Our own role instead of AWSLambdaBasicExecutionRole: logs only to this function's group.
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"ML Stack {name} handler",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        # Lambda decrypts the environment with the function's own role.
        self._key.grant_decrypt(role)
        return lambda_.Function(
            scope,
            construct_id,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"handlers.{name}.handler.lambda_handler",
            code=staged_asset(handler_sources(name)),
            layers=[self._layer],
            timeout=timeout,
            memory_size=memory_mb,
            environment={**self._environment, "POWERTOOLS_SERVICE_NAME": name, **(environment or {})},
            # Bucket names, ARNs and defaults are not secret, but at rest they stay under our key too.
            environment_encryption=self._key,
            log_group=log_group,
            role=role,
            tracing=lambda_.Tracing.ACTIVE,
            description=description,
        )
