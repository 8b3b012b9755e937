"""Per-request cost of SigV4 verification (issue 10: it must stay a small fraction of a PutItem).

    .venv/bin/python bench/sigv4_cost.py

Signs one PutItem exactly as boto3 does (a real botocore client, send intercepted), then times
`SigV4Verifier.verify` on it with timeit: best of 5 runs of 20,000 verifications. The derived signing
key is cached after the first call, as it is for a client's requests all day.
"""

from __future__ import annotations

import json
import time
import timeit
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSResponse

from headwater.auth.credentials import AccessKey, KeyRing, Principal, Secret
from headwater.auth.sigv4 import SignedRequest, SigV4Verifier
from headwater.clock import FakeClock

KEY_ID, SECRET = "AKIABENCHBENCHBENCH2", "benchbenchbenchbenchbenchbenchbenchbench"
ITEM = {"pk": {"S": "user#000123"}, "sk": {"S": "order#2024-05-01"}, "payload": {"S": "x" * 160}}


def signed_put_item() -> SignedRequest:
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
    client.put_item(TableName="bench", Item=ITEM)
    sent = captured[0]
    url = urlsplit(sent.url)
    headers = tuple((k, v.decode() if isinstance(v, bytes) else v) for k, v in sent.headers.items())
    return SignedRequest("POST", url.path, url.query, (*headers, ("Host", url.netloc)), sent.body)


def main() -> None:
    principal = Principal(
        "user",
        "111122223333",
        "bench",
        "arn:aws:iam::111122223333:user/bench",
        "arn:aws:iam::111122223333:user/bench",
        "AIDABENCHBENCHBENCH2",
    )
    verifier = SigV4Verifier(
        KeyRing.of([AccessKey(KEY_ID, Secret(SECRET), principal)]), FakeClock(time.time())
    )
    request = signed_put_item()
    verifier.verify(request, service="dynamodb")
    number = 20_000
    best = min(timeit.repeat(lambda: verifier.verify(request, service="dynamodb"), number=number, repeat=5))
    print(f"body {len(json.dumps(ITEM))} bytes: {best / number * 1e6:.1f} us per SigV4 verification")


if __name__ == "__main__":
    main()
