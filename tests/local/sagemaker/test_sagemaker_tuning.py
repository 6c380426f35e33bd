"""Hyperparameter tuning jobs: a real optuna search whose trials are real, listable training jobs."""

from __future__ import annotations

import re
from typing import Any

import optuna
import pytest
from botocore.exceptions import ClientError

from contracts import completion
from localaws.sagemaker import tuning
from tests.local.sagemaker.conftest import BUCKET, ROLE, XGB_IMAGE, channels, wait_until


def tuning_request(name: str, prefix: str, strategy: str = "Bayesian", **config: Any) -> dict[str, Any]:
    job_config: dict[str, Any] = {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
            ],
            "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "5"}],
        },
        "TrainingJobEarlyStoppingType": "Off",
    }
    job_config.update(config)
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": job_config,
        "TrainingJobDefinition": {
            "StaticHyperParameters": {
                "objective": "binary:logistic",
                "eval_metric": "auc",
                "num_round": "20",
            },
            "AlgorithmSpecification": {"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": channels(prefix),
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def wait_tuning(sm: Any, name: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        return d if d["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped") else None

    result: dict[str, Any] = wait_until(done, timeout=240)
    return result


@pytest.mark.parametrize("strategy", ["Bayesian", "Random"])
def test_tuning_job_runs_real_trials_and_reports_the_best(sm, dataset, strategy):
    name = f"tune-{strategy.lower()}"
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, dataset["prefix"], strategy))

    job = wait_tuning(sm, name)

    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert job["TrainingJobStatusCounters"]["Completed"] == 4
    assert job["ObjectiveStatusCounters"]["Succeeded"] == 4
    best = job["BestTrainingJob"]
    assert re.fullmatch(rf"{name}-00[1-4]-[0-9a-f]{{8}}", best["TrainingJobName"])
    assert set(best["TunedHyperParameters"]) == {"eta", "max_depth"}
    assert 0.05 <= float(best["TunedHyperParameters"]["eta"]) <= 0.5
    summaries = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["TrainingJobSummaries"]
    values = [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in summaries]
    assert len(values) == 4 and values == sorted(values, reverse=True)
    assert summaries[0]["TrainingJobName"] == best["TrainingJobName"]
    trial = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert trial["TuningJobArn"] == job["HyperParameterTuningJobArn"]
    assert trial["ModelArtifacts"]["S3ModelArtifacts"].startswith(
        f"s3://{BUCKET}/tuning/{best['TrainingJobName']}/"
    )
    assert trial["HyperParameters"]["_tuning_objective_metric"] == "validation:auc"
    listed = sm.list_training_jobs(NameContains=name)["TrainingJobSummaries"]
    assert len(listed) == 4


def test_early_stopping_stops_trials_as_sagemaker_reports_them(sm, dataset):
    request = tuning_request(
        "tune-early",
        dataset["prefix"],
        "Random",
        TrainingJobEarlyStoppingType="Auto",
        ResourceLimits={"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 1},
    )
    # Wide eta range: slow learners fall behind the median early and get stopped.
    request["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"][0].update(
        MinValue="0.0001", MaxValue="0.9"
    )
    request["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"] = "60"
    sm.create_hyper_parameter_tuning_job(**request)

    job = wait_tuning(sm, "tune-early")

    assert job["HyperParameterTuningJobStatus"] == "Completed"
    counters = job["TrainingJobStatusCounters"]
    assert counters["Completed"] + counters["Stopped"] == 8
    assert counters["Stopped"] >= 1
    stopped = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-early", StatusEquals="Stopped"
    )["TrainingJobSummaries"]
    assert stopped and all(s["TrainingJobStatus"] == "Stopped" for s in stopped)
    assert job["BestTrainingJob"]["TrainingJobStatus"] in ("Completed", "Stopped")


def test_stop_tuning_job_stops_its_trials(sm, dataset):
    request = tuning_request(
        "tune-stop",
        dataset["prefix"],
        ResourceLimits={"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 1},
    )
    request["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"] = "100000"
    sm.create_hyper_parameter_tuning_job(**request)
    wait_until(
        lambda: sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")[
            "TrainingJobSummaries"
        ]
    )

    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    job = wait_tuning(sm, "tune-stop")

    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    assert job["TrainingJobStatusCounters"]["Stopped"] >= 1
    assert job["TrainingJobStatusCounters"]["InProgress"] == 0


def test_all_trials_failing_fails_the_tuning_job(sm, dataset):
    request = tuning_request(
        "tune-fail",
        dataset["prefix"],
        ResourceLimits={"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
    )
    request["TrainingJobDefinition"]["InputDataConfig"] = channels(dataset["prefix"], validation="empty")
    sm.create_hyper_parameter_tuning_job(**request)

    job = wait_tuning(sm, "tune-fail")

    assert job["HyperParameterTuningJobStatus"] == "Failed"
    assert "No training job succeeded" in job["FailureReason"]
    assert job["TrainingJobStatusCounters"]["NonRetryableError"] == 2


def test_grid_strategy_covers_the_grid_once(sm, dataset):
    request = tuning_request(
        "tune-grid",
        dataset["prefix"],
        "Grid",
        ParameterRanges={
            "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "3"}],
            "CategoricalParameterRanges": [{"Name": "eta", "Values": ["0.1", "0.3"]}],
        },
        ResourceLimits={"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2},
    )
    sm.create_hyper_parameter_tuning_job(**request)

    job = wait_tuning(sm, "tune-grid")

    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-grid")
    combos = {
        (t["TunedHyperParameters"]["max_depth"], t["TunedHyperParameters"]["eta"])
        for t in trials["TrainingJobSummaries"]
    }
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert combos == {("2", "0.1"), ("2", "0.3"), ("3", "0.1"), ("3", "0.3")}


def test_samplers_follow_the_strategy_and_scaling():
    config = tuning_request("x", "s3://b/p")["HyperParameterTuningJobConfig"]
    bayes = tuning.make_study("job", config)
    assert isinstance(bayes.sampler, optuna.samplers.TPESampler)
    space = tuning.search_space(config)
    assert space["eta"] == optuna.distributions.FloatDistribution(0.05, 0.5, log=True)
    assert space["max_depth"] == optuna.distributions.IntDistribution(2, 5, log=False)
    random_study = tuning.make_study("job", {**config, "Strategy": "Random"})
    assert isinstance(random_study.sampler, optuna.samplers.RandomSampler)
    hyperband = tuning.make_study("job", {**config, "Strategy": "Hyperband"})
    assert isinstance(hyperband.pruner, optuna.pruners.HyperbandPruner)
    early = tuning.make_study("job", {**config, "TrainingJobEarlyStoppingType": "Auto"})
    assert isinstance(early.pruner, optuna.pruners.MedianPruner)
    # Seeded from the job name: the same name samples the same first trial.
    first = [tuning.make_study("same", config).ask(space).params for _ in range(2)]
    assert first[0] == first[1]


def test_grid_rejects_continuous_ranges(sm):
    request = tuning_request("tune-badgrid", "s3://b/p", "Grid")
    with pytest.raises(ClientError) as err:
        sm.create_hyper_parameter_tuning_job(**request)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_grid_without_an_objective_is_rejected_at_create(sm):
    request = tuning_request("tune-noobjective", "s3://b/p", "Grid")
    del request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    with pytest.raises(ClientError) as err:
        sm.create_hyper_parameter_tuning_job(**request)
    assert "HyperParameterTuningJobObjective is required" in err.value.response["Error"]["Message"]


def test_describe_unknown_tuning_job_is_resource_not_found(sm):
    with pytest.raises(ClientError) as err:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nope")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"


def test_trials_that_stop_improving_end_the_job_before_its_budget(sm, dataset):
    # Given a job of 12 trials, one at a time, that stops after 3 trials in a row without a 1% gain
    request = tuning_request(
        "tune-stall",
        dataset["prefix"],
        "Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": 12, "MaxParallelTrainingJobs": 1},
        TuningJobCompletionCriteria={"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}},
    )
    sm.create_hyper_parameter_tuning_job(**request)
    # When it ends
    job = wait_tuning(sm, "tune-stall")
    # Then it completed early, and says how many trials in a row did not improve
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-stall", SortBy="CreationTime", SortOrder="Ascending"
    )["TrainingJobSummaries"]
    values = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in trials]
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert 4 <= len(trials) < 12
    assert job["TuningJobCompletionDetails"]["NumberOfTrainingJobsObjectiveNotImproving"] == 3
    assert completion.not_improving(values, maximize=True) == 3
    assert completion.not_improving(values[:-1], maximize=True) < 3  # it stopped at the first chance
    assert "3 trials in a row did not improve" in (completion.stop_reason(job) or "")


def test_a_trial_reaching_the_target_ends_the_job(sm, dataset):
    request = tuning_request(
        "tune-target",
        dataset["prefix"],
        "Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 1},
        TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 0.5},  # any trial beats a coin
    )
    sm.create_hyper_parameter_tuning_job(**request)
    job = wait_tuning(sm, "tune-target")
    assert job["TrainingJobStatusCounters"]["Completed"] == 1
    assert "reached the target objective 0.5" in (completion.stop_reason(job) or "")


