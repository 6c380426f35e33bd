"""Live progress, rendered from recorded DescribeHyperParameterTuningJob / DescribeAutoMLJobV2 / history."""

from __future__ import annotations

from mlstack.progress import (
    Snapshot,
    active_states,
    autopilot_progress,
    plain_line,
    rows,
    tuning_progress,
)


def test_tuning_counters_and_best_objective(described):
    tuning = tuning_progress(described["tuning"])
    # 5 completed + 1 stopped early (it has an objective: it counts as done).
    assert (tuning.status, tuning.done, tuning.running, tuning.failed, tuning.max_jobs) == (
        "Completed",
        6,
        0,
        0,
        6,
    )
    assert tuning.metric == "validation:auc"
    assert (
        tuning.best
        == described["tuning"]["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    )


def test_a_tuning_job_that_just_started_has_no_best_yet():
    tuning = tuning_progress(
        {
            "HyperParameterTuningJobStatus": "InProgress",
            "TrainingJobStatusCounters": {"InProgress": 2, "RetryableError": 1, "NonRetryableError": 1},
            "HyperParameterTuningJobConfig": {
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 8},
                "HyperParameterTuningJobObjective": {"MetricName": "validation:rmse", "Type": "Minimize"},
            },
        }
    )
    assert (tuning.done, tuning.running, tuning.failed, tuning.best, tuning.metric) == (
        0,
        2,
        2,
        None,
        "validation:rmse",
    )


def test_autopilot_status_and_candidates(described):
    autopilot = autopilot_progress(described["autopilot"], candidates=3)
    assert (autopilot.status, autopilot.detail, autopilot.candidates) == (
        "Completed",
        "MaxCandidatesReached",
        3,
    )
    assert autopilot.best is not None and 0.5 < autopilot.best <= 1


def test_active_states_mid_training_are_both_branches(described):
    # Recorded when the tuning branch waited in Tune while Autopilot's polling loop had just looped.
    assert active_states(described["events_mid_training"]) == ("TrainCandidates", "Tune", "WaitForAutopilot")


def test_a_state_left_is_no_longer_active():
    events = [
        {"stateEnteredEventDetails": {"name": "ValidateInput"}},
        {"stateExitedEventDetails": {"name": "ValidateInput"}},
        {"stateEnteredEventDetails": {"name": "CheckQuotas"}},
    ]
    assert active_states(events) == ("CheckQuotas",)


def test_rows_show_every_part(described):
    snapshot = Snapshot(
        status="RUNNING",
        elapsed_s=75,
        states=("TrainCandidates", "Tune"),
        tuning=tuning_progress(described["tuning"]),
        autopilot=autopilot_progress(described["autopilot"], 3),
        endpoint="Creating",
    )
    shown = dict(rows(snapshot))
    assert shown["execution"] == "RUNNING 01:15  TrainCandidates > Tune"
    assert shown["tuning"] == (
        "Completed  trials 6/6 done, 0 running, 0 failed  best validation:auc 0.8961  "
        "ended: it spent its budget: 6 of 6 training jobs"
    )
    assert shown["autopilot"].startswith("Completed (MaxCandidatesReached)  candidates 3  best ")
    assert shown["endpoint"] == "Creating"


def test_before_the_jobs_exist_they_show_as_not_started():
    line = plain_line(Snapshot(status="RUNNING", elapsed_s=3, states=("ValidateInput",)))
    assert line == (
        "execution: RUNNING  ValidateInput | tuning: not started | autopilot: not started | endpoint: -"
    )


def test_the_plain_line_leaves_the_clock_out_so_repeats_can_be_skipped():
    assert plain_line(Snapshot("RUNNING", 3)) == plain_line(Snapshot("RUNNING", 9))


def test_a_tuning_job_stopped_by_a_criterion_says_so(described):
    # Given the recorded job, as it reads had it stopped after 3 trials without a 1% gain
    answer = dict(described["tuning"])
    answer["HyperParameterTuningJobConfig"] = {
        **answer["HyperParameterTuningJobConfig"],
        "TuningJobCompletionCriteria": {
            "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}
        },
    }
    answer["TuningJobCompletionDetails"] = {"NumberOfTrainingJobsObjectiveNotImproving": 3}
    # When it is shown, Then the line says why tuning ended
    shown = dict(rows(Snapshot("RUNNING", 5, tuning=tuning_progress(answer))))
    assert shown["tuning"].endswith(
        "ended: 3 trials in a row did not improve the best objective by 1% (BestObjectiveNotImproving)"
    )


def test_a_running_tuning_job_has_not_ended():
    tuning = tuning_progress({"HyperParameterTuningJobStatus": "InProgress"})
    assert tuning.ended is None and "ended" not in dict(rows(Snapshot("RUNNING", 1, tuning=tuning)))["tuning"]
