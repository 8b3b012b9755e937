"""The DAX client's authentication: on each connection, before its first request and every few minutes
after, it sends authorizeConnection(access key, signature, string to sign, session token, user agent)
without waiting for an answer. The string to sign is SigV4's for a fixed request (POST / to
dax.amazonaws.com, host and x-amz-date signed, empty body) scoped to `<date>/<region>/dax/aws4_request`;
it is checked line by line, then the signature against the credentials file's secret, as the HTTP gate
checks a request."""

from __future__ import annotations

import hashlib
import hmac

from ..auth.credentials import Principal
from ..auth.sigv4 import ALGORITHM, SigV4Verifier, parse_timestamp
from ..clock import Clock
from ..errors import DynamoDBError

SKEW_SECONDS = 5 * 60
HOST = "dax.amazonaws.com"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MISMATCH = "The request signature we calculated does not match the signature you provided."


class UnrecognizedClientException(DynamoDBError):
    """Answered to the next request of a connection whose authentication failed."""

    namespace = ""
    status = 403


def expected_canonical_hash(timestamp: str) -> str:
    canonical = "\n".join(
        ("POST", "/", "", f"host:{HOST}\nx-amz-date:{timestamp}\n", "host;x-amz-date", EMPTY_SHA256)
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class DaxAuthenticator:
    def __init__(self, verifier: SigV4Verifier, clock: Clock) -> None:
        self.verifier = verifier
        self.clock = clock

    def verify(
        self, access_key: str, signature: str, string_to_sign: bytes, token: str | None
    ) -> tuple[Principal, str]:
        """The principal and the region signed for, or UnrecognizedClientException."""
        try:
            algorithm, timestamp, scope, canonical_hash = string_to_sign.decode("utf-8").split("\n")
        except (UnicodeDecodeError, ValueError):
            raise UnrecognizedClientException("Malformed string to sign") from None
        date, region, service, terminator = [*scope.split("/"), "", "", "", ""][:4]
        if (algorithm, service, terminator) != (ALGORITHM, "dax", "aws4_request") or timestamp[:8] != date:
            raise UnrecognizedClientException("Credential should be scoped to the dax service")
        if canonical_hash != expected_canonical_hash(timestamp):
            raise UnrecognizedClientException(MISMATCH)
        if abs(parse_timestamp(timestamp) - self.clock.now()) > SKEW_SECONDS:
            raise UnrecognizedClientException("Signature expired")
        found = self.verifier.access_key(access_key)
        if found is None:
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        if found.session_token is not None:
            expected_token = found.session_token.reveal().encode()
            if not hmac.compare_digest((token or "").encode(), expected_token):
                raise UnrecognizedClientException("The security token included in the request is invalid.")
            if found.expires_at is not None and self.clock.now() >= found.expires_at:
                raise UnrecognizedClientException("The security token included in the request is expired")
        key = self.verifier.signing_key(found.secret.reveal(), date, region, "dax")
        expected = hmac.digest(key, string_to_sign, "sha256").hex()
        if not hmac.compare_digest(expected.encode(), signature.encode("latin-1", "replace")):
            raise UnrecognizedClientException(MISMATCH)
        return found.principal, region
