"""Starting safely: `headwater serve` refuses to run open to others, front processes verify and authorize
as the single process does, and the `headwater` commands sign with the caller's credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.config import Settings
from tests.e2e.auth_support import (
    ADMIN,
    AuthServer,
    Identity,
    allow,
    create_table,
    denied,
    error_of,
    table_arn,
)
from tests.e2e.auth_support import user_arn as arn_of
from tests.server import free_port

HEADWATER = [sys.executable, "-m", "headwater"]


def serve(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`headwater serve` that is expected to refuse to start (it would otherwise serve until killed)."""
    command = [*HEADWATER, "serve", "--port", str(free_port()), "--data-dir", str(directory / "data"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=directory, check=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_without_a_credentials_file_it_refuses_and_says_how_to_add_one(tmp_path: Path, host: str) -> None:
    refused = serve(tmp_path, "--host", host)
    assert refused.returncode != 0
    assert "no credentials file at headwater-auth.toml" in refused.stderr
    assert "headwater auth add-user NAME --account 123456789012" in refused.stderr
    assert "headwater serve --auth off" in refused.stderr


def test_auth_off_is_refused_on_an_address_others_can_reach(tmp_path: Path) -> None:
    refused = serve(tmp_path, "--host", "0.0.0.0", "--auth", "off")
    assert refused.returncode != 0
    assert "--auth off accepts any request as the server's account" in refused.stderr
    assert "not on '0.0.0.0'" in refused.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was opened


def test_a_credentials_file_others_can_read_is_refused(tmp_path: Path) -> None:
    made = subprocess.run(
        [*HEADWATER, "auth", "add-user", "alice", "--account", "111122223333"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert "Secret access key" in made.stdout
    (tmp_path / "headwater-auth.toml").chmod(0o644)
    refused = serve(tmp_path)
    assert refused.returncode != 0
    assert "UNPROTECTED AUTH CONFIG FILE" in refused.stderr


def test_front_processes_verify_and_authorize(tmp_path: Path) -> None:
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("reader", policies=[allow(["dynamodb:GetItem", "lambda:ListFunctions"])]),
    ]
    auth = AuthServer(tmp_path, identities, ("--workers", "1")).start()
    try:
        admin = auth.client("dynamodb", "alice")
        create_table(admin, "Fronted")
        admin.put_item(TableName="Fronted", Item={"pk": {"S": "a"}})  # a write, forwarded to the core
        reader = auth.client("dynamodb", "reader")
        assert reader.get_item(TableName="Fronted", Key={"pk": {"S": "a"}})["Item"]
        assert error_of(reader.put_item, TableName="Fronted", Item={"pk": {"S": "b"}}) == (
            "AccessDeniedException",
            denied(arn_of("reader"), "dynamodb:PutItem", table_arn("Fronted")),
        )
        assert auth.client("lambda", "reader").list_functions()["Functions"] == []  # answered by the core
        assert error_of(auth.client("lambda", "reader").delete_function, FunctionName="x")[0] == (
            "AccessDeniedException"
        )
    finally:
        auth.stop()


def test_headwater_commands_sign_with_the_callers_credentials(tmp_path: Path) -> None:
    identities = [Identity("alice", policies=[ADMIN]), Identity("reader", policies=[allow("dynamodb:*")])]
    auth = AuthServer(tmp_path, identities).start()
    try:

        def admin(user: str, *args: str) -> subprocess.CompletedProcess[str]:
            key = auth.keys[user]
            env = {**os.environ, "AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret}
            command = [*HEADWATER, "admin", *args, "--endpoint-url", auth.endpoint]
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)

        swept = admin("alice", "sweep-ttl")
        assert swept.returncode == 0, swept.stderr
        refused = admin("reader", "sweep-ttl")
        assert refused.returncode != 0
        assert "AccessDeniedException" in refused.stderr
        assert "headwater:SweepTimeToLive" in refused.stderr
    finally:
        auth.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_addresses(host: str) -> None:
    assert Settings(host=host).loopback_only
    assert not any(Settings(host=other).loopback_only for other in ("0.0.0.0", "192.168.1.10", "example.com"))
