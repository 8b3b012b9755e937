"""`headwater serve --tls-cert --tls-key`: HTTPS on the server's port, with a throwaway CA made here. boto3
and the AWS CLI trusting the CA read and write tables and streams, in one process and with front
processes; a client that does not trust it fails verification; plain HTTP gets no answer; certificate or
key files that cannot serve refuse to start, with a message and no traceback."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import SSLError

from tests.server import Server
from tests.tls_support import Pki, make_pki

AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module", params=[0, 2], ids=["one-process", "two-fronts"])
def tls_server(
    request: pytest.FixtureRequest, pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    args = ("--tls-cert", str(pki.cert), "--tls-key", str(pki.key), "--workers", str(request.param))
    srv = Server(tmp_path_factory.mktemp("tls"), args, tls_ca=pki.ca).start()
    yield srv
    srv.stop()


def test_boto3_reads_and_writes_tables_and_streams_over_https(tls_server: Server, table_name: str) -> None:
    ddb = tls_server.client("dynamodb")
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    assert ddb.get_item(TableName=table_name, Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}

    streams = tls_server.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["dynamodb"]["NewImage"] for r in records] == [{"pk": {"S": "a"}, "n": {"N": "1"}}]
    ddb.delete_table(TableName=table_name)


def test_the_aws_cli_with_the_ca_bundle(tls_server: Server, pki: Pki, table_name: str) -> None:
    def aws(*args: str) -> str:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_PAGER": "",
        }
        out = subprocess.run(
            [
                AWS,
                "--endpoint-url",
                tls_server.endpoint,
                "--ca-bundle",
                str(pki.ca),
                "--output",
                "text",
                *args,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    aws(
        "dynamodb", "create-table", "--table-name", table_name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST",
    )  # fmt: skip
    aws("dynamodb", "put-item", "--table-name", table_name, "--item", '{"pk": {"S": "cli"}, "v": {"S": "x"}}')
    got = aws(
        "dynamodb", "get-item", "--table-name", table_name, "--key", '{"pk": {"S": "cli"}}',
        "--query", "Item.v.S",
    )  # fmt: skip
    assert got.strip() == "x"
    aws("dynamodb", "delete-table", "--table-name", table_name)


def _client(server: Server, verify: Any) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
        verify=verify,
    )


def test_a_client_that_does_not_trust_the_ca_fails_verification(tls_server: Server, tmp_path: Path) -> None:
    other_ca = make_pki(tmp_path / "other", "Another CA").ca
    for verify in (None, str(other_ca)):  # the system's CAs, and a CA that signed nothing of the server's
        client = _client(tls_server, verify)
        try:
            with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
                client.list_tables()
        finally:
            client.close()


def test_plain_http_to_the_https_port_gets_no_answer(tls_server: Server) -> None:
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := sock.recv(4096):  # until the server closes the connection
            received += chunk
    assert b"HTTP/" not in received and b"healthy" not in received


def test_the_health_check_over_https(tls_server: Server, pki: Pki) -> None:
    context = ssl.create_default_context(cafile=pki.ca)
    with urllib.request.urlopen(tls_server.endpoint + "/", timeout=30, context=context) as response:
        assert response.status == 200
        assert response.read().startswith(b"healthy: ")


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`headwater serve` that is expected to refuse to start (the timeout only bounds a failing test)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "headwater",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_certificate_and_key_that_cannot_serve_refuse_to_start(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path / "other", "Another CA")
    garbage = _write(tmp_path / "garbage.pem", "not a certificate\n")
    encrypted = tmp_path / "encrypted.key"
    subprocess.run(
        ["openssl", "rsa", "-in", str(pki.key), "-aes256", "-passout", "pass:secret", "-out", str(encrypted)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    bad_key = _write(tmp_path / "bad.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    cert, key = str(pki.cert), str(pki.key)
    cases = [
        ((str(tmp_path / "missing.pem"), key), "cannot read the TLS certificate file"),
        ((cert, str(tmp_path / "missing.key")), "cannot read the TLS key file"),
        ((str(tmp_path), key), "cannot read the TLS certificate file"),  # a directory
        ((garbage, key), "holds no PEM certificate"),
        ((cert, garbage), "holds no PEM private key"),
        ((key, cert), "holds no PEM certificate"),  # the two swapped
        ((cert, str(other.key)), "does not belong to the certificate"),
        ((cert, str(encrypted)), "is encrypted"),
        ((cert, bad_key), "cannot load the TLS certificate"),
    ]
    for (cert_file, key_file), message in cases:
        out = _serve(tmp_path, "--tls-cert", cert_file, "--tls-key", key_file)
        assert out.returncode != 0, (cert_file, key_file)
        assert message in out.stderr, (message, out.stderr)
        assert "Traceback" not in out.stderr + out.stdout


def test_one_of_the_two_flags_alone_is_refused(pki: Pki, tmp_path: Path) -> None:
    for args, env in [
        (("--tls-cert", str(pki.cert)), {}),
        (("--tls-key", str(pki.key)), {}),
        ((), {"HEADWATER_TLS_CERT": str(pki.cert)}),
    ]:
        out = _serve(tmp_path, *args, env=env)
        assert out.returncode != 0
        assert "--tls-cert and --tls-key go together" in out.stderr
        assert "Traceback" not in out.stderr + out.stdout


def test_the_environment_names_the_files(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_TLS_CERT", str(pki.cert))
    monkeypatch.setenv("HEADWATER_TLS_KEY", str(pki.key))
    srv = Server(tmp_path, tls_ca=pki.ca).start()
    try:
        assert srv.client("dynamodb").list_tables()["TableNames"] == []
    finally:
        srv.stop()
