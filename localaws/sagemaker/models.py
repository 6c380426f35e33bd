"""The local SageMaker's state: one backend per account and region, in a moto BackendDict of its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import ServiceException

from localaws.sagemaker.common import ResourceInUse, ResourceNotFound, ValidationException, arn

if TYPE_CHECKING:
    from localaws.sagemaker.automl import AutoMLJob
    from localaws.sagemaker.endpoints import Endpoint, EndpointConfig, Model
    from localaws.sagemaker.jobs import TrainingJob
    from localaws.sagemaker.tuning import TuningJob


class Resource(Protocol):
    """What every stored SageMaker resource has: its name, its (lower-cased) ARN and its tags."""

    name: str
    arn: str
    tags: list[dict[str, str]]


R = TypeVar("R", bound=Resource)
Error = Callable[[str], ServiceException]


class Store(Generic[R]):
    """One kind of resource by name, with SageMaker's errors for a taken name and a missing one."""

    def __init__(self, exists: Error, missing: Error) -> None:
        self._items: dict[str, R] = {}
        self._exists = exists
        self._missing = missing

    def add(self, item: R) -> R:
        """Add `item` under its name, or raise: one atomic step, so two creates cannot both win."""
        if self._items.setdefault(item.name, item) is not item:
            raise self._exists(item.name)
        return item

    def put(self, item: R) -> R:
        """Add or replace `item` under its name (a tuning job's trials, named by the tuner)."""
        self._items[item.name] = item
        return item

    def get(self, name: str) -> R | None:
        return self._items.get(name)

    def lookup(self, name: str) -> R:
        """The resource named `name`, or raise SageMaker's error for a missing one of this kind."""
        item = self._items.get(name)
        if item is None:
            raise self._missing(name)
        return item

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    def all(self) -> list[R]:
        return list(self._items.values())


class LocalSageMakerBackend(BaseBackend):
    """Training, tuning and AutoML jobs, models, endpoint configs and endpoints of one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)

        def arn_of(kind: str, name: str) -> str:
            return arn(account_id, region_name, kind, name)

        self.training_jobs: Store[TrainingJob] = Store(
            lambda name: ResourceInUse(
                "Training job names must be unique within an AWS account and region, and a training job "
                f"with this name already exists ({arn_of('training-job', name)})"
            ),
            lambda name: ValidationException(
                f"Requested resource not found: TrainingJob {name} does not exist"
            ),
        )
        self.tuning_jobs: Store[TuningJob] = Store(
            lambda name: ResourceInUse(f"Hyperparameter tuning job '{name}' already exists."),
            lambda name: ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}"),
        )
        self.automl_jobs: Store[AutoMLJob] = Store(
            lambda name: ResourceInUse(
                f"Resource Already Exists: Auto ML Job with name {name} already exists. "
                "Choose a different name."
            ),
            lambda name: ResourceNotFound(f"Could not find AutoML job with name {name}."),
        )
        self.models: Store[Model] = Store(
            lambda name: ValidationException(
                f'Cannot create already existing model "{arn_of("model", name)}".'
            ),
            lambda name: ValidationException(f'Could not find model "{arn_of("model", name)}".'),
        )
        self.endpoint_configs: Store[EndpointConfig] = Store(
            lambda name: ValidationException(
                f'Cannot create already existing endpoint configuration "{arn_of("endpoint-config", name)}".'
            ),
            lambda name: ValidationException(
                f'Could not find endpoint configuration "{arn_of("endpoint-config", name)}".'
            ),
        )
        self.endpoints: Store[Endpoint] = Store(
            lambda name: ValidationException(
                f'Cannot create already existing endpoint "{arn_of("endpoint", name)}".'
            ),
            lambda name: ValidationException(f'Could not find endpoint "{arn_of("endpoint", name)}".'),
        )

    def tagged(self, resource_arn: str) -> Resource:
        """The resource an ARN names (SageMaker's ARNs are lower-cased), or ResourceNotFound."""
        listings: dict[str, Callable[[], Sequence[Resource]]] = {
            "training-job": self.training_jobs.all,
            "hyper-parameter-tuning-job": self.tuning_jobs.all,
            "automl-job": self.automl_jobs.all,
            "model": self.models.all,
            "endpoint-config": self.endpoint_configs.all,
            "endpoint": self.endpoints.all,
        }
        listing = listings.get(resource_arn.split(":")[-1].split("/")[0])
        for item in listing() if listing is not None else []:
            if item.arn in (resource_arn.lower(), resource_arn):
                return item
        raise ResourceNotFound(f"Resource {resource_arn} not found.")


# A BackendDict as moto's services keep theirs: mock_aws and moto's reset clear it with the rest,
# while moto's own SageMaker stores (sagemaker_backends) never hold our records.
local_sagemaker_backends = BackendDict(LocalSageMakerBackend, "sagemaker")


def backend(account_id: str, region: str) -> LocalSageMakerBackend:
    """The local SageMaker's state in one account and region."""
    return local_sagemaker_backends[account_id][region]
