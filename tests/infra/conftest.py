"""Fixtures for the infra tier: the real cdk.json, a synthesized stack per stage, cdk-nag on."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks.config import load_config
from stacks.ml_stack import MlStack

ROOT = Path(__file__).resolve().parents[2]
ENV = Environment(account="123456789012", region="eu-west-1")


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    """The context of the real cdk.json, as `cdk synth` would pass it."""
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def build_stack(context: dict[str, Any], stage: str) -> MlStack:
    """Build the stack the way app.py does, with cdk-nag registered."""
    app = App(context={**context, "stage": stage})
    config = load_config({"stage": stage, "stages": context["stages"]})
    stack = MlStack(app, config.stack_name, config=config, env=ENV)
    Validations.of(app).add_plugins(AwsSolutionsChecks(), ServerlessChecks())
    return stack


@pytest.fixture(scope="session")
def synth(cdk_context: dict[str, Any]) -> Callable[..., Template]:
    """Synthesize a stage (optionally with stage overrides); raises if cdk-nag has unacknowledged findings."""
    cache: dict[str, Template] = {}

    def _synth(stage: str = "dev", **overrides: Any) -> Template:
        key = json.dumps([stage, overrides], sort_keys=True)
        if key not in cache:
            context = copy.deepcopy(cdk_context)
            context["stages"][stage].update(overrides)
            cache[key] = Template.from_stack(build_stack(context, stage))
        return cache[key]

    return _synth


@pytest.fixture(scope="session")
def dev(synth: Callable[..., Template]) -> Template:
    return synth("dev")


@pytest.fixture(scope="session")
def prod(synth: Callable[..., Template]) -> Template:
    return synth("prod")


def resources(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by logical id."""
    return {key: dict(value) for key, value in template.find_resources(type_).items()}


def statements(template: Template) -> list[dict[str, Any]]:
    """Every statement of every inline or managed policy in the template."""
    found: list[dict[str, Any]] = []
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for resource in resources(template, type_).values():
            found.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    for role in resources(template, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            found.extend(policy["PolicyDocument"]["Statement"])
    return found


def role_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """The statements of the inline policies (AWS::IAM::Policy) attached to one role."""
    found: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def flatten(value: Any) -> Any:
    """Render CloudFormation intrinsics as readable placeholders (`${Ref}`, `${Id.Attr}`, `${Map:k}`)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return "${" + value["Ref"] + "}"
        if "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
        if "Fn::FindInMap" in value:
            return "${" + ":".join(str(flatten(part)) for part in value["Fn::FindInMap"]) + "}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(flatten(part)) for part in parts)
        return {key: flatten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [flatten(item) for item in value]
    return value


def state_machine_definition(template: Template) -> dict[str, Any]:
    """The state machine definition as JSON, tokens flattened to placeholders."""
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    return dict(json.loads(flatten(machine["Properties"]["DefinitionString"])))


def all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state by name, including those inside Parallel branches and Map processors."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(all_states(branch))
        if "ItemProcessor" in state:
            found.update(all_states(state["ItemProcessor"]))
    return found


def logical_id(template: Template, type_: str, fragment: str) -> str:
    """The one logical id of `type_` that contains `fragment`."""
    (found,) = [key for key in resources(template, type_) if fragment in key]
    return found
