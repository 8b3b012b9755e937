"""Principals and their access keys: what SigV4 verification looks a key up in, and what it returns.

Secrets are wrapped in `Secret`, whose repr and str never show the value, so a principal or a key can be
logged, printed or put in an exception without leaking it. Only `Secret.reveal()` hands the text out, and
the one caller that needs it is the signature check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from headwater.auth.policy.document import Policy

# AWS's key id alphabet: upper-case letters and the digits 2-7 (base32), after a four-letter prefix.
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

PrincipalKind = Literal["user", "role"]


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret string that does not show itself in repr, str, logs or tracebacks."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified request acts as.

    `arn` is the caller as AWS names it in error messages (a user ARN, or for a role session
    `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`); `principal_arn` is the IAM entity behind it
    (`aws:PrincipalArn`: the user, or the role ARN), which resource-based policies name.
    """

    kind: PrincipalKind
    account_id: str
    name: str
    arn: str
    principal_arn: str
    user_id: str
    policies: tuple[Policy, ...] = ()

    @property
    def username(self) -> str | None:
        """`aws:username`: present for IAM users only."""
        return self.name if self.kind == "user" else None


@dataclass(frozen=True, slots=True)
class AccessKey:
    """One access key id, its secret, and the principal it signs as.

    Temporary credentials carry a session token (which the request must present as
    `X-Amz-Security-Token`) and an expiry in epoch seconds.
    """

    access_key_id: str
    secret: Secret
    principal: Principal
    session_token: Secret | None = None
    expires_at: float | None = None

    @property
    def temporary(self) -> bool:
        return self.session_token is not None


class CredentialStore(Protocol):
    """Where verification finds the key a request names."""

    def access_key(self, access_key_id: str) -> AccessKey | None: ...


@dataclass(frozen=True, slots=True)
class KeyRing:
    """An immutable CredentialStore over a fixed set of keys (what the auth config file produces)."""

    keys: dict[str, AccessKey]

    @classmethod
    def of(cls, keys: list[AccessKey] | tuple[AccessKey, ...]) -> KeyRing:
        return cls({key.access_key_id: key for key in keys})

    def access_key(self, access_key_id: str) -> AccessKey | None:
        return self.keys.get(access_key_id)


def user_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{name}"


def role_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def assumed_role_arn(account_id: str, role: str, session: str) -> str:
    return f"arn:aws:sts::{account_id}:assumed-role/{role}/{session}"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_access_key_id(temporary: bool = False) -> str:
    """AKIA... for long-term keys, ASIA... for temporary ones (20 characters, as AWS's)."""
    return ("ASIA" if temporary else "AKIA") + _random(_ID_ALPHABET, 16)


def new_secret_access_key() -> str:
    """40 characters from 240 random bits, in the alphabet AWS's secrets use."""
    return _random(_SECRET_ALPHABET, 40)


def new_unique_id(kind: PrincipalKind) -> str:
    """A user's AIDA... or a role's AROA... id (`aws:userid`), 21 characters."""
    return ("AIDA" if kind == "user" else "AROA") + _random(_ID_ALPHABET, 17)
