"""The /opt/ml contract: a fake tree as SageMaker lays it out, the view and SM_* variables derived from it."""

import json
from pathlib import Path

import pytest

from training.container import (
    Container,
    Paths,
    ResourceConfig,
    Script,
    base_dir,
    channel_env,
    cmd_args,
    env_value,
    hyperparameters_from_env,
)
from training.errors import HyperparameterError
from training.train import parse_args

DATA_CONFIG = {
    "train": {"ContentType": "text/csv", "TrainingInputMode": "File"},
    "validation": {"ContentType": "text/csv", "TrainingInputMode": "File"},
}


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    """A fake /opt/ml written by hand, as SageMaker writes it before starting the algorithm."""
    base = tmp_path / "opt" / "ml"
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps({"num_round": "5", "eta": "0.1"}))
    (config / "inputdataconfig.json").write_text(json.dumps(DATA_CONFIG))
    (config / "resourceconfig.json").write_text(
        json.dumps(
            {"current_host": "algo-2", "hosts": ["algo-1", "algo-2"], "network_interface_name": "eth0"}
        )
    )
    for channel in DATA_CONFIG:
        (base / "input" / "data" / channel).mkdir(parents=True)
    return base


def test_paths_name_every_place_of_the_tree(opt_ml):
    paths = Paths(opt_ml)
    assert paths.hyperparameters_file.is_file()
    assert paths.input_data_config_file.is_file()
    assert paths.resource_config_file.is_file()
    assert paths.channel_dir("train").is_dir()
    assert paths.model_dir == opt_ml / "model"
    assert paths.output_data_dir == opt_ml / "output" / "data"
    assert paths.failure_file == opt_ml / "output" / "failure"


def test_the_base_is_opt_ml_unless_sagemaker_base_dir_says_otherwise(opt_ml):
    assert base_dir({}) == Path("/opt/ml")
    assert base_dir({"SAGEMAKER_BASE_DIR": str(opt_ml)}) == opt_ml


def test_the_view_reads_the_three_config_files(opt_ml):
    container = Container.read(Paths(opt_ml), job_name="job-1", num_cpus=2)
    assert container.hyperparameters == {"num_round": "5", "eta": "0.1"}
    assert container.channels == ["train", "validation"]
    assert container.channel_dirs() == {c: opt_ml / "input" / "data" / c for c in ("train", "validation")}
    assert container.resource_config == ResourceConfig("algo-2", ("algo-1", "algo-2"), "eth0")


def test_sm_variables_derive_from_the_tree_and_its_config_files(opt_ml):
    env = Container.read(Paths(opt_ml), job_name="job-1", num_cpus=2).environment()
    assert env == {
        "SAGEMAKER_BASE_DIR": str(opt_ml),
        "SM_MODEL_DIR": str(opt_ml / "model"),
        "SM_INPUT_DIR": str(opt_ml / "input"),
        "SM_INPUT_CONFIG_DIR": str(opt_ml / "input" / "config"),
        "SM_OUTPUT_DIR": str(opt_ml / "output"),
        "SM_OUTPUT_DATA_DIR": str(opt_ml / "output" / "data"),
        "SM_CHANNELS": '["train", "validation"]',
        "SM_CHANNEL_TRAIN": str(opt_ml / "input" / "data" / "train"),
        "SM_CHANNEL_VALIDATION": str(opt_ml / "input" / "data" / "validation"),
        "SM_HPS": '{"num_round": "5", "eta": "0.1"}',
        "SM_CURRENT_HOST": "algo-2",
        "SM_HOSTS": '["algo-1", "algo-2"]',
        "SM_NUM_CPUS": "2",
        "SM_NUM_GPUS": "0",
        "TRAINING_JOB_NAME": "job-1",
    }
    assert channel_env("validation") == "SM_CHANNEL_VALIDATION"


def test_what_the_emulator_writes_is_what_train_py_reads(tmp_path):
    # Given the tree the local SageMaker writes, and the variables it starts train.py with
    written = Container(Paths(tmp_path), {"num_round": "3"}, DATA_CONFIG, job_name="j", num_cpus=1)
    written.write()
    # Then the view read back is the one written, and train.py resolves the same places
    assert Container.read(Paths(tmp_path), job_name="j", num_cpus=1) == written
    for channel in DATA_CONFIG:
        written.paths.channel_dir(channel).mkdir(parents=True)
    config = parse_args([], written.environment())
    assert config.model_dir == written.paths.model_dir
    assert (config.train_dir, config.validation_dir) == (
        written.paths.channel_dir("train"),
        written.paths.channel_dir("validation"),
    )
    assert config.hyperparameters.num_round == 3
    assert json.loads(written.paths.resource_config_file.read_text())["hosts"] == ["algo-1"]


