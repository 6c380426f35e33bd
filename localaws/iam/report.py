"""docs/IAM.md: every grant of the stack's roles, the calls that used it, and why an unused one exists.

Read from the synthesized template (what is granted) and the access logs of end-to-end runs under
enforcement (what was used: each allowed decision names the statement that allowed it).
`python -m localaws.iam.report --template T.json --out docs/IAM.md LOG.jsonl ...`
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.iam.access_log import Entry, read

_DECIDER = re.compile(r"^(?:statement #(?P<index>\d+)|(?P<sid>.+?)) in identity policy (?P<policy>\S+)$")
# Why a grant no local run uses still has to exist: paths only AWS takes. Matched on the action.
WHY_UNUSED: dict[str, str] = {
    "ecr:*": "SageMaker pulls the algorithm and Autopilot images as the job's role; the local SageMaker runs "
    "no containers",
    "logs:*": "CloudWatch Logs as the caller: Lambda and SageMaker jobs write their logs there on AWS; the "
    "local AWS keeps function logs in-process and jobs write none",
    "cloudwatch:PutMetricData": "SageMaker jobs publish their metrics as the job's role on AWS",
    "xray:*": "Lambda's active tracing sends segments as the function's role on AWS",
    "sagemaker:CreateProcessingJob": "Autopilot's child jobs run as the execution role on AWS; the local "
    "Autopilot trains in-process",
    "sagemaker:CreateTrainingJob": "Autopilot's and tuning's child jobs are created by SageMaker as the "
    "execution role on AWS",
    "sagemaker:CreateTransformJob": "Autopilot's child jobs run as the execution role on AWS",
    "sagemaker:Describe*Job": "Autopilot watches its child jobs as the execution role on AWS",
    "sagemaker:Stop*Job": "Autopilot stops its child jobs as the execution role on AWS; runs stop their "
    "own jobs only when aborted",
    "sagemaker:AddTags": "SageMaker tags the jobs and resources a run creates as the caller on AWS; the "
    "local SageMaker takes tags from the create request",
    "iam:PassRole": "Autopilot passes the execution role to its child jobs on AWS",
    **dict.fromkeys(
        ("sagemaker:*Model", "sagemaker:*EndpointConfig", "sagemaker:*Endpoint"),
        "Autopilot's explainability and insight steps deploy, call and delete candidates as the execution "
        "role on AWS (AWS's minimum for a role passed to CreateAutoMLJob); the local Autopilot computes "
        "them in-process",
    ),
    "sagemaker:ListTags": "Step Functions' .sync integrations and Autopilot's insight steps read tags as "
    "the caller on AWS; the local SageMaker does not",
    "events:*": "Step Functions manages the .sync EventBridge rule as the state machine's role on AWS",
    "sqs:*": "Lambda sends a failed asynchronous event to the dead-letter queue as the function's role on "
    "AWS; the local AWS delivers it itself",
    "kms:Decrypt": "Lambda decrypts a function's environment (encrypted with the stack key) as its role on "
    "AWS; the local runtime passes it in clear",
    "kms:*": "the stack key on the paths above (dead-letter queue, topic, logs) that local runs do not take",
    "servicequotas:ListAWSDefaultServiceQuotas": "CheckQuotas falls back to AWS's defaults when an account "
    "has no applied value; the local AWS always has one",
}


@dataclass
class Grant:
    """One statement of one role's policy and the calls that used it."""

    role: str
    policy: str
    index: int
    sid: str | None
    actions: list[str]
    resources: list[str]
    used_by: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, int]:
        return self.policy, self.index


