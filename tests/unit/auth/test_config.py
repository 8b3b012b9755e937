"""The auth config file: loading, validation messages, file modes, and the `headwater auth` commands."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner

from headwater.auth import config as auth_config
from headwater.auth.config import AuthConfigError
from headwater.cli import main

ACCOUNT = "111122223333"
READER: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders/stream/*",
        }
    ],
}
SECRET = "s" * 40


def write(path: Path, data: dict[str, Any], mode: int = 0o600) -> Path:
    path.write_text(tomli_w.dumps(data))
    path.chmod(mode)
    return path


def base(**extra: Any) -> dict[str, Any]:
    return {
        "accounts": [{"id": ACCOUNT, "name": "dev"}],
        "users": [
            {
                "name": "alice",
                "account": ACCOUNT,
                "policies": [json.dumps(READER)],
                "access_keys": [{"id": "AKIAALICE2345678ABCD", "secret": SECRET}],
            }
        ],
        "roles": [{"name": "trigger", "account": ACCOUNT, "policies": ["reader.json"]}],
        "temporary_credentials": [
            {
                "access_key_id": "ASIATEMP2345678ABCDE",
                "secret": SECRET,
                "session_token": "t" * 32,
                "expires": "2030-01-01T00:00:00Z",
                "account": ACCOUNT,
                "role": "trigger",
                "session": "ci",
            }
        ],
        **extra,
    }


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "reader.json").write_text(json.dumps(READER))
    return tmp_path


def test_a_full_config_loads_into_principals_and_keys(folder: Path) -> None:
    config = auth_config.load(write(folder / "auth.toml", base()))
    ring = config.key_ring()
    alice = ring.access_key("AKIAALICE2345678ABCD")
    temp = ring.access_key("ASIATEMP2345678ABCDE")
    assert alice is not None and alice.principal.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert alice.principal.user_id.startswith("AIDA") and len(alice.principal.user_id) == 21
    assert len(alice.principal.policies) == 1
    assert temp is not None and temp.temporary and temp.expires_at == 1893456000.0
    assert temp.principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/trigger/ci"
    assert temp.principal.principal_arn == f"arn:aws:iam::{ACCOUNT}:role/trigger"
    assert config.role_by_arn(f"arn:aws:iam::{ACCOUNT}:role/trigger") is not None
    assert config.role_by_arn(f"arn:aws:iam::{ACCOUNT}:role/nobody") is None


def test_secrets_do_not_show_in_the_config_repr(folder: Path) -> None:
    config = auth_config.load(write(folder / "auth.toml", base()))
    assert SECRET not in repr(config) and "t" * 32 not in repr(config)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_file_others_can_read_is_refused_unless_allowed(folder: Path, mode: int) -> None:
    path = write(folder / "auth.toml", base(), mode)
    with pytest.raises(AuthConfigError, match=r"UNPROTECTED AUTH CONFIG FILE.*chmod 600"):
        auth_config.load(path)
    assert auth_config.load(path, allow_insecure=True).users


def test_a_toml_syntax_error_names_the_line(folder: Path) -> None:
    path = folder / "auth.toml"
    path.write_text('[[users]]\nname = "alice\n')
    path.chmod(0o600)
    with pytest.raises(AuthConfigError, match=r"not valid TOML: .*line 2"):
        auth_config.load(path)


def _users(**user: Any) -> dict[str, Any]:
    return base(users=[{"name": "alice", "account": ACCOUNT, **user}])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (base(groups=[]), "groups: unknown key"),
        (base(accounts=[{"id": "123"}]), "accounts[0].id: invalid value '123'"),
        (base(accounts=[{"id": ACCOUNT}, {"id": ACCOUNT}]), "accounts: duplicate account id: 111122223333"),
        (base(users={"name": "x"}), "users: must be an array of tables ([[users]])"),
        (base(users=[{"account": ACCOUNT}]), "users[0]: missing required key 'name'"),
        (base(users=[{"name": "a b", "account": ACCOUNT}]), "users[0].name: invalid value 'a b'"),
        (
            _users(account="999999999999"),
            "users[0].account: account 999999999999 is not declared in [[accounts]]",
        ),
        (
            _users(access_keys=[{"id": "AKIA", "secret": SECRET}]),
            "users[0].access_keys[0].id: invalid value 'AKIA'",
        ),
        (
            _users(access_keys=[{"id": "AKIAALICE2345678ABCD", "secret": "short"}]),
            "users[0].access_keys[0].secret: too short",
        ),
        (
            _users(access_keys=[{"id": "AKIAALICE2345678ABCD"}]),
            "users[0].access_keys[0]: missing required key 'secret'",
        ),
        (_users(password="x"), "users[0].password: unknown key"),
        (_users(policies="reader.json"), "users[0].policies: must be an array"),
        (_users(policies=["missing.json"]), "users[0].policies[0]: cannot read policy file"),
        (
            _users(policies=['{"Statement": []}']),
            "users[0].policies[0]: invalid policy: Syntax errors in policy. (Statement)",
        ),
        (
            _users(
                policies=[json.dumps({**READER, "Statement": [{**READER["Statement"][0], "Principal": "*"}]})]
            ),
            "users[0].policies[0]: invalid policy: Policy document should not specify a principal.",
        ),
        (
            base(users=[*base()["users"], base()["users"][0]]),
            "users: duplicate user name in its account: 111122223333/alice",
        ),
        (
            base(roles=[{"name": "trigger", "account": ACCOUNT, "policies": [1]}]),
            "roles[0].policies[0]: must be a policy file path",
        ),
        (
            base(temporary_credentials=[{**base()["temporary_credentials"][0], "user": "alice"}]),
            "temporary_credentials[0]: exactly one of 'user' or 'role'",
        ),
        (
            base(temporary_credentials=[{**base()["temporary_credentials"][0], "role": "nobody"}]),
            "temporary_credentials[0].role: no role 'nobody' in account 111122223333",
        ),
        (
            base(temporary_credentials=[{**base()["temporary_credentials"][0], "expires": "tomorrow"}]),
            "temporary_credentials[0].expires: not an ISO 8601 date-time: 'tomorrow'",
        ),
        (
            base(
                temporary_credentials=[
                    {**base()["temporary_credentials"][0], "expires": "2030-01-01T00:00:00"}
                ]
            ),
            "temporary_credentials[0].expires: must name its time zone",
        ),
        (
            base(
                temporary_credentials=[
                    {**base()["temporary_credentials"][0], "access_key_id": "AKIAALICE2345678ABCD"}
                ]
            ),
            "access keys: duplicate access key id: AKIAALICE2345678ABCD",
        ),
    ],
)
def test_every_mistake_names_its_key(folder: Path, data: dict[str, Any], message: str) -> None:
    path = write(folder / "auth.toml", data)
    with pytest.raises(AuthConfigError) as caught:
        auth_config.load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_save_writes_0600_and_round_trips(folder: Path) -> None:
    original = auth_config.load(write(folder / "auth.toml", base()))
    target = folder / "copy.toml"
    auth_config.save(original, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert auth_config.load(target) == original


# --- the CLI


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(main, ["auth", *args], env=env, catch_exceptions=False)
    return result


def test_add_user_prints_the_secret_once_and_list_never_shows_it(folder: Path) -> None:
    path = folder / "headwater-auth.toml"
    added = run(
        "add-user",
        "alice",
        "--account",
        ACCOUNT,
        "--policy",
        str(folder / "reader.json"),
        "--auth-config",
        str(path),
    )
    assert added.exit_code == 0, added.output
    key_id = re.search(r"Access key id:\s+(AKIA[A-Z2-7]{16})", added.output)
    secret = re.search(r"Secret access key:\s+(\S{40})", added.output)
    assert key_id and secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = auth_config.load(path)
    key = config.key_ring().access_key(key_id.group(1))
    assert key is not None and key.secret.reveal() == secret.group(1)
    assert config.users[0].policies[0].entry == "reader.json"  # beside the config: stored relative
    listed = run("list", env={"HEADWATER_AUTH_CONFIG": str(path), "COLUMNS": "200"})
    assert listed.exit_code == 0 and key_id.group(1) in listed.output and "user/alice" in listed.output
    assert secret.group(1) not in listed.output


def test_add_role_and_remove_user(folder: Path) -> None:
    path = str(folder / "auth.toml")
    assert (
        run(
            "add-role",
            "trigger",
            "--account",
            ACCOUNT,
            "--policy",
            str(folder / "reader.json"),
            "--auth-config",
            path,
        ).exit_code
        == 0
    )
    assert run("add-user", "bob", "--account", ACCOUNT, "--auth-config", path).exit_code == 0
    assert run("add-user", "bob", "--account", ACCOUNT, "--auth-config", path).output.endswith(
        f"Error: user bob already exists in account {ACCOUNT}\n"
    )
    removed = run("remove-user", "bob", "--auth-config", path)
    assert removed.exit_code == 0 and "Removed arn:aws:iam::111122223333:user/bob" in removed.output
    config = auth_config.load(Path(path))
    assert [r.name for r in config.roles] == ["trigger"] and not config.users
    assert run("remove-user", "bob", "--auth-config", path).output == "Error: no user bob\n"


def test_a_bad_policy_file_is_refused_before_anything_is_written(folder: Path) -> None:
    bad = folder / "bad.json"
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}')
    path = folder / "auth.toml"
    result = run("add-user", "alice", "--account", ACCOUNT, "--policy", str(bad), "--auth-config", str(path))
    assert result.exit_code != 0 and "Policy statement must contain actions." in result.output
    assert not path.exists()


def test_commands_refuse_a_readable_file(folder: Path) -> None:
    path = write(folder / "auth.toml", base(), 0o644)
    result = run("list", "--auth-config", str(path))
    assert result.exit_code != 0 and "UNPROTECTED AUTH CONFIG FILE" in result.output
    assert run("list", "--auth-config", str(path), "--allow-insecure-auth-config").exit_code == 0


def test_the_cli_never_leaves_a_temporary_file(folder: Path) -> None:
    path = str(folder / "auth.toml")
    run("add-user", "alice", "--account", ACCOUNT, "--auth-config", path)
    assert sorted(os.listdir(folder)) == ["auth.toml", "reader.json"]