@pytest.mark.parametrize(
    ("values", "converged"),
    [
        ([0.80, 0.85, 0.86, 0.861, 0.862, 0.8625], True),  # the last 3 add under 1% to the first 3
        ([0.80, 0.85, 0.86, 0.861, 0.862, 0.90], False),  # the last window found 4.7% more
        ([0.80, 0.85, 0.86, 0.861, 0.862], False),  # fewer than two windows: too early to tell
    ],
)
def test_local_convergence_compares_the_last_window_with_the_best_before(values, converged):
    assert tuning.convergence_window(12) == 3
    assert tuning.converged(values, maximize=True, max_jobs=12) is converged


def test_a_warm_start_continues_from_its_parent_within_narrowed_ranges(sm, dataset):
    # Given a completed parent job
    sm.create_hyper_parameter_tuning_job(**tuning_request("tune-parent", dataset["prefix"], "Bayesian"))
    parent = wait_tuning(sm, "tune-parent")
    # When a child warm-starts from it with a narrowed eta range
    child = tuning_request(
        "tune-child",
        dataset["prefix"],
        "Bayesian",
        ResourceLimits={"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
    )
    child["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"][0].update(
        MinValue="0.1", MaxValue="0.4", ScalingType="Linear"
    )
    warm = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "tune-parent"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    sm.create_hyper_parameter_tuning_job(**child, WarmStartConfig=warm)
    job = wait_tuning(sm, "tune-child")
    # Then it ran its own trials, shows its warm start, and the best of itself and its parent
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert job["TrainingJobStatusCounters"]["Completed"] == 2
    assert job["WarmStartConfig"] == warm
    values = [
        j["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in (parent, job)
    ]
    assert job["OverallBestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(
        values
    )
    assert "OverallBestTrainingJob" not in parent  # a cold start has none


def test_seeding_takes_the_parents_trials_that_lie_within_the_new_ranges():
    # Given a child's space: a narrowed eta, a reverse-log subsample, an integer depth, a categorical booster
    space = {
        "eta": optuna.distributions.FloatDistribution(0.1, 0.4),
        "subsample": optuna.distributions.FloatDistribution(1 - 0.99, 1 - 0.5, log=True),
        "max_depth": optuna.distributions.IntDistribution(2, 6),
        "booster": optuna.distributions.CategoricalDistribution(["gbtree", "dart"]),
    }
    inside = {"eta": "0.2", "subsample": "0.9", "max_depth": "4", "booster": "dart"}
    prior = [
        (inside, 0.91),
        ({**inside, "eta": "0.05"}, 0.95),  # outside the narrowed eta range
        ({**inside, "max_depth": "4.5"}, 0.93),  # not an integer
        ({**inside, "booster": "gblinear"}, 0.92),  # not one of the choices
        ({k: v for k, v in inside.items() if k != "max_depth"}, 0.94),  # the parent never set it
    ]
    study = optuna.create_study(direction="maximize")
    # When the study is seeded
    added = tuning.seed_study(study, space, {"subsample"}, prior)
    # Then only the trial inside every range is a finished trial of the study, in the sampler's own space
    assert added == 1
    (trial,) = study.trials
    assert trial.value == 0.91
    assert trial.params == {"eta": 0.2, "subsample": pytest.approx(0.1), "max_depth": 4, "booster": "dart"}


def _warm_child(dataset: dict[str, Any], name: str, **config: Any) -> dict[str, Any]:
    request = tuning_request(name, dataset["prefix"], "Bayesian", **config)
    request["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "tune-base"}],
        "WarmStartType": "TransferLearning",
    }
    return request


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:logloss"}},
            "the same as the objective metric of its parent tuning jobs: tune-base has validation:auc",
        ),
        (
            {
                "ParameterRanges": {
                    "ContinuousParameterRanges": [{"Name": "gamma", "MinValue": "0", "MaxValue": "2"}],
                    "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "5"}],
                }
            },
            "The set of tunable plus static HyperParameter names is not the same across current and parent "
            "tuning jobs.",
        ),
        (
            {
                "ParameterRanges": {
                    "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}],
                    "CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["2", "3"]}],
                }
            },
            "The type of hyperparameter max_depth is integer in parent tuning job tune-base and categorical",
        ),
    ],
)
def test_a_warm_start_sagemaker_refuses_is_refused_at_create(sm, dataset, change, message):
    # Given a completed parent
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(
            "tune-base",
            dataset["prefix"],
            ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
        )
    )
    wait_tuning(sm, "tune-base")
    # When a child breaks one of the warm-start restrictions, Then the create is refused
    with pytest.raises(ClientError) as err:
        sm.create_hyper_parameter_tuning_job(**_warm_child(dataset, "tune-bad", **change))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert message in err.value.response["Error"]["Message"]


