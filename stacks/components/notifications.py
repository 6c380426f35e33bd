"""Run notifications: one KMS-encrypted SNS topic, with the stage's e-mail subscribed if it has one."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Notifications(Construct):
    """Where every run's end is announced: succeeded, failed with its cause, or aborted and cleaned."""

    def __init__(self, scope: Construct, id: str, *, key: kms.IKey, email: str | None) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True, display_name="ML Stack runs")
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
