"""The SageMaker training-container contract: the /opt/ml tree and the SM_* variables derived from it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.script_mode import (
    INFO_LOG_LEVEL,
    LOG_LEVEL,
    PROGRAM,
    REGION,
    SAGEMAKER_HYPERPARAMETERS,
    SUBMIT_DIRECTORY,
    decode,
    is_sagemaker_hyperparameter,
)
from training.errors import HyperparameterError

DEFAULT_BASE_DIR = Path("/opt/ml")
# Outside a SageMaker container the tree lives elsewhere: a fake one in tests, the local SageMaker's job dir.
BASE_DIR_ENV = "SAGEMAKER_BASE_DIR"
MODEL_DIR_ENV = "SM_MODEL_DIR"
CHANNEL_ENV_PREFIX = "SM_CHANNEL_"
HP_ENV_PREFIX = "SM_HP_"
JOB_NAME_ENV = "TRAINING_JOB_NAME"
# SageMaker names the hosts of a job algo-1, algo-2, ...; a local job has one.
FIRST_HOST = "algo-1"
NETWORK_INTERFACE = "eth0"


def base_dir(env: Mapping[str, str]) -> Path:
    """The container's /opt/ml, or the tree `SAGEMAKER_BASE_DIR` points at."""
    return Path(env.get(BASE_DIR_ENV, DEFAULT_BASE_DIR))


def channel_env(channel: str) -> str:
    """The variable naming a channel's directory: SM_CHANNEL_<NAME>, the name upper-cased."""
    return f"{CHANNEL_ENV_PREFIX}{channel.upper()}"


