"""Per-request cost of `--auth sigv4` for a PutItem: signature verification and authorization, in
microseconds (issue 10: they must stay a small fraction of a PutItem).

    .venv/bin/python bench/sigv4_cost.py

Signs one PutItem exactly as boto3 does (a real botocore client, send intercepted), then times, each as
the best of 5 runs of 20,000 calls (timeit, in CPU time: the machine may be shared):

- verify: `SigV4Verifier.verify` on the signed request (the derived signing key cached after the first
  call, as it is for a client's requests all day);
- gate: the HTTP layer's whole step, from the server's Request (raw headers, path, query, body) to the
  verified Caller (http/gate.py), for a client whose Authorization header it has seen before (as every
  request of an SDK client but its first);
- authorize: `Authorizer.check` of the PutItem against a database holding the table (the table's key
  names for dynamodb:LeadingKeys, its resource policy), for a user whose policy allows dynamodb:* on the
  table, and for one restricted to their own partition (ForAllValues:StringEquals dynamodb:LeadingKeys).

- share of a PutItem: the application (HeadwaterApp: routing, validation, the handler, the commit with
  `--sync NORMAL`, no HTTP parsing) answering the same PutItems with `--auth off` and with `--auth
  sigv4`, in interleaved rounds, one request at a time: the difference per request, and its share.

A PutItem costs ~160 us of the server's loop when measured under load (docs/architecture.md); the last
figure says what share of it authentication and authorization take, measured in the same process at
the same moment, which is what a shared, busy machine still allows.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import orjson
from botocore.awsrequest import AWSResponse

from headwater.api.dynamodb import create_table
from headwater.app import build_database
from headwater.auth.credentials import AccessKey, KeyRing, Principal, Secret
from headwater.auth.policy import parse_policy
from headwater.auth.sigv4 import SignedRequest, SigV4Verifier
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core.namespace import Namespace
from headwater.http.authorize import Authorizer
from headwater.http.gate import Caller, SigV4Gate
from headwater.http.messages import Request

ACCOUNT = "000000000000"
KEY_ID, SECRET = "AKIABENCHBENCHBENCH2", "benchbenchbenchbenchbenchbenchbenchbench"
TABLE = "bench"
# the (pk S, sk S) on-demand table both measurements write into
CREATE_TABLE: dict[str, Any] = {
    "TableName": TABLE,
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
ITEM = {"pk": {"S": "user#000123"}, "sk": {"S": "order#2024-05-01"}, "payload": {"S": "x" * 160}}
ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}"
TABLE_WIDE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": ARN}],
}
OWN_PARTITION = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": ARN,
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["user#000123"]}},
        }
    ],
}
NUMBER = 20_000


def principal(policy: dict[str, Any]) -> Principal:
    return Principal(
        "user",
        ACCOUNT,
        "bench",
        f"arn:aws:iam::{ACCOUNT}:user/bench",
        f"arn:aws:iam::{ACCOUNT}:user/bench",
        "AIDABENCHBENCHBENCH2",
        (parse_policy(policy),),
    )


def signed_put_item() -> tuple[SignedRequest, Request]:
    """The request boto3 sends, as the verifier reads it and as the HTTP server hands it to the app."""
    client = botocore.session.get_session().create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:8000",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    captured: list[Any] = []

    class Raw:
        def stream(self, **_: Any) -> list[bytes]:
            return [b"{}"]

    def intercept(request: Any, **_: Any) -> AWSResponse:
        captured.append(request)
        return AWSResponse(request.url, 200, {}, Raw())

    client.meta.events.register("before-send", intercept)
    client.put_item(TableName=TABLE, Item=ITEM)
    sent = captured[0]
    url = urlsplit(sent.url)
    headers = tuple((k, v.decode() if isinstance(v, bytes) else v) for k, v in sent.headers.items())
    headers = (*headers, ("Host", url.netloc))
    signed = SignedRequest("POST", url.path, url.query, headers, sent.body)
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    http = Request("POST", url.path, url.query.encode(), dict(raw), raw, sent.body, "127.0.0.1")
    return signed, http


def best_us(action: Any) -> float:
    action()
    return min(timeit.repeat(action, number=NUMBER, repeat=5, timer=time.process_time)) / NUMBER * 1e6


async def authorizer_costs() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(data_dir=Path(directory), account_id=ACCOUNT, sync_mode="NORMAL")
        db = build_database(settings)
        db.open()
        try:
            await create_table.handle(
                db,
                dict(CREATE_TABLE),
            )
            authorizer = Authorizer(db)
            request = orjson.loads(orjson.dumps({"TableName": TABLE, "Item": ITEM}))
            costs = {}
            for name, policy in (("table-wide", TABLE_WIDE), ("own-partition", OWN_PARTITION)):
                caller = Caller(db.namespace, principal(policy), "127.0.0.1")
                costs[name] = best_us(lambda c=caller: authorizer.check(c, "dynamodb", "PutItem", request))
            return costs
        finally:
            await db.close()


def request_of(body: bytes, credentials: Any | None, operation: str = "PutItem") -> Request:
    """A request as the HTTP server hands it to the app, signed with `credentials` (else a dummy header)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    headers = {
        "Host": "127.0.0.1:8000",
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
    }
    if credentials is None:
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request"
    else:
        signing = AWSRequest("POST", "http://127.0.0.1:8000/", data=body, headers=headers)
        SigV4Auth(credentials, "dynamodb", "us-east-1").add_auth(signing)
        headers = dict(signing.headers.items())
    raw = [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]
    return Request("POST", "/", b"", dict(raw), raw, body, "127.0.0.1")


