#!/usr/bin/env python3
"""CDK entry point: stage config from cdk.json context, the stack, cdk-nag, synth."""

import os

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks.config import load_config
from stacks.ml_stack import MlStack

app = App()
config = load_config(
    {"stage": app.node.try_get_context("stage"), "stages": app.node.try_get_context("stages")}
)
MlStack(
    app,
    config.stack_name,
    config=config,
    env=Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    ),
)
Validations.of(app).add_plugins(AwsSolutionsChecks(), ServerlessChecks())
app.synth()