def hyperparameters_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """SM_HP_<NAME> variables as hyperparameters, names lower-cased (the toolkit writes one per
    hyperparameter; the local SageMaker passes them by hyperparameters.json and SM_HPS only)."""
    return {
        key[len(HP_ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(HP_ENV_PREFIX)
    }


@dataclass(frozen=True)
class Paths:
    """Where SageMaker puts everything in one /opt/ml tree (<base> below):

    <base>/input/config/hyperparameters.json  the job's HyperParameters, every value a string
    <base>/input/config/inputdataconfig.json  per channel: ContentType, TrainingInputMode,
                                              S3DistributionType, RecordWrapperType
    <base>/input/config/resourceconfig.json   current_host, hosts, network_interface_name
    <base>/input/data/<channel>/              the channel's files (File input mode)
    <base>/model/                             what the algorithm saves; uploaded as model.tar.gz
    <base>/output/data/                       other artifacts the job keeps
    <base>/output/failure                     why the algorithm failed: FailureReason (first 1024 chars)
    <base>/code/                              script mode: where the toolkit unpacks the source directory
    """

    base: Path

    @property
    def input_dir(self) -> Path:
        return self.base / "input"

    @property
    def input_config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def input_data_dir(self) -> Path:
        return self.input_dir / "data"

    @property
    def hyperparameters_file(self) -> Path:
        return self.input_config_dir / "hyperparameters.json"

    @property
    def input_data_config_file(self) -> Path:
        return self.input_config_dir / "inputdataconfig.json"

    @property
    def resource_config_file(self) -> Path:
        return self.input_config_dir / "resourceconfig.json"

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def output_intermediate_dir(self) -> Path:
        return self.output_dir / "intermediate"

    @property
    def code_dir(self) -> Path:
        return self.base / "code"

    def channel_dir(self, channel: str) -> Path:
        return self.input_data_dir / channel

    def local(self, path: str) -> Path:
        """A path as the container names it (/opt/ml/...) in this tree; any other path as it is."""
        container = Path(path)
        if container == DEFAULT_BASE_DIR or DEFAULT_BASE_DIR in container.parents:
            return self.base / container.relative_to(DEFAULT_BASE_DIR)
        return container

    def create(self) -> None:
        """The directories SageMaker makes before it starts the algorithm (channels come with their data)."""
        for directory in (self.input_config_dir, self.model_dir, self.output_data_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def read_hyperparameters(self) -> dict[str, str]:
        """hyperparameters.json (none if absent); a non-string value is kept as its JSON text."""
        path = self.hyperparameters_file
        if not path.is_file():
            return {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise HyperparameterError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise HyperparameterError(f"{path} must hold a JSON object of hyperparameters")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in loaded.items()}

    def read_failure(self) -> str:
        """What the algorithm left in output/failure, stripped ('' when it left nothing)."""
        failure = self.failure_file
        return failure.read_text(errors="replace").strip() if failure.exists() else ""

    def write_failure(self, message: str) -> None:
        """Leave the reason where SageMaker looks for it."""
        self.failure_file.parent.mkdir(parents=True, exist_ok=True)
        self.failure_file.write_text(message + "\n", encoding="utf-8")


@dataclass(frozen=True)
class ResourceConfig:
    """resourceconfig.json: the job's hosts, as SageMaker names them."""

    current_host: str = FIRST_HOST
    hosts: tuple[str, ...] = (FIRST_HOST,)
    network_interface_name: str = NETWORK_INTERFACE
    current_instance_type: str = ""  # written only when known, as SageMaker writes the job's type

    def to_json(self) -> dict[str, Any]:
        written: dict[str, Any] = {
            "current_host": self.current_host,
            "hosts": list(self.hosts),
            "network_interface_name": self.network_interface_name,
        }
        if self.current_instance_type:
            written["current_instance_type"] = self.current_instance_type
        return written

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceConfig:
        return cls(
            current_host=str(data["current_host"]),
            hosts=tuple(str(h) for h in data["hosts"]),
            network_interface_name=str(data.get("network_interface_name", NETWORK_INTERFACE)),
            current_instance_type=str(data.get("current_instance_type", "")),
        )


@dataclass(frozen=True)
class Container:
    """One training job's container as the algorithm sees it: the tree, what SageMaker wrote into its
    config files, the host's processors; `environment()` derives the SM_* variables from these."""

    paths: Paths
    hyperparameters: dict[str, str]
    # channel -> ContentType, TrainingInputMode, S3DistributionType, RecordWrapperType
    input_data_config: dict[str, dict[str, str]]
    resource_config: ResourceConfig = field(default_factory=ResourceConfig)
    job_name: str = ""
    num_cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    num_gpus: int = 0

    @classmethod
    def read(cls, paths: Paths, *, job_name: str = "", num_cpus: int | None = None) -> Container:
        """The view of a tree SageMaker (or the local SageMaker) has written."""
        data_config = json.loads(paths.input_data_config_file.read_text(encoding="utf-8"))
        resources = json.loads(paths.resource_config_file.read_text(encoding="utf-8"))
        return cls(
            paths=paths,
            hyperparameters=paths.read_hyperparameters(),
            input_data_config=data_config,
            resource_config=ResourceConfig.from_json(resources),
            job_name=job_name,
            num_cpus=num_cpus or os.cpu_count() or 1,
        )

    def write(self) -> None:
        """Make the tree and write its three config files, as SageMaker does before starting the algorithm."""
        self.paths.create()
        for path, content in (
            (self.paths.hyperparameters_file, self.hyperparameters),
            (self.paths.input_data_config_file, self.input_data_config),
            (self.paths.resource_config_file, self.resource_config.to_json()),
        ):
            path.write_text(json.dumps(content), encoding="utf-8")

    @property
    def channels(self) -> list[str]:
        return sorted(self.input_data_config)

    def channel_dirs(self) -> dict[str, Path]:
        return {channel: self.paths.channel_dir(channel) for channel in self.input_data_config}

    def environment(self) -> dict[str, str]:
        """The variables a script-mode container starts with (sagemaker-training-toolkit's to_env_vars)."""
        paths = self.paths
        return {
            BASE_DIR_ENV: str(paths.base),
            MODEL_DIR_ENV: str(paths.model_dir),
            "SM_INPUT_DIR": str(paths.input_dir),
            "SM_INPUT_CONFIG_DIR": str(paths.input_config_dir),
            "SM_OUTPUT_DIR": str(paths.output_dir),
            "SM_OUTPUT_DATA_DIR": str(paths.output_data_dir),
            "SM_CHANNELS": json.dumps(self.channels),
            **{channel_env(name): str(path) for name, path in self.channel_dirs().items()},
            "SM_HPS": json.dumps(self.hyperparameters),
            "SM_CURRENT_HOST": self.resource_config.current_host,
            "SM_HOSTS": json.dumps(list(self.resource_config.hosts)),
            "SM_NUM_CPUS": str(self.num_cpus),
            "SM_NUM_GPUS": str(self.num_gpus),
            JOB_NAME_ENV: self.job_name,
        }


# --- script mode: what a framework container's toolkit derives for the user's script ---------------


def env_value(value: Any) -> str:
    """A value as the toolkit writes it into an SM_* variable: text as it is, anything else compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def cmd_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """The script's arguments (the toolkit's to_cmd_args): `--name value` by sorted name, `-x` for a
    one-letter name, a mapping as `k=v,k=v`; values as str() renders them (True, 0.1, [1, 2])."""
    args: list[str] = []
    for name in sorted(hyperparameters):
        value = hyperparameters[name]
        args.append(f"--{name}" if len(name) > 1 else f"-{name}")
        if isinstance(value, Mapping):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            args.append("" if value is None else str(value))
    return args


@dataclass(frozen=True)
class Script:
    """What a framework container runs: the script, its arguments and its environment.

    The job's hyperparameters are JSON-decoded and split as the toolkit splits them: SageMaker's own
    (`sagemaker_*`, `_tuning_objective_metric`) steer the container; the rest are the script's.
    """

    container: Container
    program: str
    submit_directory: str  # where the source is: a path in the container (or an s3:// URI)
    hyperparameters: dict[str, Any]  # the script's, decoded
    framework_parameters: dict[str, Any]  # sagemaker_* ones the toolkit does not know by name
    region: str
    log_level: int

    @classmethod
    def of(cls, container: Container) -> Script:
        decoded = {name: decode(value) for name, value in container.hyperparameters.items()}
        ours = {k: v for k, v in decoded.items() if is_sagemaker_hyperparameter(k)}
        level = ours.get(LOG_LEVEL, INFO_LOG_LEVEL)
        return cls(
            container=container,
            program=str(ours.get(PROGRAM) or ""),
            submit_directory=str(ours.get(SUBMIT_DIRECTORY) or ""),
            hyperparameters={k: v for k, v in decoded.items() if k not in ours},
            framework_parameters={k: v for k, v in ours.items() if k not in SAGEMAKER_HYPERPARAMETERS},
            region=str(ours.get(REGION) or ""),
            log_level=level if isinstance(level, int) and not isinstance(level, bool) else INFO_LOG_LEVEL,
        )

    @property
    def module_name(self) -> str:
        return self.program[: -len(".py")] if self.program.endswith(".py") else self.program

    @property
    def args(self) -> list[str]:
        return cmd_args(self.hyperparameters)

    def environment(self) -> dict[str, str]:
        """The script's SM_* variables (the toolkit's to_env_vars) on top of the container's."""
        container, paths = self.container, self.container.paths
        resources = container.resource_config
        training_env: dict[str, Any] = {
            "channel_input_dirs": {k: str(v) for k, v in container.channel_dirs().items()},
            "current_host": resources.current_host,
            "current_instance_type": resources.current_instance_type or "local",
            "framework_module": None,
            "hosts": list(resources.hosts),
            "hyperparameters": self.hyperparameters,
            "input_config_dir": str(paths.input_config_dir),
            "input_data_config": container.input_data_config,
            "input_dir": str(paths.input_dir),
            "job_name": container.job_name,
            "log_level": self.log_level,
            "model_dir": str(paths.model_dir),
            "module_dir": str(paths.code_dir),
            "module_name": self.module_name,
            "network_interface_name": resources.network_interface_name,
            "num_cpus": container.num_cpus,
            "num_gpus": container.num_gpus,
            "output_data_dir": str(paths.output_data_dir),
            "output_dir": str(paths.output_dir),
            "output_intermediate_dir": str(paths.output_intermediate_dir),
            "resource_config": resources.to_json(),
            "user_entry_point": self.program,
        }
        env = container.environment()
        env.update(
            {
                "SM_HPS": env_value(self.hyperparameters),
                **{f"{HP_ENV_PREFIX}{k.upper()}": env_value(v) for k, v in self.hyperparameters.items()},
                "SM_USER_ARGS": env_value(self.args),
                "SM_USER_ENTRY_POINT": self.program,
                "SM_MODULE_NAME": self.module_name,
                "SM_MODULE_DIR": str(paths.code_dir),
                "SM_FRAMEWORK_PARAMS": env_value(self.framework_parameters),
                "SM_LOG_LEVEL": str(self.log_level),
                "SM_NETWORK_INTERFACE_NAME": resources.network_interface_name,
                "SM_CURRENT_INSTANCE_TYPE": training_env["current_instance_type"],
                "SM_INPUT_DATA_CONFIG": env_value(container.input_data_config),
                "SM_RESOURCE_CONFIG": env_value(resources.to_json()),
                "SM_OUTPUT_INTERMEDIATE_DIR": str(paths.output_intermediate_dir),
                "SM_TRAINING_ENV": env_value(training_env),
                "SAGEMAKER_REGION": self.region,
                "CURRENT_HOST": resources.current_host,
            }
        )
        return env
