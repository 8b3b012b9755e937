"""The auth config file (`--auth-config headwater-auth.toml`, or HEADWATER_AUTH_CONFIG): accounts, users
with their access keys, roles, temporary credentials, and the identity policies each carries.

```toml
[[accounts]]
id = "111122223333"
name = "dev"

[[users]]
name = "alice"
account = "111122223333"
policies = ["policies/stream-reader.json"]       # a file (relative to this one) or inline JSON text
access_keys = [{ id = "AKIA...", secret = "..." }]

[[roles]]
name = "orders-trigger"                          # arn:aws:iam::111122223333:role/orders-trigger
account = "111122223333"
policies = ['{"Version": "2012-10-17", "Statement": [...]}']

[[temporary_credentials]]
access_key_id = "ASIA..."
secret = "..."
session_token = "..."
expires = 2030-01-01T00:00:00Z
role = "orders-trigger"                          # or user = "alice"
account = "111122223333"
session = "ci"
```

The file holds secrets in the clear because SigV4 verification needs them (see sigv4.py), so it is
treated like an ssh private key: written 0600, and refused when group- or world-readable unless the
operator says so explicitly. Loading yields a frozen, validated `AuthConfig`; every mistake is reported
with the file and the key that holds it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from headwater.auth.credentials import (
    AccessKey,
    KeyRing,
    Principal,
    PrincipalKind,
    Secret,
    assumed_role_arn,
    role_arn,
    user_arn,
)
from headwater.auth.policy import Policy, PolicyError, parse_policy

DEFAULT_PATH = "headwater-auth.toml"
ENV_VAR = "HEADWATER_AUTH_CONFIG"
_ACCOUNT = re.compile(r"\d{12}")
_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_SESSION = re.compile(r"[\w+=,.@-]{2,64}")
MIN_SECRET_LENGTH = 16
DEFAULT_SESSION = "headwater"
ROLE_SESSION = "lambda"  # the session name of the credentials a role's functions run with


class AuthConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class PolicySource:
    """An attached policy: `entry` as the file gives it (a path, or inline JSON), and its parsed form."""

    entry: str
    policy: Policy = field(compare=False)


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class KeyPair:
    id: str
    secret: Secret


@dataclass(frozen=True, slots=True)
class User:
    name: str
    account: str
    policies: tuple[PolicySource, ...] = ()
    access_keys: tuple[KeyPair, ...] = ()

    @property
    def arn(self) -> str:
        return user_arn(self.account, self.name)

    def principal(self) -> Principal:
        return Principal(
            kind="user",
            account_id=self.account,
            name=self.name,
            arn=self.arn,
            principal_arn=self.arn,
            user_id=unique_id("user", self.account, self.name),
            policies=tuple(p.policy for p in self.policies),
        )


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    account: str
    policies: tuple[PolicySource, ...] = ()

    @property
    def arn(self) -> str:
        return role_arn(self.account, self.name)

    def session(self, session_name: str = DEFAULT_SESSION) -> Principal:
        """The principal a Lambda function or mapping (or temporary credentials) acts as."""
        return Principal(
            kind="role",
            account_id=self.account,
            name=self.name,
            arn=assumed_role_arn(self.account, self.name, session_name),
            principal_arn=self.arn,
            user_id=f"{unique_id('role', self.account, self.name)}:{session_name}",
            policies=tuple(p.policy for p in self.policies),
        )


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    access_key_id: str
    secret: Secret
    session_token: Secret
    expires_at: float | None
    account: str
    user: str | None = None
    role: str | None = None
    session: str = DEFAULT_SESSION


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Everything the file says, validated."""

    accounts: tuple[Account, ...] = ()
    users: tuple[User, ...] = ()
    roles: tuple[Role, ...] = ()
    temporary: tuple[TemporaryCredentials, ...] = ()

    def key_ring(self) -> KeyRing:
        """Every access key (long-term and temporary, the roles' own included) with its principal."""
        keys = [
            AccessKey(pair.id, pair.secret, user.principal())
            for user in self.users
            for pair in user.access_keys
        ]
        keys.extend(key for key in map(self.role_key, self.roles) if key is not None)
        for temp in self.temporary:
            principal = (
                self.user(temp.account, temp.user).principal()
                if temp.user is not None
                else self.role(temp.account, temp.role or "").session(temp.session)
            )
            keys.append(
                AccessKey(temp.access_key_id, temp.secret, principal, temp.session_token, temp.expires_at)
            )
        return KeyRing.of(keys)

    def user(self, account: str, name: str) -> User:
        return next(u for u in self.users if (u.account, u.name) == (account, name))

    def role(self, account: str, name: str) -> Role:
        return next(r for r in self.roles if (r.account, r.name) == (account, name))

    def role_by_arn(self, arn: str) -> Role | None:
        """The configured role a function's `Role` ARN names, or None."""
        return next((r for r in self.roles if r.arn == arn), None)

    def role_key(self, role: Role) -> AccessKey | None:
        """The temporary credentials a role's functions run with (as Lambda gives a function its role's),
        derived from the file's secrets: the same in every process of the server, unknown to whoever
        does not hold the file, and valid for as long as the file's keys are (None: it holds none)."""
        secrets_ = [k.secret.reveal() for u in self.users for k in u.access_keys]
        secrets_ += [t.secret.reveal() for t in self.temporary]
        if not secrets_:
            return None
        material = hashlib.sha256("\n".join(sorted(secrets_)).encode()).digest()

        def derived(purpose: str) -> bytes:
            return hmac.digest(material, f"{purpose}:{role.arn}".encode(), "sha256")

        key_id = "ASIA" + base64.b32encode(derived("id")).decode()[:16]
        secret = base64.b64encode(derived("secret")).decode()[:40]
        token = base64.b64encode(derived("token") + derived("token2")).decode()
        return AccessKey(key_id, Secret(secret), role.session(ROLE_SESSION), Secret(token))


