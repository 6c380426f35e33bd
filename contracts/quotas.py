"""The Service Quotas a run of this stack consumes, looked up by NAME (standard library only).

Read by the CheckQuotas Lambda, `mlstack quotas` and the stack. Quota codes are never written here:
public sources disagree on them, so they are found at run time from the quota's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SERVICE_CODE = "sagemaker"
CONSOLE_URL = "https://{region}.console.aws.amazon.com/servicequotas/home/services/sagemaker/quotas/{code}"
INCREASE_COMMAND = (
    "aws service-quotas request-service-quota-increase --service-code sagemaker "
    "--quota-code {code} --desired-value {desired}"
)
Applies = Literal["always", "spot", "on_demand"]


@dataclass(frozen=True)
class Usage:
    """What one run uses at most, in the terms the quota table reads."""

    training_instance_type: str
    endpoint_instance_type: str
    max_parallel_training_jobs: int
    use_spot: bool = False
    variants: int = 2  # one production variant per finalist (tuning, Autopilot), one instance each


@dataclass(frozen=True)
class QuotaRule:
    """One quota: its name (templates over Usage fields), why the run needs it and how much.

    `names` holds the name AWS shows today first, then older spellings still matched.
    `needed` is a Usage field name (the run's value) or a constant.
    """

    key: str
    names: tuple[str, ...]
    purpose: str
    needed: str | int
    applies: Applies = "always"


QUOTAS: tuple[QuotaRule, ...] = (
    QuotaRule(
        key="training-instances",
        names=("{training_instance_type} for training job usage",),
        purpose="the tuning job runs up to MaxParallelTrainingJobs training jobs at once, one instance each",
        needed="max_parallel_training_jobs",
        applies="on_demand",
    ),
    QuotaRule(
        key="spot-training-instances",
        names=("{training_instance_type} for spot training job usage",),
        purpose="managed spot training runs up to MaxParallelTrainingJobs spot instances at once",
        needed="max_parallel_training_jobs",
        applies="spot",
    ),
    QuotaRule(
        key="endpoint-instances",
        names=("{endpoint_instance_type} for endpoint usage",),
        purpose="the evaluation endpoint has one production variant per finalist, one instance each",
        needed="variants",
    ),
    QuotaRule(
        key="parallel-training-jobs-per-tuning-job",
        names=(
            "Number of parallel training jobs per hyperparameter tuning job",
            "Maximum number of parallel training jobs per hyperparameter tuning job",
            "Number of concurrent training jobs per hyperparameter tuning job",
        ),
        purpose="ResourceLimits.MaxParallelTrainingJobs of the tuning job",
        needed="max_parallel_training_jobs",
    ),
    QuotaRule(
        key="concurrent-tuning-jobs",
        names=(
            "Number of concurrent hyperparameter tuning jobs",
            "Maximum number of concurrent hyperparameter tuning jobs",
            "Number of parallel (concurrent) hyperparameter tuning jobs",
        ),
        purpose="each run starts one hyperparameter tuning job",
        needed=1,
    ),
    QuotaRule(
        key="concurrent-automl-jobs",
        names=("Maximum number of concurrent AutoML jobs", "Number of concurrent AutoML jobs"),
        purpose="each run starts one Autopilot (AutoML V2) job",
        needed=1,
    ),
)


@dataclass(frozen=True)
class Requirement:
    """A quota rule applied to one run: the names to look for and the amount needed."""

    key: str
    quota: str
    names: tuple[str, ...]
    needed: int
    purpose: str


def normalize(name: str) -> str:
    """A quota name as compared: case and runs of whitespace do not matter."""
    return " ".join(name.split()).lower()


def _needed(rule: QuotaRule, usage: Usage) -> int:
    if isinstance(rule.needed, int):
        return rule.needed
    return int(getattr(usage, rule.needed))


def _applies(rule: QuotaRule, usage: Usage) -> bool:
    return rule.applies == "always" or (rule.applies == "spot") == usage.use_spot


def requirements(usage: Usage, rules: tuple[QuotaRule, ...] = QUOTAS) -> list[Requirement]:
    """What a run with this usage needs, quota by quota."""
    fields = {
        "training_instance_type": usage.training_instance_type,
        "endpoint_instance_type": usage.endpoint_instance_type,
    }
    out = []
    for rule in rules:
        if not _applies(rule, usage):
            continue
        names = tuple(template.format(**fields) for template in rule.names)
        out.append(Requirement(rule.key, names[0], names, _needed(rule, usage), rule.purpose))
    return out


def how_to_raise(region: str, code: str, desired: int) -> str:
    """Where and how to ask for more of a quota whose code was found at run time."""
    url = CONSOLE_URL.format(region=region, code=code)
    command = INCREASE_COMMAND.format(code=code, desired=desired)
    return f"request an increase at {url} or run: {command}"
