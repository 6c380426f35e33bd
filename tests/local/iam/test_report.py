"""docs/IAM.md's arithmetic: which grants the access log shows used, and which unused ones are explained."""

from __future__ import annotations

from localaws.iam.access_log import Entry
from localaws.iam.report import attribute, grants, markdown

TEMPLATE = {
    "Resources": {
        "RolePolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "RoleDefaultPolicy",
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": {"Fn::GetAtt": ["Data", "Arn"]},
                        },
                        {"Sid": "Pull", "Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"},
                        {"Sid": "Odd", "Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*"},
                        {"Effect": "Deny", "Action": "*", "Resource": "*"},
                    ]
                },
            },
        }
    }
}


def test_used_unused_and_unexplained_grants_are_counted() -> None:
    # Given a role with three grants, and a log where the first one allowed a read
    found = grants(TEMPLATE)
    read_data = Entry(
        "p",
        "s3:GetObject",
        "arn:aws:s3:::d/k",
        "Allowed",
        "statement #1 in identity policy RoleDefaultPolicy",
        "s3:GetObject",
    )
    denied = Entry("p", "dynamodb:DeleteTable", "*", "ImplicitlyDenied", None, "dynamodb:DeleteTable")
    # When the log is attributed
    assert attribute(found, [read_data, denied]) == 2
    # Then only the read's statement is used; the ECR pull is explained, the queue deletion is not
    assert [bool(g.used_by) for g in found] == [True, False, False]
    report = markdown(found, 2)
    assert "**Grants used: 1 / 3.** Unused but explained: 1. Unused and unexplained: 1." in report
    assert "| #1 | `s3:GetObject` | `Data.Arn` | s3:GetObject → s3:GetObject |" in report
    assert "| Odd | `dynamodb:DeleteTable` | `*` | unused: **UNEXPLAINED** |" in report


def test_a_statement_named_by_its_sid_is_found() -> None:
    found = grants(TEMPLATE)
    pull = Entry(
        "p",
        "ecr:BatchGetImage",
        "*",
        "Allowed",
        "Pull in identity policy RoleDefaultPolicy",
        "ecr:BatchGetImage",
    )
    attribute(found, [pull])
    assert found[1].used_by == {"ecr:BatchGetImage → ecr:BatchGetImage"}