def test_hyperparameters_file_values_and_sm_hp_variables(opt_ml):
    paths = Paths(opt_ml)
    paths.hyperparameters_file.write_text(json.dumps({"num_round": 5, "eta": "0.1"}))
    assert paths.read_hyperparameters() == {"num_round": "5", "eta": "0.1"}
    assert hyperparameters_from_env({"SM_HP_MAX_DEPTH": "3", "SM_MODEL_DIR": "/m"}) == {"max_depth": "3"}
    paths.hyperparameters_file.write_text("[1]")
    with pytest.raises(HyperparameterError, match="must hold a JSON object"):
        paths.read_hyperparameters()
    paths.hyperparameters_file.unlink()
    assert paths.read_hyperparameters() == {}


def test_failure_file_round_trip(opt_ml):
    paths = Paths(opt_ml)
    assert paths.read_failure() == ""
    paths.write_failure("ClientError: no channel")
    assert paths.failure_file.read_text() == "ClientError: no channel\n"
    assert paths.read_failure() == "ClientError: no channel"


def test_script_arguments_are_the_toolkits_sorted_flags():
    # sagemaker-training-toolkit's mapping.to_cmd_args: --name per key, -x for one letter, k=v for a mapping
    args = cmd_args({"lr": 0.1, "k": 3, "flag": True, "layers": [1, 2], "opts": {"b": 2, "a": "x"}})
    assert args == ["--flag", "True", "-k", "3", "--layers", "[1, 2]", "--lr", "0.1", "--opts", "a=x,b=2"]


def test_a_script_sees_its_own_decoded_hyperparameters_not_sagemakers(opt_ml):
    # Given hyperparameters as the SDK sends a framework's: every value a JSON-encoded string
    hyperparameters = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"/opt/ml/input/data/code/sourcedir.tar.gz"',
        "sagemaker_region": '"eu-west-1"',
        "sagemaker_container_log_level": "20",
        "sagemaker_distribution": '{"x": 1}',
        "_tuning_objective_metric": "validation:auc",
        "max_depth": "4",
        "criterion": '"gini"',
        "loss": "log_loss",  # not JSON: kept as text, as the toolkit does
    }
    container = Container(Paths(opt_ml), hyperparameters, DATA_CONFIG, job_name="job-1", num_cpus=2)

    script = Script.of(container)
    env = script.environment()

    assert (script.program, script.module_name, script.region) == ("train.py", "train", "eu-west-1")
    assert script.submit_directory == "/opt/ml/input/data/code/sourcedir.tar.gz"
    assert script.hyperparameters == {"max_depth": 4, "criterion": "gini", "loss": "log_loss"}
    assert script.args == ["--criterion", "gini", "--loss", "log_loss", "--max_depth", "4"]
    assert env["SM_HPS"] == '{"criterion":"gini","loss":"log_loss","max_depth":4}'
    assert (env["SM_HP_MAX_DEPTH"], env["SM_HP_CRITERION"]) == ("4", "gini")
    assert "SM_HP_SAGEMAKER_PROGRAM" not in env and "SM_HP__TUNING_OBJECTIVE_METRIC" not in env
    assert json.loads(env["SM_FRAMEWORK_PARAMS"]) == {"sagemaker_distribution": {"x": 1}}
    assert env["SM_MODULE_DIR"] == str(opt_ml / "code") and env["SM_LOG_LEVEL"] == "20"
    assert env["SM_CHANNEL_TRAIN"] == str(opt_ml / "input" / "data" / "train")
    assert json.loads(env["SM_TRAINING_ENV"])["module_name"] == "train"


def test_container_paths_map_to_the_local_tree(opt_ml):
    paths = Paths(opt_ml)
    assert (
        paths.local("/opt/ml/input/data/code/sourcedir.tar.gz") == opt_ml / "input/data/code/sourcedir.tar.gz"
    )
    assert paths.local("/opt/ml") == opt_ml
    assert paths.local("/srv/code") == Path("/srv/code")
    assert (
        env_value("text") == "text"
        and env_value(None) == ""
        and env_value({"b": 1, "a": [2]}) == '{"a":[2],"b":1}'
    )
