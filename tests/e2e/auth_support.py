"""A live server with `--auth sigv4` and a credentials file of the test's own: users (each with an access
key and identity policies), roles and temporary credentials; boto3 clients and the AWS CLI as any user."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import string
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from headwater.auth import config as auth_config
from tests.server import Server

ACCOUNT = "111122223333"  # the server's --account-id: the account of most test users
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-1"
AWS = str(Path(sys.executable).with_name("aws"))

Policy = Mapping[str, Any]


def allow(actions: str | Sequence[str], resources: str | Sequence[str] = "*", **extra: Any) -> Policy:
    """A one-statement identity policy."""
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}
    return {"Version": "2012-10-17", "Statement": [statement]}


def policy(*statements: Mapping[str, Any]) -> Policy:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ADMIN = allow("*")


@dataclass(frozen=True)
class Key:
    id: str
    secret: str
    token: str | None = None


def new_key(prefix: str = "AKIA") -> Key:
    alphabet = string.ascii_uppercase + "234567"
    key_id = prefix + "".join(secrets.choice(alphabet) for _ in range(16))
    return Key(key_id, secrets.token_urlsafe(30))


@dataclass
class Identity:
    """A user, a role, or temporary credentials (of a user or a role) in the credentials file."""

    name: str
    account: str = ACCOUNT
    policies: Sequence[Policy] = ()
    kind: str = "user"  # "user", "role", "temporary"
    acts_as: str = ""  # temporary: "user/NAME" or "role/NAME"
    expires: dt.datetime | None = None


@dataclass
class AuthServer:
    """A `--auth sigv4` server whose credentials file holds `identities`."""

    directory: Path
    identities: Sequence[Identity]
    extra_args: Sequence[str] = ()
    keys: dict[str, Key] = field(default_factory=dict)
    server: Server | None = None
    _clients: list[Any] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.directory / "headwater-auth.toml"

    def start(self) -> AuthServer:
        self.write_config()
        args = ("--auth", "sigv4", "--auth-config", str(self.config_path), "--account-id", ACCOUNT)
        self.server = Server(self.directory, (*args, *self.extra_args)).start()
        return self

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        if self.server is not None and self.server.process is not None:
            self.server.stop()

    @property
    def endpoint(self) -> str:
        assert self.server is not None
        return self.server.endpoint

    def write_config(self) -> None:
        data: dict[str, Any] = {"accounts": [], "users": [], "roles": [], "temporary_credentials": []}
        accounts = sorted({identity.account for identity in self.identities})
        data["accounts"] = [{"id": account} for account in accounts]
        for identity in self.identities:
            documents = [json.dumps(p) for p in identity.policies]
            entry: dict[str, Any] = {
                "name": identity.name,
                "account": identity.account,
                "policies": documents,
            }
            if identity.kind == "role":
                data["roles"].append(entry)
                continue
            if identity.kind == "user":
                key = self.keys.setdefault(identity.name, new_key())
                data["users"].append({**entry, "access_keys": [{"id": key.id, "secret": key.secret}]})
                continue
            key = self.keys.setdefault(identity.name, new_key("ASIA"))
            key = self.keys[identity.name] = Key(key.id, key.secret, key.token or secrets.token_urlsafe(40))
            kind, _, whom = identity.acts_as.partition("/")
            temporary: dict[str, Any] = {
                "access_key_id": key.id,
                "secret": key.secret,
                "session_token": key.token,
                "account": identity.account,
                kind: whom,
            }
            if identity.expires is not None:
                temporary["expires"] = identity.expires
            data["temporary_credentials"].append(temporary)
        config = auth_config.parse(data, self.directory, str(self.config_path))
        auth_config.save(config, self.config_path)

    def client(
        self,
        service: str,
        user: str,
        *,
        region: str = REGION,
        key: Key | None = None,
        token: str | None = None,
        **config: Any,
    ) -> Any:
        """A boto3 client signing as `user` (or with `key`); closed when the server stops."""
        key = key or self.keys[user]
        client = boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key.id,
            aws_secret_access_key=key.secret,
            aws_session_token=token if token is not None else key.token,
            config=Config(**{"retries": {"max_attempts": 1}, **config}),
        )
        self._clients.append(client)
        return client

    def cli(self, user: str, *args: str, key: Key | None = None) -> subprocess.CompletedProcess[str]:
        """The AWS CLI, unmodified, as `user`."""
        key = key or self.keys[user]
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": key.id,
            "AWS_SECRET_ACCESS_KEY": key.secret,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
        }
        env.pop("AWS_SESSION_TOKEN", None)
        if key.token is not None:
            env["AWS_SESSION_TOKEN"] = key.token
        return subprocess.run(
            [AWS, "--endpoint-url", self.endpoint, "--output", "json", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """(code, message) of the ClientError a boto3 call raises."""
    from botocore.exceptions import ClientError

    try:
        call(*args, **kwargs)
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["Error"]["Message"]
    raise AssertionError(f"{call} succeeded")


def denied(user_arn: str, action: str, resource: str, why: str = "identity") -> str:
    """AWS's AccessDeniedException message."""
    reasons = {
        "identity": f"because no identity-based policy allows the {action} action",
        "resource": f"because no resource-based policy allows the {action} action",
        "identity deny": "with an explicit deny in an identity-based policy",
        "resource deny": "with an explicit deny in a resource-based policy",
    }
    return f"User: {user_arn} is not authorized to perform: {action} on resource: {resource} {reasons[why]}"


def user_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def table_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{name}"


def create_table(
    ddb: Any, name: str, *, stream: bool = False, range_key: str | None = None
) -> dict[str, Any]:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key is not None:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
        definitions.append({"AttributeName": range_key, "AttributeType": "S"})
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    response = ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=definitions,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    description: dict[str, Any] = response["TableDescription"]
    return description
