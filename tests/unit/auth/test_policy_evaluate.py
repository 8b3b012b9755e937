"""Policy evaluation: wildcards, conditions, variables, identity + resource policies, and the reasons."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.auth.credentials import Principal
from headwater.auth.policy import Reason, ResourcePolicy, evaluate, parse_policy
from headwater.auth.policy.context import ContextValue
from headwater.errors import AccessDeniedException

from .signing import ALICE, WORKER

TABLE = "arn:aws:dynamodb:us-east-1:111122223333:table/Music"
INDEX = TABLE + "/index/ByArtist"
STREAM = TABLE + "/stream/2024-02-12T18:57:26.492"
OTHER_ACCOUNT = "444455556666"
BOB = Principal(
    kind="user",
    account_id=OTHER_ACCOUNT,
    name="bob",
    arn=f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob",
    principal_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob",
    user_id="AIDABOBBOBBOBBOBBOB22",
)


def statement(
    effect: str = "Allow", action: Any = "dynamodb:GetItem", resource: Any = TABLE, **extra: Any
) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def who(principal: Principal, *statements: dict[str, Any]) -> Principal:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return dataclasses.replace(principal, policies=(parse_policy(document),))


def allowed(
    principal: Principal,
    action: str = "dynamodb:GetItem",
    resource: str = TABLE,
    context: dict[str, ContextValue] | None = None,
    resource_policy: ResourcePolicy | None = None,
) -> bool:
    return evaluate(principal, action, resource, context or {}, resource_policy).allowed


# --- actions and resources


@pytest.mark.parametrize(
    ("pattern", "action", "hit"),
    [
        ("dynamodb:GetItem", "dynamodb:GetItem", True),
        ("DynamoDB:getitem", "dynamodb:GetItem", True),
        ("dynamodb:Get*", "dynamodb:GetRecords", True),
        ("dynamodb:Get*", "dynamodb:PutItem", False),
        ("dynamodb:?etItem", "dynamodb:GetItem", True),
        ("dynamodb:*", "lambda:InvokeFunction", False),
        ("*", "lambda:InvokeFunction", True),
    ],
)
def test_action_wildcards_are_case_insensitive(pattern: str, action: str, hit: bool) -> None:
    assert allowed(who(ALICE, statement(action=pattern, resource="*")), action) is hit


@pytest.mark.parametrize(
    ("pattern", "resource", "hit"),
    [
        (TABLE, TABLE, True),
        (TABLE.replace("Music", "music"), TABLE, False),
        ("arn:aws:dynamodb:*:*:table/Music", TABLE, True),
        ("arn:aws:dynamodb:us-east-1:111122223333:table/Mus?c", TABLE, True),
        ("arn:aws:dynamodb:us-east-1:111122223333:table/Music", INDEX, False),
        ("arn:aws:dynamodb:us-east-1:111122223333:table/Music/index/*", INDEX, True),
        ("arn:aws:dynamodb:us-east-1:111122223333:table/Music/*", STREAM, True),
        ("arn:aws:dynamodb:us-east-1:111122223333:table/Music/stream/*", STREAM, True),
        ("arn:aws:dynamodb:*:111122223333:*", TABLE, True),
        (TABLE + "/*", TABLE + "/a:b", True),  # the resource field keeps its colons
        ("arn:aws:dynamodb:us-east-1:111122223333:*/Music", TABLE, True),
        ("arn:aws:dynamodb:us-east-1:111122223333:index/*", INDEX, False),
        ("arn:aws:dynamodb:us-*:*:*", TABLE, True),
        ("arn:aws:*:us-east-1:111122223333:table/Music", TABLE, True),
        ("*", STREAM, True),
    ],
)
def test_resource_arns_match_field_by_field_and_case_sensitively(
    pattern: str, resource: str, hit: bool
) -> None:
    assert allowed(who(ALICE, statement(resource=pattern)), resource=resource) is hit


def test_not_action_and_not_resource() -> None:
    principal = who(ALICE, {"Effect": "Allow", "NotAction": "dynamodb:Delete*", "NotResource": INDEX})
    assert allowed(principal, "dynamodb:PutItem")
    assert not allowed(principal, "dynamodb:DeleteItem")
    assert not allowed(principal, "dynamodb:Query", INDEX)


# --- explicit deny, implicit deny, and the messages


def test_no_policy_is_an_implicit_deny_with_aws_message() -> None:
    decision = evaluate(ALICE, "dynamodb:GetRecords", STREAM, {})
    assert not decision.allowed and decision.reason is Reason.NO_IDENTITY_ALLOW
    assert decision.message == (
        f"User: {ALICE.arn} is not authorized to perform: dynamodb:GetRecords on resource: {STREAM} "
        "because no identity-based policy allows the dynamodb:GetRecords action"
    )
    with pytest.raises(AccessDeniedException) as caught:
        decision.raise_if_denied()
    assert caught.value.message == decision.message


def test_an_explicit_deny_wins_over_an_allow() -> None:
    principal = who(ALICE, statement(action="dynamodb:*"), statement("Deny", "dynamodb:GetItem"))
    decision = evaluate(principal, "dynamodb:GetItem", TABLE, {})
    assert not decision.allowed and decision.reason is Reason.IDENTITY_DENY
    assert decision.message.endswith(
        f"on resource: {TABLE} with an explicit deny in an identity-based policy"
    )
    assert allowed(principal, "dynamodb:PutItem")


def test_a_role_session_is_named_by_its_session_arn() -> None:
    decision = evaluate(WORKER, "dynamodb:GetItem", TABLE, {})
    assert decision.message.startswith(f"User: {WORKER.arn} is not authorized")


# --- resource-based policies


def resource_policy(*statements: dict[str, Any], owner: str = "111122223333") -> ResourcePolicy:
    return ResourcePolicy(
        parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, "resource"), owner
    )


def test_same_account_a_resource_policy_alone_allows() -> None:
    grant = resource_policy(statement(Principal={"AWS": ALICE.arn}))
    assert allowed(ALICE, resource_policy=grant)
    assert not allowed(ALICE, "dynamodb:PutItem", resource_policy=grant)


def test_cross_account_needs_both_policies() -> None:
    grant = resource_policy(
        statement(action="dynamodb:GetRecords", resource=STREAM, Principal={"AWS": OTHER_ACCOUNT})
    )
    identity = who(BOB, statement(action="dynamodb:GetRecords", resource=STREAM))
    assert allowed(identity, "dynamodb:GetRecords", STREAM, resource_policy=grant)
    no_identity = evaluate(BOB, "dynamodb:GetRecords", STREAM, {}, grant)
    assert no_identity.reason is Reason.NO_IDENTITY_ALLOW
    no_resource = evaluate(identity, "dynamodb:GetRecords", STREAM, {})
    assert not no_resource.allowed and no_resource.reason is Reason.NO_RESOURCE_ALLOW
    assert no_resource.message.endswith(
        "because no resource-based policy allows the dynamodb:GetRecords action"
    )


def test_a_resource_policy_deny_is_named_as_such() -> None:
    deny = resource_policy(statement("Deny", Principal="*"), statement(Principal={"AWS": ALICE.arn}))
    decision = evaluate(who(ALICE, statement()), "dynamodb:GetItem", TABLE, {}, deny)
    assert decision.reason is Reason.RESOURCE_DENY
    assert decision.message.endswith("with an explicit deny in a resource-based policy")


@pytest.mark.parametrize(
    ("named", "hit"),
    [
        ("111122223333", True),
        ("arn:aws:iam::111122223333:root", True),
        ("arn:aws:iam::111122223333:role/worker", True),
        ("arn:aws:sts::111122223333:assumed-role/worker/session-1", True),
        ("arn:aws:iam::111122223333:role/other", False),
        (OTHER_ACCOUNT, False),
    ],
)
def test_resource_policy_principals_name_accounts_roles_and_sessions(named: str, hit: bool) -> None:
    grant = resource_policy(statement(Principal={"AWS": named}))
    assert allowed(WORKER, resource_policy=grant) is hit


def test_not_principal_applies_to_everyone_else() -> None:
    deny_others = resource_policy(
        statement("Deny", NotPrincipal={"AWS": ALICE.arn}), statement(Principal="*")
    )
    assert allowed(ALICE, resource_policy=deny_others)
    assert not allowed(WORKER, resource_policy=deny_others)


# --- conditions


def conditioned(condition: dict[str, Any]) -> Principal:
    return who(ALICE, statement(Condition=condition))


@pytest.mark.parametrize(
    ("condition", "context", "hit"),
    [
        ({"StringEquals": {"k:a": "x"}}, {"k:a": "x"}, True),
        ({"StringEquals": {"k:a": "x"}}, {"K:A": "x"}, True),  # keys are case-insensitive
        ({"StringEquals": {"k:a": "x"}}, {"k:a": "X"}, False),
        ({"StringEquals": {"k:a": "x"}}, {}, False),
        ({"StringEquals": {"k:a": ["x", "y"]}}, {"k:a": "y"}, True),  # values OR
        ({"StringEquals": {"k:a": "x", "k:b": "y"}}, {"k:a": "x", "k:b": "z"}, False),  # keys AND
        ({"StringEquals": {"k:a": "x"}, "StringLike": {"k:b": "y*"}}, {"k:a": "x", "k:b": "yes"}, True),
        ({"StringNotEquals": {"k:a": ["x", "y"]}}, {"k:a": "y"}, False),  # negated: none may match
        ({"StringNotEquals": {"k:a": ["x", "y"]}}, {"k:a": "z"}, True),
        ({"StringNotEquals": {"k:a": "x"}}, {}, True),  # negated on an absent key
        ({"StringEqualsIgnoreCase": {"k:a": "ABC"}}, {"k:a": "abc"}, True),
        ({"StringNotEqualsIgnoreCase": {"k:a": "ABC"}}, {"k:a": "abc"}, False),
        ({"StringLike": {"k:a": "a*c?"}}, {"k:a": "abbbcd"}, True),
        ({"StringLike": {"k:a": "a*c?"}}, {"k:a": "abbbc"}, False),
        ({"StringNotLike": {"k:a": "a*"}}, {"k:a": "bat"}, True),
        ({"StringEqualsIfExists": {"k:a": "x"}}, {}, True),
        ({"StringEqualsIfExists": {"k:a": "x"}}, {"k:a": "y"}, False),
        ({"NumericLessThan": {"k:n": 10}}, {"k:n": "9.5"}, True),
        ({"NumericLessThan": {"k:n": "10"}}, {"k:n": "10"}, False),
        ({"NumericLessThanEquals": {"k:n": "10"}}, {"k:n": "10"}, True),
        ({"NumericGreaterThan": {"k:n": "-1"}}, {"k:n": "0"}, True),
        ({"NumericGreaterThanEquals": {"k:n": "1E2"}}, {"k:n": "100"}, True),
        ({"NumericEquals": {"k:n": "1"}}, {"k:n": "1.0"}, True),
        ({"NumericNotEquals": {"k:n": "1"}}, {"k:n": "2"}, True),
        ({"NumericEquals": {"k:n": "1"}}, {"k:n": "one"}, False),
        (
            {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2024-05-01T12:00:00Z"},
            True,
        ),
        (
            {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01"}},
            {"aws:CurrentTime": "2024-05-01T12:00:00Z"},
            False,
        ),
        ({"DateEquals": {"aws:EpochTime": "1700000000"}}, {"aws:EpochTime": "2023-11-14T22:13:20Z"}, True),
        ({"DateNotEquals": {"k:d": "2020-01-01T00:00:00Z"}}, {"k:d": "2020-01-01T00:00:01Z"}, True),
        ({"DateLessThanEquals": {"k:d": "2020-01-01T00:00:00+01:00"}}, {"k:d": "2019-12-31T23:00:00Z"}, True),
        ({"DateGreaterThanEquals": {"k:d": "20200101T000000Z"}}, {"k:d": "2020-01-01T00:00:00Z"}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "TRUE"}, True),
        ({"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "true"}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, {}, False),
        ({"BinaryEquals": {"k:b": "QmluYXJ5"}}, {"k:b": "QmluYXJ5"}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, True),
        (
            {"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "2001:db8::/32"]}},
            {"aws:SourceIp": "2001:db8::1"},
            True,
        ),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.0.0.1"}, False),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.1"}}, {"aws:SourceIp": "10.0.0.1"}, True),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.0.0.1"}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "not-an-ip"}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/al*"}}, {"aws:PrincipalArn": ALICE.arn}, True),
        ({"ArnEquals": {"aws:PrincipalArn": ALICE.arn}}, {"aws:PrincipalArn": ALICE.arn}, True),
        (
            {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
            {"aws:PrincipalArn": ALICE.arn},
            True,
        ),
        ({"ArnNotEquals": {"aws:PrincipalArn": ALICE.arn}}, {"aws:PrincipalArn": ALICE.arn}, False),
        ({"Null": {"k:a": "true"}}, {}, True),
        ({"Null": {"k:a": "true"}}, {"k:a": "x"}, False),
        ({"Null": {"k:a": "false"}}, {"k:a": "x"}, True),
        ({"Null": {"k:a": "true"}}, {"k:a": ()}, True),
    ],
)
def test_condition_operators(condition: dict[str, Any], context: dict[str, ContextValue], hit: bool) -> None:
    assert allowed(conditioned(condition), context=context) is hit


LEADING = "dynamodb:LeadingKeys"


@pytest.mark.parametrize(
    ("condition", "values", "hit"),
    [
        ({"ForAllValues:StringEquals": {LEADING: ["a", "b"]}}, ("a", "b", "a"), True),
        ({"ForAllValues:StringEquals": {LEADING: ["a", "b"]}}, ("a", "c"), False),
        ({"ForAllValues:StringEquals": {LEADING: ["a"]}}, (), True),  # vacuously
        ({"ForAllValues:StringEquals": {LEADING: ["a"]}}, None, True),
        ({"ForAnyValue:StringEquals": {LEADING: ["a"]}}, ("c", "a"), True),
        ({"ForAnyValue:StringEquals": {LEADING: ["a"]}}, ("c",), False),
        ({"ForAnyValue:StringEquals": {LEADING: ["a"]}}, (), False),
        ({"ForAnyValue:StringEquals": {LEADING: ["a"]}}, None, False),
        ({"ForAllValues:StringNotEquals": {LEADING: ["a"]}}, ("b", "c"), True),
        ({"ForAllValues:StringNotEquals": {LEADING: ["a"]}}, ("b", "a"), False),
        ({"ForAnyValue:StringNotLike": {LEADING: ["a*"]}}, ("ab", "b"), True),
        ({"ForAnyValue:StringEqualsIfExists": {LEADING: ["a"]}}, None, True),
        ({"StringEquals": {LEADING: "a"}}, ("b", "a"), True),  # a multi-valued key without a set prefix
    ],
)
def test_set_operators_on_multi_valued_keys(
    condition: dict[str, Any], values: tuple[str, ...] | None, hit: bool
) -> None:
    assert allowed(conditioned(condition), context={LEADING: values}) is hit


# --- policy variables


def test_variables_in_resources_and_conditions() -> None:
    principal = who(
        ALICE,
        statement(
            resource="arn:aws:dynamodb:*:*:table/${aws:username}-*",
            Condition={"ForAllValues:StringEquals": {LEADING: ["${aws:userid}"]}},
        ),
    )
    context: dict[str, ContextValue] = {"aws:username": "alice", "aws:userid": ALICE.user_id}
    mine = "arn:aws:dynamodb:us-east-1:111122223333:table/alice-data"
    assert allowed(principal, resource=mine, context={**context, LEADING: (ALICE.user_id,)})
    assert not allowed(principal, resource=mine, context={**context, LEADING: ("someone-else",)})
    assert not allowed(principal, resource=mine.replace("alice", "bob"), context=context)


def test_an_unresolved_variable_matches_nothing_unless_it_has_a_default() -> None:
    resource = "arn:aws:dynamodb:*:*:table/${aws:username}"
    assert not allowed(who(WORKER, statement(resource=resource)), resource=TABLE)
    with_default = "arn:aws:dynamodb:*:*:table/${aws:username, 'Music'}"
    assert allowed(who(WORKER, statement(resource=with_default)), resource=TABLE)


def test_substituted_text_is_literal_and_escapes_stand_for_wildcard_characters() -> None:
    principal = who(ALICE, statement(resource="arn:aws:dynamodb:*:*:table/${aws:username}"))
    assert not allowed(principal, resource=TABLE, context={"aws:username": "*"})
    assert allowed(principal, resource=TABLE.replace("Music", "*"), context={"aws:username": "*"})
    star = who(ALICE, statement(resource="arn:aws:dynamodb:*:*:table/a${*}b"))
    assert allowed(star, resource=TABLE.replace("Music", "a*b"))
    assert not allowed(star, resource=TABLE.replace("Music", "axxb"))


def test_variables_are_literal_text_in_a_2008_policy() -> None:
    document = {
        "Version": "2008-10-17",
        "Statement": [statement(resource="arn:aws:dynamodb:*:*:table/${aws:username}")],
    }
    principal = dataclasses.replace(ALICE, policies=(parse_policy(document),))
    assert not allowed(principal, resource=TABLE.replace("Music", "alice"), context={"aws:username": "alice"})
    assert allowed(
        principal, resource=TABLE.replace("Music", "${aws:username}"), context={"aws:username": "alice"}
    )


# --- properties

ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetRecords"]
RESOURCES = [TABLE, INDEX, STREAM, "arn:aws:dynamodb:us-east-1:111122223333:table/Other"]
PATTERNS = ["*", "dynamodb:*", "dynamodb:Get*", *ACTIONS]
RESOURCE_PATTERNS = ["*", TABLE, TABLE + "/*", "arn:aws:dynamodb:*:*:table/O*", INDEX]
CONDITIONS = [
    None,
    {"StringEquals": {"k:a": "x"}},
    {"StringNotEquals": {"k:a": "x"}},
    {"ForAllValues:StringEquals": {LEADING: ["p1", "p2"]}},
    {"Bool": {"aws:SecureTransport": "true"}},
]

statements = st.builds(
    lambda effect, action, resource, condition: {
        "Effect": effect,
        "Action": action,
        "Resource": resource,
        **({"Condition": condition} if condition else {}),
    },
    st.sampled_from(["Allow", "Deny"]),
    st.sampled_from(PATTERNS),
    st.sampled_from(RESOURCE_PATTERNS),
    st.sampled_from(CONDITIONS),
)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "k:a": st.sampled_from(["x", "y"]),
        LEADING: st.lists(st.sampled_from(["p1", "p2", "p3"]), max_size=3).map(tuple),
        "aws:SecureTransport": st.sampled_from(["true", "false"]),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(statements, min_size=1, max_size=5),
    statements,
    st.sampled_from(ACTIONS),
    st.sampled_from(RESOURCES),
    contexts,
)
def test_adding_a_deny_never_turns_a_denial_into_an_allow(
    existing: list[dict[str, Any]],
    extra: dict[str, Any],
    action: str,
    resource: str,
    context: dict[str, ContextValue],
) -> None:
    before = allowed(who(ALICE, *existing), action, resource, context)
    after = allowed(who(ALICE, *existing, {**extra, "Effect": "Deny"}), action, resource, context)
    assert not after or before


@settings(max_examples=300, deadline=None)
@given(
    st.lists(statements, min_size=1, max_size=6),
    st.randoms(use_true_random=False),
    st.sampled_from(ACTIONS),
    st.sampled_from(RESOURCES),
    contexts,
)
def test_statement_order_never_matters(
    existing: list[dict[str, Any]], random: Any, action: str, resource: str, context: dict[str, ContextValue]
) -> None:
    shuffled = list(existing)
    random.shuffle(shuffled)
    first = evaluate(who(ALICE, *existing), action, resource, context)
    second = evaluate(who(ALICE, *shuffled), action, resource, context)
    assert (first.allowed, first.reason) == (second.allowed, second.reason)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(statements, min_size=1, max_size=5),
    st.sampled_from(ACTIONS),
    st.sampled_from(RESOURCES),
    contexts,
)
def test_an_allow_requires_some_allow_statement_to_apply(
    existing: list[dict[str, Any]], action: str, resource: str, context: dict[str, ContextValue]
) -> None:
    only_denies = [{**s, "Effect": "Deny"} for s in existing]
    assert not allowed(who(ALICE, *only_denies), action, resource, context)
