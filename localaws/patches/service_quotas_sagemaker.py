"""moto's Service Quotas knows only `vpc` and has no ListServiceQuotas: serve SageMaker quotas, settable."""

from __future__ import annotations

import json
import threading
from typing import Any

from localaws.patches._patching import add, wrap
from localaws.settings import ACCOUNT_ID, REGION

SERVICE_CODE = "sagemaker"
_INSTANCE_TYPES = (
    "ml.m5.large",
    "ml.m5.xlarge",
    "ml.m5.2xlarge",
    "ml.m5.4xlarge",
    "ml.c5.xlarge",
    "ml.t2.medium",
)
# Names as AWS shows them; local codes are made up (AWS codes are looked up by name, never hard-coded).
_FIXED = (
    ("Number of parallel training jobs per hyperparameter tuning job", 10.0),
    ("Number of concurrent hyperparameter tuning jobs", 100.0),
    ("Maximum number of concurrent AutoML jobs", 100.0),
)
_USAGES = ("for training job usage", "for spot training job usage", "for endpoint usage")


def _defaults() -> dict[str, float]:
    values = {f"{itype} {usage}": 20.0 for itype in _INSTANCE_TYPES for usage in _USAGES}
    values.update(dict(_FIXED))
    return values


DEFAULTS: dict[str, float] = _defaults()
_CODES = {name: f"L-LOCAL{index:03d}" for index, name in enumerate(DEFAULTS)}
_lock = threading.Lock()
_applied: dict[str, float] = {}


def set_applied(name: str, value: float) -> dict[str, float]:
    """Set the applied value of a SageMaker quota (by exact name); returns every override."""
    if name not in DEFAULTS:
        raise ValueError(f"unknown SageMaker quota {name!r}; known: {sorted(DEFAULTS)}")
    with _lock:
        _applied[name] = float(value)
        return dict(_applied)


def reset() -> None:
    """Forget every override: applied values equal the defaults again."""
    with _lock:
        _applied.clear()


def overrides() -> dict[str, float]:
    with _lock:
        return dict(_applied)


def quotas(applied: bool) -> list[dict[str, Any]]:
    """The SageMaker quota listing (applied values or AWS defaults) in Service Quotas' shape."""
    current = {**DEFAULTS, **overrides()} if applied else DEFAULTS
    return [
        {
            "ServiceCode": SERVICE_CODE,
            "ServiceName": "Amazon SageMaker",
            "QuotaArn": f"arn:aws:servicequotas:{REGION}:{ACCOUNT_ID}:{SERVICE_CODE}/{_CODES[name]}",
            "QuotaCode": _CODES[name],
            "QuotaName": name,
            "Value": value,
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
        }
        for name, value in current.items()
    ]


def _list_service_quotas(self: Any) -> str:
    service_code = json.loads(self.body or "{}").get("ServiceCode")
    if service_code != SERVICE_CODE:
        from moto.servicequotas.exceptions import NoSuchResource

        raise NoSuchResource
    return json.dumps({"Quotas": quotas(applied=True)})


def _defaults_for_sagemaker(original: Any) -> Any:
    def list_aws_default_service_quotas(self: Any) -> str:
        if json.loads(self.body or "{}").get("ServiceCode") == SERVICE_CODE:
            return json.dumps({"Quotas": quotas(applied=False)})
        result: str = original(self)
        return result

    return list_aws_default_service_quotas


def apply() -> None:
    from moto.servicequotas.responses import ServiceQuotasResponse

    wrap(ServiceQuotasResponse, "list_aws_default_service_quotas", _defaults_for_sagemaker, expects=["self"])
    add(ServiceQuotasResponse, "list_service_quotas", _list_service_quotas)
