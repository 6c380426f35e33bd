"""The patch machinery: loud failures when moto changes, clean revert, idempotent apply."""

from __future__ import annotations

import pytest

from localaws import patches
from localaws.patches import _patching


class Target:
    def method(self, a: int) -> int:
        return a


def test_replace_checks_the_signature_and_reverts():
    with pytest.raises(_patching.MotoChangedError, match="expected parameters"):
        _patching.replace(Target, "method", lambda self, a: a + 1, expects=["self", "b"])
    _patching.replace(Target, "method", lambda self, a: a + 1, expects=["self", "a"])
    assert Target().method(1) == 2
    _patching.revert_all()
    assert Target().method(1) == 1


def test_replace_refuses_a_missing_attribute():
    with pytest.raises(_patching.MotoChangedError, match="has no attribute"):
        _patching.replace(Target, "gone", lambda self: None)


def plus(n: int):
    def make(original):
        return lambda self, a: original(self, a) + n

    return make


def test_wrappers_from_different_fixes_stack_and_a_reapply_does_not_wrap_twice():
    one, ten = plus(1), plus(10)
    try:
        _patching.wrap(Target, "method", one, expects=["self", "a"])
        _patching.wrap(Target, "method", ten, expects=["self", "a"])
        assert Target().method(1) == 12
        _patching.wrap(Target, "method", one, expects=["self", "a"])  # the same fix, applied again
        assert Target().method(1) == 12
    finally:
        _patching.revert_all()
    assert Target().method(1) == 1


def test_apply_all_is_idempotent_and_revertible():
    from moto.awslambda.models import LambdaFunction
    from moto.cloudformation.models import CloudFormationBackend

    originals = (LambdaFunction.invoke, CloudFormationBackend.execute_change_set)
    try:
        patches.apply_all()
        patched = (LambdaFunction.invoke, CloudFormationBackend.execute_change_set)
        patches.apply_all()
        assert (LambdaFunction.invoke, CloudFormationBackend.execute_change_set) == patched
        assert patched != originals
    finally:
        patches.revert_all()
    assert (LambdaFunction.invoke, CloudFormationBackend.execute_change_set) == originals