def unique_id(kind: PrincipalKind, account: str, name: str) -> str:
    """A stable AIDA.../AROA... id (`aws:userid`) derived from the entity, so the file need not hold it."""
    digest = base64.b32encode(hashlib.sha256(f"{kind}:{account}:{name}".encode()).digest()).decode()
    return ("AIDA" if kind == "user" else "AROA") + digest[:17]


# --- loading


def load(path: Path, *, allow_insecure: bool = False) -> AuthConfig:
    """Read and validate the config file; refuse one that others can read (unless told to allow it)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AuthConfigError(f"{path}: no such auth config file") from None
    if os.name == "posix" and info.st_mode & 0o077 and not allow_insecure:
        raise AuthConfigError(
            f"{path}: UNPROTECTED AUTH CONFIG FILE: its mode is {stat.filemode(info.st_mode)} but it holds "
            f"secret access keys; it must be readable by its owner only. Run `chmod 600 {path}` "
            "(or pass --allow-insecure-auth-config to use it anyway)."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise AuthConfigError(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AuthConfigError(f"{path}: cannot read: {err}") from None
    return parse(data, path.parent, str(path))


def parse(data: Mapping[str, Any], base: Path, origin: str = "auth config") -> AuthConfig:
    """Validate decoded TOML; `base` is where relative policy paths are found."""
    return _Reader(base, origin).config(data)


def policy_source(entry: str, base: Path, origin: str) -> PolicySource:
    """Read and validate one policy entry (a path relative to `base`, or inline JSON)."""
    return _Reader(base, origin).policy(entry, "policy")


class _Reader:
    def __init__(self, base: Path, origin: str) -> None:
        self.base = base
        self.origin = origin

    def fail(self, where: str, message: str) -> AuthConfigError:
        return AuthConfigError(f"{self.origin}: {where}: {message}")

    def config(self, data: Mapping[str, Any]) -> AuthConfig:
        unknown = set(data) - {"accounts", "users", "roles", "temporary_credentials"}
        if unknown:
            raise self.fail(
                sorted(unknown)[0], "unknown key (expected accounts, users, roles, temporary_credentials)"
            )
        accounts = tuple(
            self.account(t, f"accounts[{i}]") for i, t in enumerate(self.tables(data, "accounts"))
        )
        self.unique([a.id for a in accounts], "accounts", "account id")
        declared = {a.id for a in accounts}
        users = tuple(self.user(t, f"users[{i}]", declared) for i, t in enumerate(self.tables(data, "users")))
        roles = tuple(self.role(t, f"roles[{i}]", declared) for i, t in enumerate(self.tables(data, "roles")))
        self.unique([(u.account, u.name) for u in users], "users", "user name in its account")
        self.unique([(r.account, r.name) for r in roles], "roles", "role name in its account")
        temporary = tuple(
            self.temporary(t, f"temporary_credentials[{i}]", users, roles)
            for i, t in enumerate(self.tables(data, "temporary_credentials"))
        )
        key_ids = [k.id for u in users for k in u.access_keys] + [t.access_key_id for t in temporary]
        self.unique(key_ids, "access keys", "access key id")
        return AuthConfig(accounts, users, roles, temporary)

    def tables(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, Mapping) for t in value):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        return value

    def unique(self, values: list[Any], where: str, what: str) -> None:
        seen: set[Any] = set()
        for value in values:
            if value in seen:
                shown = "/".join(value) if isinstance(value, tuple) else value
                raise self.fail(where, f"duplicate {what}: {shown}")
            seen.add(value)

    def keys(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        unknown = set(table) - allowed
        if unknown:
            raise self.fail(
                f"{where}.{sorted(unknown)[0]}", f"unknown key (expected {', '.join(sorted(allowed))})"
            )

    def string(
        self, table: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None
    ) -> str:
        if key not in table:
            raise self.fail(where, f"missing required key '{key}'")
        value = table[key]
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", "must be a non-empty string")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(f"{where}.{key}", f"invalid value {value!r} (expected {pattern.pattern})")
        return value

    def account(self, table: Mapping[str, Any], where: str) -> Account:
        self.keys(table, where, {"id", "name"})
        name = table.get("name")
        if name is not None and not isinstance(name, str):
            raise self.fail(f"{where}.name", "must be a string")
        return Account(self.string(table, "id", where, _ACCOUNT), name)

    def account_ref(self, table: Mapping[str, Any], where: str, declared: set[str]) -> str:
        account = self.string(table, "account", where, _ACCOUNT)
        if account not in declared:
            raise self.fail(f"{where}.account", f"account {account} is not declared in [[accounts]]")
        return account

    def policies(self, table: Mapping[str, Any], where: str) -> tuple[PolicySource, ...]:
        entries = table.get("policies", [])
        if not isinstance(entries, list):
            raise self.fail(f"{where}.policies", "must be an array of policy file paths or JSON documents")
        return tuple(self.policy(entry, f"{where}.policies[{i}]") for i, entry in enumerate(entries))

    def policy(self, entry: Any, where: str) -> PolicySource:
        if not isinstance(entry, str) or not entry.strip():
            raise self.fail(where, "must be a policy file path or a JSON policy document (a string)")
        if entry.lstrip().startswith("{"):
            text = entry
        else:
            file = Path(entry).expanduser()
            file = file if file.is_absolute() else self.base / file
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise self.fail(where, f"cannot read policy file {file}: {err}") from None
        try:
            return PolicySource(entry, parse_policy(text, "identity"))
        except PolicyError as err:
            raise self.fail(where, f"invalid policy: {err}") from None

    def secret(self, table: Mapping[str, Any], key: str, where: str) -> Secret:
        value = self.string(table, key, where)
        if len(value) < MIN_SECRET_LENGTH:
            raise self.fail(f"{where}.{key}", f"too short: at least {MIN_SECRET_LENGTH} characters")
        return Secret(value)

    def user(self, table: Mapping[str, Any], where: str, declared: set[str]) -> User:
        self.keys(table, where, {"name", "account", "policies", "access_keys"})
        keys = table.get("access_keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, Mapping) for k in keys):
            raise self.fail(f"{where}.access_keys", "must be an array of tables with id and secret")
        pairs = []
        for i, key in enumerate(keys):
            at = f"{where}.access_keys[{i}]"
            self.keys(key, at, {"id", "secret"})
            pairs.append(KeyPair(self.string(key, "id", at, _KEY_ID), self.secret(key, "secret", at)))
        return User(
            self.string(table, "name", where, _NAME),
            self.account_ref(table, where, declared),
            self.policies(table, where),
            tuple(pairs),
        )

    def role(self, table: Mapping[str, Any], where: str, declared: set[str]) -> Role:
        self.keys(table, where, {"name", "account", "policies"})
        return Role(
            self.string(table, "name", where, _NAME),
            self.account_ref(table, where, declared),
            self.policies(table, where),
        )

    def temporary(
        self, table: Mapping[str, Any], where: str, users: tuple[User, ...], roles: tuple[Role, ...]
    ) -> TemporaryCredentials:
        self.keys(
            table,
            where,
            {"access_key_id", "secret", "session_token", "expires", "account", "user", "role", "session"},
        )
        account = self.string(table, "account", where, _ACCOUNT)
        user = table.get("user")
        role = table.get("role")
        if (user is None) == (role is None):
            raise self.fail(where, "exactly one of 'user' or 'role' names whom the credentials act as")
        if user is not None and not any((u.account, u.name) == (account, user) for u in users):
            raise self.fail(f"{where}.user", f"no user {user!r} in account {account}")
        if role is not None and not any((r.account, r.name) == (account, role) for r in roles):
            raise self.fail(f"{where}.role", f"no role {role!r} in account {account}")
        session = self.string(table, "session", where, _SESSION) if "session" in table else DEFAULT_SESSION
        return TemporaryCredentials(
            self.string(table, "access_key_id", where, _KEY_ID),
            self.secret(table, "secret", where),
            self.secret(table, "session_token", where),
            self.expiry(table.get("expires"), f"{where}.expires"),
            account,
            user,
            role,
            session,
        )

    def expiry(self, value: Any, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self.fail(where, f"not an ISO 8601 date-time: {value!r}") from None
        if not isinstance(value, dt.datetime):
            raise self.fail(where, "must be a date-time (2030-01-01T00:00:00Z)")
        if value.tzinfo is None:
            raise self.fail(where, "must name its time zone (end it with Z for UTC)")
        return value.timestamp()


# --- writing


def to_toml(config: AuthConfig) -> str:
    """The config as TOML text (secrets included: it is written to a 0600 file only)."""
    data: dict[str, Any] = {}
    if config.accounts:
        data["accounts"] = [{"id": a.id, **({"name": a.name} if a.name else {})} for a in config.accounts]
    if config.users:
        data["users"] = [
            {
                "name": u.name,
                "account": u.account,
                "policies": [p.entry for p in u.policies],
                "access_keys": [{"id": k.id, "secret": k.secret.reveal()} for k in u.access_keys],
            }
            for u in config.users
        ]
    if config.roles:
        data["roles"] = [
            {"name": r.name, "account": r.account, "policies": [p.entry for p in r.policies]}
            for r in config.roles
        ]
    if config.temporary:
        data["temporary_credentials"] = [_temporary_table(t) for t in config.temporary]
    return tomli_w.dumps(data)


def _temporary_table(temp: TemporaryCredentials) -> dict[str, Any]:
    table: dict[str, Any] = {
        "access_key_id": temp.access_key_id,
        "secret": temp.secret.reveal(),
        "session_token": temp.session_token.reveal(),
        "account": temp.account,
        "session": temp.session,
    }
    if temp.expires_at is not None:
        table["expires"] = dt.datetime.fromtimestamp(temp.expires_at, dt.UTC)
    table["user" if temp.user is not None else "role"] = temp.user or temp.role
    return table


def save(config: AuthConfig, path: Path) -> None:
    """Write the file atomically, created 0600 (never briefly readable by others)."""
    text = "# Headwater credentials: secret access keys in the clear. Keep this file mode 0600.\n"
    text += to_toml(config)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
