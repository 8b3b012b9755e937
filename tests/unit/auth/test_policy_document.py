"""Parsing and validating policy documents: every element a user can get wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater.auth.policy import PolicyError, parse_policy
from headwater.auth.policy.document import MAX_POLICY_BYTES

ALLOW = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def refused(document: Any, kind: str = "identity") -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, kind)  # type: ignore[arg-type]
    return caught.value


def test_a_statement_may_be_one_object_or_a_list() -> None:
    one = parse_policy({"Version": "2012-10-17", "Statement": ALLOW})
    many = parse_policy(json.dumps(policy(ALLOW, {**ALLOW, "Effect": "Deny"})))
    assert len(one.statements) == 1 and len(many.statements) == 2
    assert one.statements[0].actions == ("dynamodb:GetItem",) and one.variables


def test_a_policy_without_version_is_2008_and_has_no_variables() -> None:
    assert not parse_policy({"Statement": [ALLOW]}).variables


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "Syntax errors in policy."),
        ("[]", "Syntax errors in policy."),
        ({"Version": "2012-10-17"}, "Missing required field Statement"),
        ({"Version": "2013-01-01", "Statement": [ALLOW]}, "The policy must contain a valid version string"),
        ({"Version": "2012-10-17", "Statement": []}, "Syntax errors in policy."),
        ({"Version": "2012-10-17", "Statement": [ALLOW], "Extra": 1}, "Has prohibited field Extra"),
        (policy({"Action": "dynamodb:GetItem", "Resource": "*"}), "Missing required field Effect"),
        (policy({**ALLOW, "Effect": "allow"}), "Invalid effect: allow"),
        (policy({"Effect": "Allow", "Resource": "*"}), "Policy statement must contain actions."),
        (
            policy({"Effect": "Allow", "Action": "dynamodb:GetItem"}),
            "Policy statement must contain resources.",
        ),
        (
            policy({**ALLOW, "NotAction": "dynamodb:PutItem"}),
            "Statement can not have both Action and NotAction.",
        ),
        (
            policy({**ALLOW, "Action": "GetItem"}),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (policy({**ALLOW, "Resource": "table/Music"}), 'Resource table/Music must be in ARN format or "*".'),
        (
            policy({**ALLOW, "Resource": "arn:aws:dynamodb:*"}),
            'Resource arn:aws:dynamodb:* must be in ARN format or "*".',
        ),
        (policy({**ALLOW, "Action": []}), "Syntax errors in policy."),
        (policy({**ALLOW, "Action": [1]}), "Syntax errors in policy."),
        (policy({**ALLOW, "Principal": "*"}), "Policy document should not specify a principal."),
        (
            policy({**ALLOW, "Sid": "a"}, {**ALLOW, "Sid": "a"}),
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (policy({**ALLOW, "Sid": "no/slashes"}), "Statement IDs (SID) must be alpha-numeric."),
        (policy({**ALLOW, "Bogus": 1}), "Has prohibited field Bogus"),
        (
            policy({**ALLOW, "Condition": {"StringEqualz": {"a:b": "c"}}}),
            "Invalid Condition type : StringEqualz",
        ),
        (
            policy({**ALLOW, "Condition": {"NullIfExists": {"a:b": "true"}}}),
            "Invalid Condition type : NullIfExists",
        ),
        (policy({**ALLOW, "Condition": {"StringEquals": "x"}}), "Syntax errors in policy."),
        (policy({**ALLOW, "Condition": {"StringEquals": {"a:b": {"c": 1}}}}), "Syntax errors in policy."),
        (
            policy({**ALLOW, "Condition": {"NumericLessThan": {"a:b": "ten"}}}),
            "Invalid value for NumericLessThan: 'ten'",
        ),
        (
            policy({**ALLOW, "Condition": {"DateLessThan": {"a:b": "yesterday"}}}),
            "Invalid value for DateLessThan: 'yesterday'",
        ),
        (
            policy({**ALLOW, "Condition": {"IpAddress": {"a:b": "300.1.1.1/8"}}}),
            "Invalid value for IpAddress: '300.1.1.1/8'",
        ),
        (policy({**ALLOW, "Condition": {"Null": {"a:b": "yes"}}}), "Invalid value for Null: 'yes'"),
    ],
)
def test_malformed_identity_policies(document: Any, message: str) -> None:
    assert refused(document).message == message


def test_errors_name_the_element() -> None:
    error = refused(policy(ALLOW, {**ALLOW, "Effect": "Maybe"}))
    assert error.path == "Statement[1].Effect" and str(error) == "Invalid effect: Maybe (Statement[1].Effect)"


def test_a_policy_over_the_size_limit_is_refused() -> None:
    big = json.dumps(policy({**ALLOW, "Resource": ["arn:aws:dynamodb:::table/" + "x" * MAX_POLICY_BYTES]}))
    assert refused(big).message.startswith("Policy document is larger than the limit")


RESOURCE = {**ALLOW, "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"}}


def test_resource_policies_need_a_principal() -> None:
    assert refused(policy(ALLOW), "resource").message == "Missing required field Principal"
    parsed = parse_policy(policy(RESOURCE), "resource")
    principals = parsed.statements[0].principals
    assert principals is not None and principals.aws == ("arn:aws:iam::111122223333:user/bob",)


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": ["111122223333", "arn:aws:iam::444455556666:root"]},
        {"Service": "lambda.amazonaws.com"},
    ],
)
def test_principal_forms(principal: Any) -> None:
    parse_policy(policy({**ALLOW, "Principal": principal}), "resource")


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"AWS": "bob"}, 'Invalid principal in policy: "AWS":"bob"'),
        ({"Alien": "x"}, "Invalid principal in policy: Alien"),
        ({}, "Invalid principal in policy"),
        ("bob", "Invalid principal in policy"),
    ],
)
def test_malformed_principals(principal: Any, message: str) -> None:
    assert refused(policy({**ALLOW, "Principal": principal}), "resource").message == message


def test_principal_and_not_principal_together_are_refused() -> None:
    statement = {**ALLOW, "Principal": "*", "NotPrincipal": {"AWS": "111122223333"}}
    assert (
        refused(policy(statement), "resource").message
        == "Statement can not have both Principal and NotPrincipal."
    )