def put_body(sort_key: str) -> bytes:
    return json.dumps({"TableName": TABLE, "Item": {**ITEM, "sk": {"S": sort_key}}}).encode()


async def put_share(rounds: int = 5, per_round: int = 2000) -> tuple[float, float, float]:
    """(us per PutItem with auth off, with sigv4, the difference), the best round of each."""
    from botocore.credentials import Credentials

    from headwater.app import build_app
    from headwater.auth import config

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        data = {
            "accounts": [{"id": ACCOUNT}],
            "users": [
                {
                    "name": "bench",
                    "account": ACCOUNT,
                    "policies": [json.dumps(TABLE_WIDE)],
                    "access_keys": [{"id": KEY_ID, "secret": SECRET}],
                }
            ],
        }
        path = root / "auth.toml"
        config.save(config.parse(data, root, str(path)), path)
        credentials = Credentials(KEY_ID, SECRET)
        runs = {}
        for name, mode, creds in (("off", "off", None), ("sigv4", "sigv4", credentials)):
            settings = Settings(
                data_dir=root / name, account_id=ACCOUNT, sync_mode="NORMAL", auth=mode, auth_config=path
            )
            app, node = build_app(settings)
            await node.start()
            table = CREATE_TABLE
            answer = await app(request_of(json.dumps(table).encode(), creds, "CreateTable"))
            assert answer.status == 200, answer.body
            runs[name] = (app, node, creds)
        best = {"off": float("inf"), "sigv4": float("inf")}
        try:
            for number in range(rounds):
                for name, (app, _, creds) in runs.items():
                    requests = [request_of(put_body(f"{number}.{i}"), creds) for i in range(per_round)]
                    started = time.process_time()
                    for request in requests:
                        answer = await app(request)
                        assert answer.status == 200, answer.body
                    best[name] = min(best[name], (time.process_time() - started) / per_round * 1e6)
        finally:
            for _, node, _ in runs.values():
                await node.stop()
        return best["off"], best["sigv4"], best["sigv4"] - best["off"]


def main() -> None:
    signed, http = signed_put_item()
    ring = KeyRing.of([AccessKey(KEY_ID, Secret(SECRET), principal(TABLE_WIDE))])
    verifier = SigV4Verifier(ring, FakeClock(time.time()))
    gate = SigV4Gate(verifier, FakeClock(time.time()), Namespace(ACCOUNT, "us-east-1"))
    verify = best_us(lambda: verifier.verify(signed, service="dynamodb"))
    through_gate = best_us(lambda: gate.caller(http, "dynamodb"))
    authorize = asyncio.run(authorizer_costs())
    off, on, difference = asyncio.run(put_share())
    print(f"PutItem, body {len(json.dumps(ITEM))} bytes; best of 5 x {NUMBER:,} calls")
    print(f"  verify (SigV4Verifier.verify)          {verify:6.1f} us")
    print(f"  gate (HTTP Request -> verified Caller)  {through_gate:6.1f} us")
    for name, cost in authorize.items():
        print(f"  authorize ({name + ' policy)':<22} {cost:6.1f} us")
        print(f"  gate + authorize ({name:<14})      {through_gate + cost:6.1f} us")
    print("PutItem through the application (no HTTP parsing), one at a time, --sync NORMAL, best of 5 rounds")
    print(
        f"  --auth off {off:6.1f} us, --auth sigv4 {on:6.1f} us: "
        f"+{difference:.1f} us ({difference / off:.0%})"
    )


if __name__ == "__main__":
    main()