def render(value: Any) -> str:
    """A template value with its intrinsics shown compactly (`Bucket.Arn`, `${AWS::Region}`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return f"${{{argument}}}"
        if name == "Fn::GetAtt":
            return ".".join(argument)
        if name == "Fn::Join":
            return str(argument[0]).join(render(part) for part in argument[1])
        if name == "Fn::Sub":
            return render(argument if isinstance(argument, str) else argument[0])
    return json.dumps(value)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(template: dict[str, Any]) -> list[Grant]:
    """Every Allow statement of every AWS::IAM::Policy in the template, with the roles it is attached to."""
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        properties = resource["Properties"]
        roles = [
            role["Ref"] for role in properties.get("Roles", []) if isinstance(role, dict) and "Ref" in role
        ]
        for index, statement in enumerate(properties["PolicyDocument"]["Statement"], start=1):
            if statement.get("Effect") != "Allow":
                continue
            for role in roles:
                found.append(
                    Grant(
                        role=role,
                        policy=properties["PolicyName"],
                        index=index,
                        sid=statement.get("Sid"),
                        actions=[render(a) for a in _listed(statement["Action"])],
                        resources=[render(r) for r in _listed(statement["Resource"])],
                    )
                )
    return found


def _sids(grants_: Sequence[Grant]) -> dict[tuple[str, str], int]:
    return {(g.policy, g.sid): g.index for g in grants_ if g.sid}


def attribute(grants_: Sequence[Grant], entries: Iterable[Entry]) -> int:
    """Mark each grant with the calls its statement allowed; returns how many decisions were read."""
    by_key = {g.key: g for g in grants_}
    sids = _sids(grants_)
    count = 0
    for entry in entries:
        count += 1
        match = _DECIDER.match(entry.statement or "") if entry.decision == "Allowed" else None
        if match is None:
            continue
        policy = match["policy"]
        index = int(match["index"]) if match["index"] else sids.get((policy, match["sid"]))
        grant = by_key.get((policy, index)) if index is not None else None
        if grant is not None:
            grant.used_by.add(f"{entry.call} → {entry.action}")
    return count


def why_unused(grant: Grant) -> str | None:
    """The reason an unused grant exists, if every one of its actions has one."""
    reasons = []
    for action in grant.actions:
        reason = next((why for pattern, why in WHY_UNUSED.items() if fnmatch.fnmatch(action, pattern)), None)
        if reason is None:
            return None
        reasons.append(reason)
    return "; ".join(dict.fromkeys(reasons))


def markdown(grants_: Sequence[Grant], decisions: int) -> str:
    """The report: a summary line, then one table per role."""
    used = [g for g in grants_ if g.used_by]
    unused = [g for g in grants_ if not g.used_by]
    unexplained = [g for g in unused if why_unused(g) is None]
    lines = [
        "# IAM: every grant and the calls that use it",
        "",
        "Generated by `make iam-report`: the end-to-end runs under IAM enforcement, read from their access",
        f"logs ({decisions} decisions), against the synthesized template of the `local` stage.",
        "",
        f"**Grants used: {len(used)} / {len(grants_)}.** "
        f"Unused but explained: {len(unused) - len(unexplained)}. "
        f"Unused and unexplained: {len(unexplained)}.",
        "",
    ]
    by_role: dict[str, list[Grant]] = defaultdict(list)
    for grant in grants_:
        by_role[grant.role].append(grant)
    for role in sorted(by_role):
        lines += [
            f"## {role}",
            "",
            "| statement | actions | resources | used by (call → action) |",
            "|---|---|---|---|",
        ]
        for grant in by_role[role]:
            name = grant.sid or f"#{grant.index}"
            uses = "<br>".join(sorted(grant.used_by)) or f"unused: {why_unused(grant) or '**UNEXPLAINED**'}"
            actions = "<br>".join(f"`{a}`" for a in grant.actions)
            resources = "<br>".join(f"`{r}`" for r in grant.resources)
            lines.append(f"| {name} | {actions} | {resources} | {uses} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("logs", type=Path, nargs="+")
    args = parser.parse_args(argv)
    found = grants(json.loads(args.template.read_text()))
    decisions = attribute(found, (entry for log in args.logs for entry in read(log)))
    args.out.write_text(markdown(found, decisions) + "\n")
    unexplained = sum(1 for g in found if not g.used_by and why_unused(g) is None)
    used = sum(1 for g in found if g.used_by)
    print(f"{args.out}: {used}/{len(found)} grants used, {unexplained} unused and unexplained")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
