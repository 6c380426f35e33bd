"""Replace moto attributes loudly: fail if the target moved or changed signature, and allow revert."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

_MISSING = object()
# (owner, attribute name, raw value found in owner.__dict__ or _MISSING), in application order.
_applied: list[tuple[Any, str, Any]] = []
_originals: dict[tuple[int, str], Any] = {}
# (owner id, attribute name) -> wrap() makers, in the order first applied.
_wrappers: dict[tuple[int, str], list[Callable[[Any], Any]]] = {}


class MotoChangedError(RuntimeError):
    """moto no longer looks like the version these patches were written for: re-check the fix."""


def parameters_of(func: Callable[..., Any]) -> list[str]:
    """Parameter names of a callable as bound on its owner (no self/cls for bound methods)."""
    return list(inspect.signature(func).parameters)


def check_signature(func: Callable[..., Any], expected: Sequence[str], where: str) -> None:
    """Raise MotoChangedError unless `func` takes exactly the `expected` parameters."""
    found = parameters_of(func)
    if found != list(expected):
        raise MotoChangedError(f"{where}: expected parameters {list(expected)}, found {found}")


def replace(owner: Any, name: str, new: Any, *, expects: Sequence[str] | None = None) -> Any:
    """Set owner.name = new; return the original (bound as getattr sees it) for delegation."""
    if not hasattr(owner, name):
        raise MotoChangedError(f"{owner!r} has no attribute {name!r}: moto changed, re-check the patch")
    key = (id(owner), name)
    if key in _originals:  # idempotent: a second apply() keeps the first original
        setattr(owner, name, new)
        return _originals[key]
    original = getattr(owner, name)
    if expects is not None:
        check_signature(original, expects, f"{getattr(owner, '__name__', owner)}.{name}")
    raw = owner.__dict__.get(name, _MISSING) if hasattr(owner, "__dict__") else _MISSING
    _applied.append((owner, name, raw))
    _originals[key] = original
    setattr(owner, name, new)
    return original


def original(owner: Any, name: str) -> Any:
    """The value owner.name had before replace() (or the current one if never replaced)."""
    return _originals.get((id(owner), name), getattr(owner, name))


def revert_all() -> None:
    """Undo every replace(), newest first (for tests that compare patched and unpatched moto)."""
    while _applied:
        owner, name, raw = _applied.pop()
        if raw is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, raw)
    _originals.clear()
    _wrappers.clear()


def wrap(owner: Any, name: str, make: Callable[[Any], Any], *, expects: Sequence[str] | None = None) -> None:
    """replace() with `make(original)`. Wrappers of one attribute (from different fixes) stack in the
    order first applied, always rebuilt from the true original: a re-apply never wraps twice."""
    key = (id(owner), name)
    makers = _wrappers.setdefault(key, [])
    if make not in makers:
        makers.append(make)
    current = _originals[key] if key in _originals else getattr(owner, name)
    for maker in makers:
        replace(owner, name, maker(current), expects=expects)
        current = getattr(owner, name)  # bound as the next wrapper must call it (classmethods)


def add(owner: Any, name: str, new: Any) -> None:
    """Give owner an attribute moto lacks (revertible); fail if moto has it now: re-check the fix."""
    key = (id(owner), name)
    if key in _originals:  # idempotent re-apply
        setattr(owner, name, new)
        return
    if hasattr(owner, name):
        raise MotoChangedError(f"{owner!r} now has {name!r}: moto implemented it, re-check the patch")
    _applied.append((owner, name, _MISSING))
    _originals[key] = None
    setattr(owner, name, new)


# --- CloudFormation resource models ----------------------------------------------------------------

CFN_CREATE = ["resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"]
CFN_UPDATE = ["original_resource", "new_resource_name", "cloudformation_json", "account_id", "region_name"]
CFN_DELETE = ["resource_name", "cloudformation_json", "account_id", "region_name"]


def after_cfn_writes(model: Any, then: Callable[[Any, dict[str, Any], str, str], None]) -> None:
    """Make a moto model's CloudFormation create and update call `then(resource, properties,
    account_id, region_name)` on the resource they return (for properties moto ignores)."""

    def after_create(original: Any) -> Any:
        def create(
            cls: Any,
            /,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Any:
            resource = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
            then(resource, cloudformation_json.get("Properties", {}), account_id, region_name)
            return resource

        return classmethod(create)

    def after_update(original: Any) -> Any:
        def update(
            cls: Any,
            /,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> Any:
            resource = original(
                original_resource, new_resource_name, cloudformation_json, account_id, region_name
            )
            then(resource, cloudformation_json.get("Properties", {}), account_id, region_name)
            return resource

        return classmethod(update)

    wrap(model, "create_from_cloudformation_json", after_create, expects=CFN_CREATE)
    wrap(model, "update_from_cloudformation_json", after_update, expects=CFN_UPDATE)


class UpdateIsCreate:
    """Mixin for our models of resources that have no name of their own and whose update puts the
    new properties exactly as a create does."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name
        )


def register_cfn_model(model: Any, fix: str) -> None:
    """Make moto's CloudFormation see `model`, a new CloudFormationModel subclass (its registry is
    cached from the subclasses); fail loudly once moto models the resource type itself."""
    import moto.cloudformation.parsing as parsing

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    resource_type = model.cloudformation_type()
    if parsing.get_model_map().get(resource_type) is not model:
        raise MotoChangedError(f"{resource_type} is now modelled by moto: drop {fix}")
