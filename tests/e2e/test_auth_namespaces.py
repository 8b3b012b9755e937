"""Namespaces under `--auth sigv4`: a request acts in the verified principal's account and the region it
signed for, on every route (DynamoDB, the Lambda API, the admin calls), never in the one a request claims
or the server's default account."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.auth_support import (
    ACCOUNT,
    ADMIN,
    OTHER_ACCOUNT,
    AuthServer,
    Identity,
    create_table,
    error_of,
)
from tests.e2e.triggers_support import RECORDER, unique, zip_of

WEST = "us-west-2"
PARTNER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/partner-fn"


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("partner", account=OTHER_ACCOUNT, policies=[ADMIN]),
        Identity("partner-fn", account=OTHER_ACCOUNT, kind="role", policies=[ADMIN]),
    ]
    server = AuthServer(tmp_path_factory.mktemp("namespaces"), identities)
    yield server.start()
    server.stop()


def test_a_function_lives_in_the_signers_account_and_region(auth: AuthServer) -> None:
    name = unique("fn")
    partner = auth.client("lambda", "partner", region=WEST)
    created = partner.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=PARTNER_ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(RECORDER)},
    )
    assert created["FunctionArn"] == f"arn:aws:lambda:{WEST}:{OTHER_ACCOUNT}:function:{name}"
    assert name in [f["FunctionName"] for f in partner.list_functions()["Functions"]]
    for region in (WEST, "us-east-1"):  # the server's account sees none of it, in any region
        alice = auth.client("lambda", "alice", region=region)
        assert name not in [f["FunctionName"] for f in alice.list_functions()["Functions"]]
        assert error_of(alice.get_function, FunctionName=name)[0] == "ResourceNotFoundException"
    assert error_of(auth.client("lambda", "partner").get_function, FunctionName=name)[0] == (
        "ResourceNotFoundException"  # nor the partner's account in another region
    )
    partner.delete_function(FunctionName=name)


def test_admin_calls_act_in_the_signers_account(auth: AuthServer) -> None:
    table = unique("Feed")
    create_table(auth.client("dynamodb", "partner", region=WEST), table, stream=True)

    def rollover(user: str) -> subprocess.CompletedProcess[str]:
        key = auth.keys[user]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret}
        env.pop("AWS_SESSION_TOKEN", None)
        command = [sys.executable, "-m", "headwater", "admin", "rollover", table, "--region", WEST]
        command += ["--endpoint-url", auth.endpoint]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)

    done = rollover("partner")
    assert done.returncode == 0, done.stderr
    refused = rollover("alice")  # the server's default account has no such table
    assert refused.returncode != 0
    assert "ResourceNotFoundException" in refused.stderr, refused.stderr
    assert ACCOUNT != OTHER_ACCOUNT
