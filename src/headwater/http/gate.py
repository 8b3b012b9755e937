"""Who is asking: every request on the endpoint becomes a `Caller` (or DynamoDB's error) before anything
else reads it.

`SigV4Gate` (`--auth sigv4`) verifies the request's signature (auth/sigv4.py: botocore's canonical
request) against the credentials file: the caller is the key's principal, its namespace the principal's
account and the region it signed for. `OpenGate` (`--auth off`) checks nothing: the caller is anonymous,
in the server's account and the region the client signed for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..auth.credentials import Principal
from ..auth.sigv4 import MAX_SKEW_SECONDS, SignedRequest, SigV4Verifier
from ..auth.sigv4_memo import RememberingVerifier
from ..clock import Clock
from ..core.namespace import Namespace
from ..errors import MissingAuthenticationTokenException
from .identity import Namespaces
from .messages import Request

LAMBDA_SKEW_SECONDS = 5 * 60  # Lambda and Kinesis: "Signature expired: ... (... - 5 min.)"
SKEW = {"dynamodb": MAX_SKEW_SECONDS, "kinesis": LAMBDA_SKEW_SECONDS, "lambda": LAMBDA_SKEW_SECONDS}
# what each X-Amz-Target prefix is signed for (botocore's signingName: Streams signs as dynamodb)
SIGNING_NAMES = {
    b"DynamoDB_20120810": "dynamodb",
    b"DynamoDBStreams_20120810": "dynamodb",
    b"Kinesis_20131202": "kinesis",
    b"AmazonDAXV3": "dax",
}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request speaks for: its namespace, the verified principal (None with `--auth off`), and the
    facts behind the global condition keys (aws:SourceIp, aws:SecureTransport)."""

    namespace: Namespace
    principal: Principal | None
    source_ip: str = ""
    secure: bool = False


class Gate(Protocol):
    def caller(self, request: Request, service: str, *, allow_unsigned_payload: bool = False) -> Caller:
        """The request's caller, or the DynamoDBError that refuses it. `service` is the signing name the
        request must be scoped to ('dynamodb', 'kinesis', 'lambda')."""
        ...


def signing_name(target: bytes | None) -> str:
    """The service a DynamoDB-endpoint request is signed for, from its X-Amz-Target (an unknown target is
    checked as DynamoDB's: it is refused after authentication, as the service does)."""
    if target is None:
        return "dynamodb"
    return SIGNING_NAMES.get(target.partition(b".")[0], "dynamodb")


class OpenGate:
    """`--auth off`: any signature (or none), the server's account, the region of the credential scope."""

    def __init__(self, default: Namespace) -> None:
        self.default = default
        self._namespaces = Namespaces(default)

    def caller(self, request: Request, service: str, *, allow_unsigned_payload: bool = False) -> Caller:
        authorization = request.headers.get(b"authorization")
        if authorization is None:
            raise MissingAuthenticationTokenException()  # what every SDK sends is still required
        namespace = self._namespaces.signed_for(authorization)
        return Caller(namespace, None, request.client, request.secure)


class SigV4Gate:
    """`--auth sigv4`: the request's signature must verify against a key of the credentials file
    (a client's repeated Authorization header is worked out once: auth/sigv4_memo.py)."""

    def __init__(self, verifier: SigV4Verifier, clock: Clock, default: Namespace) -> None:
        self.verifier = RememberingVerifier(verifier, clock)
        self._namespaces = Namespaces(default)

    def caller(self, request: Request, service: str, *, allow_unsigned_payload: bool = False) -> Caller:
        verified = self.verifier.verify(
            request.method,
            request.path,
            request.query,
            request.headers,
            request.body,
            service=service,
            full=lambda: signed_request(request),
            allow_unsigned_payload=allow_unsigned_payload,
            max_skew=SKEW.get(service, MAX_SKEW_SECONDS),
        )
        principal = verified.principal
        namespace = self._namespaces.get(principal.account_id, verified.region)
        return Caller(namespace, principal, request.client, request.secure)


def signed_request(request: Request) -> SignedRequest:
    """The request as signature verification reads it: path and query as sent, every header, the body."""
    headers = tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in request.raw_headers)
    return SignedRequest(request.method, request.path, request.query.decode("latin-1"), headers, request.body)
