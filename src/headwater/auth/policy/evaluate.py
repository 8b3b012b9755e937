"""Policy evaluation as AWS documents it, for one (principal, action, resource, context).

1. An explicit Deny in any applicable policy (identity-based, or the resource's policy for a statement
   naming this principal) denies.
2. Same account: an Allow in the identity-based policies OR in the resource-based policy allows.
3. Cross-account: the resource-based policy must allow AND the principal's own identity-based
   policies must allow.
4. Otherwise the request is implicitly denied.

The decision carries why, so the caller can answer AWS's AccessDeniedException message.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from headwater.auth.credentials import Principal
from headwater.auth.policy import variables, wildcards
from headwater.auth.policy.context import ContextValue, normalize
from headwater.auth.policy.document import Policy, Principals, Statement
from headwater.errors import AccessDeniedException


class Reason(enum.Enum):
    ALLOWED = "allowed"
    IDENTITY_DENY = "with an explicit deny in an identity-based policy"
    RESOURCE_DENY = "with an explicit deny in a resource-based policy"
    NO_IDENTITY_ALLOW = "because no identity-based policy allows the {action} action"
    NO_RESOURCE_ALLOW = "because no resource-based policy allows the {action} action"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    principal_arn: str
    action: str
    resource: str

    @property
    def message(self) -> str:
        """AWS's AccessDeniedException message for a denial."""
        because = self.reason.value.format(action=self.action)
        return (
            f"User: {self.principal_arn} is not authorized to perform: {self.action} "
            f"on resource: {self.resource} {because}"
        )

    def raise_if_denied(self) -> None:
        if not self.allowed:
            raise AccessDeniedException(self.message)


@dataclass(frozen=True, slots=True)
class ResourcePolicy:
    """A resource-based policy and the account that owns the resource it is attached to."""

    policy: Policy
    owner_account: str


def evaluate(
    principal: Principal,
    action: str,
    resource: str,
    context: Mapping[str, ContextValue],
    resource_policy: ResourcePolicy | None = None,
    resource_account: str | None = None,
) -> Decision:
    """Decide one request. `resource_account` is the resource's owner (defaults to the ARN's account)."""
    ctx = _Lowered(context)
    owner = resource_policy.owner_account if resource_policy is not None else resource_account
    if owner is None:
        fields = wildcards.split_arn(resource)
        owner = fields[4] if fields is not None and fields[4] else principal.account_id
    identity_effects = _effects(principal.policies, None, principal, action, resource, ctx)
    resource_effects = (
        _effects((resource_policy.policy,), principal, principal, action, resource, ctx)
        if resource_policy is not None
        else set()
    )

    def decision(allowed: bool, reason: Reason) -> Decision:
        return Decision(allowed, reason, principal.arn, action, resource)

    if "Deny" in identity_effects:
        return decision(False, Reason.IDENTITY_DENY)
    if "Deny" in resource_effects:
        return decision(False, Reason.RESOURCE_DENY)
    identity_allows = "Allow" in identity_effects
    resource_allows = "Allow" in resource_effects
    if owner == principal.account_id:
        if identity_allows or resource_allows:
            return decision(True, Reason.ALLOWED)
        return decision(False, Reason.NO_IDENTITY_ALLOW)
    if not resource_allows:
        return decision(False, Reason.NO_RESOURCE_ALLOW)
    if not identity_allows:
        return decision(False, Reason.NO_IDENTITY_ALLOW)
    return decision(True, Reason.ALLOWED)


class _Lowered(Mapping[str, ContextValue]):
    """The context with lower-case keys, made on first use: most statements (no condition, no policy
    variable) never look a key up."""

    __slots__ = ("_lowered", "_raw")

    def __init__(self, raw: Mapping[str, ContextValue]) -> None:
        self._raw = raw
        self._lowered: dict[str, ContextValue] | None = None

    def _keys(self) -> dict[str, ContextValue]:
        if self._lowered is None:
            self._lowered = normalize(self._raw)
        return self._lowered

    def __getitem__(self, key: str) -> ContextValue:
        return self._keys()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._raw)


def _effects(
    policies: Iterable[Policy],
    named: Principal | None,
    principal: Principal,
    action: str,
    resource: str,
    context: Mapping[str, ContextValue],
) -> set[str]:
    """The effects of every statement that applies; `named` checks Principal elements (resource policies)."""
    effects: set[str] = set()
    for policy in policies:
        for statement in policy.statements:
            if statement.effect in effects:
                continue
            if named is not None and not _principal_applies(statement, named):
                continue
            if applies(statement, action, resource, context, policy.variables):
                effects.add(statement.effect)
    return effects


def applies(
    statement: Statement,
    action: str,
    resource: str,
    context: Mapping[str, ContextValue],
    substitute: bool = True,
) -> bool:
    """Whether a statement's Action, Resource and Condition all match the request."""
    action_hit = any(wildcards.action_matches(pattern, action) for pattern in statement.actions)
    if action_hit == statement.not_actions:
        return False
    resource_hit = False
    for pattern in statement.resources:
        resolved = variables.resolve(pattern, context, substitute)
        if resolved is not None and wildcards.arn_matches(resolved, resource):
            resource_hit = True
            break
    if resource_hit == statement.not_resources:
        return False
    return all(condition.holds(context, substitute) for condition in statement.conditions)


def _principal_applies(statement: Statement, principal: Principal) -> bool:
    listed = statement.principals
    if listed is None:
        return False
    hit = _names(listed, principal)
    return not hit if statement.not_principals else hit


def _names(listed: Principals, principal: Principal) -> bool:
    """Whether a Principal element names this caller: `*`, its account (id or `:root`), the user or role
    ARN, or the role session ARN."""
    if listed.everyone:
        return True
    account_root = f"arn:aws:iam::{principal.account_id}:root"
    for name in listed.aws:
        if name in (principal.account_id, account_root, principal.principal_arn, principal.arn):
            return True
    return False