def test_a_parent_still_running_or_missing_is_refused(sm, dataset):
    request = tuning_request(
        "tune-base",
        dataset["prefix"],
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
    )
    request["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"] = "100000"
    sm.create_hyper_parameter_tuning_job(**request)
    with pytest.raises(ClientError, match="The parent tuning job tune-base is InProgress"):
        sm.create_hyper_parameter_tuning_job(**_warm_child(dataset, "tune-early-child"))
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-base")
    wait_tuning(sm, "tune-base")
    missing = _warm_child(dataset, "tune-orphan")
    missing["WarmStartConfig"]["ParentHyperParameterTuningJobs"] = [{"HyperParameterTuningJobName": "nope"}]
    with pytest.raises(ClientError) as err:
        sm.create_hyper_parameter_tuning_job(**missing)
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    ("kind", "entry"),
    [
        (
            "IntegerParameterRanges",
            {"Name": "max_depth", "MinValue": "0", "MaxValue": "9", "ScalingType": "Logarithmic"},
        ),
        (
            "IntegerParameterRanges",
            {"Name": "max_depth", "MinValue": "1", "MaxValue": "9", "ScalingType": "ReverseLogarithmic"},
        ),
        (
            "ContinuousParameterRanges",
            {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1", "ScalingType": "ReverseLogarithmic"},
        ),
    ],
)
def test_a_scaling_type_outside_its_ranges_is_a_validation_error(kind, entry):
    with pytest.raises(tuning.ValidationException, match="Invalid ScalingType"):
        tuning.search_space({"ParameterRanges": {kind: [entry]}})


def test_reverse_log_samples_crowd_near_the_top_of_the_range():
    # SageMaker's ReverseLogarithmic: dense near the upper bound, for values close to 1
    config = {
        "Strategy": "Random",
        "RandomSeed": 3,
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ParameterRanges": {
            "ContinuousParameterRanges": [
                {
                    "Name": "subsample",
                    "MinValue": "0.0",
                    "MaxValue": "0.999",
                    "ScalingType": "ReverseLogarithmic",
                }
            ]
        },
    }
    study, space = tuning.make_study("rev", config), tuning.search_space(config)
    values = [1 - study.ask(space).params["subsample"] for _ in range(200)]
    assert all(0.0 <= v <= 0.999 for v in values)
    assert sum(v > 0.9 for v in values) > 100  # a linear scale would put ~10% there
