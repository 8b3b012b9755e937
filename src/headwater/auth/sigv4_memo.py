"""SigV4 verification at the HTTP layer's speed: what a client's Authorization header fixes is worked out
once, not on every request.

An SDK signs every request with the same key, scope and list of signed headers, so its Authorization
headers differ only in their signature: `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
SignedHeaders=..., Signature=...`. The first request with a given header (all but the signature) is
verified in full by `SigV4Verifier`; when it is accepted, what it established (the access key and its
principal, the scope's checks, the derived signing key, the sorted signed header names) is remembered
under that text. A later request with the same text needs only the per-request part: its date within
the allowed skew, the canonical request of its own headers and body, and the signature.

Anything else is verified in full: presigned URLs, a query string, `x-amz-content-sha256`, temporary
credentials (their token and expiry are checked every time), and any request whose signature does not
match here (so every refusal carries `SigV4Verifier`'s exact error). A property test checks that this
path accepts what the full verification accepts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from headwater.auth.sigv4 import (
    ALGORITHM,
    MAX_SKEW_SECONDS,
    SignedRequest,
    SigV4Verifier,
    VerifiedRequest,
    canonical_path,
    parse_timestamp,
)
from headwater.clock import Clock
from headwater.errors import DynamoDBError

_SEPARATOR = b", Signature="
_ALGORITHM = ALGORITHM.encode()
_MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Known:
    """What an accepted Authorization header (all but its signature) fixes."""

    verified: VerifiedRequest
    day: bytes  # the scope's YYYYMMDD
    scope: bytes  # DATE/REGION/SERVICE/aws4_request
    signed: tuple[bytes, ...]  # the signed header names, sorted
    names: bytes  # the same joined with ';'
    mac: hmac.HMAC  # HMAC-SHA256 keyed with the derived signing key, nothing fed yet


@lru_cache(maxsize=1024)
def _method_and_path(method: str, path: str) -> bytes:
    """The canonical request's first two lines (its method and normalised path)."""
    return method.upper().encode() + b"\n" + canonical_path(path).encode()


class RememberingVerifier:
    def __init__(self, verifier: SigV4Verifier, clock: Clock) -> None:
        self.verifier = verifier
        self.clock = clock
        self._known: dict[tuple[bytes, str], _Known] = {}
        self._date: tuple[bytes, float] = (b"", 0.0)  # the last X-Amz-Date seen, in epoch seconds

    def verify(
        self,
        method: str,
        path: str,
        query: bytes,
        headers: Mapping[bytes, bytes],
        body: bytes,
        *,
        service: str,
        full: Callable[[], SignedRequest],
        allow_unsigned_payload: bool = False,
        max_skew: int = MAX_SKEW_SECONDS,
    ) -> VerifiedRequest:
        """The request's principal, or SigV4Verifier's error. `headers` have lower-case names (repeats
        joined with commas); `full` makes the request as `SigV4Verifier.verify` reads it."""
        authorization = headers.get(b"authorization")
        prefix = None
        if authorization is not None and not query and b"x-amz-content-sha256" not in headers:
            prefix, separator, signature = authorization.rpartition(_SEPARATOR)
            known = self._known.get((prefix, service)) if separator else None
            if known is not None and self._matches(known, method, path, headers, body, signature, max_skew):
                return known.verified
        verified = self.verifier.verify(
            full(), service=service, allow_unsigned_payload=allow_unsigned_payload, max_skew=max_skew
        )
        if prefix is not None and not verified.temporary:
            self._remember(prefix, service, verified)
        return verified

    def _matches(
        self,
        known: _Known,
        method: str,
        path: str,
        headers: Mapping[bytes, bytes],
        body: bytes,
        signature: bytes,
        max_skew: int,
    ) -> bool:
        """Whether the request's own part holds; False sends it to the full verification."""
        date = headers.get(b"x-amz-date")
        if date is None or date[:8] != known.day:
            return False
        last, moment = self._date
        if date != last:
            try:
                moment = parse_timestamp(date.decode("latin-1"))
            except DynamoDBError:
                return False
            self._date = (date, moment)
        if abs(moment - self.clock.now()) > max_skew:
            return False
        lines = [name + b":" + b" ".join(headers.get(name, b"").split()) for name in known.signed]
        canonical = b"\n".join(
            (
                _method_and_path(method, path),
                b"",
                *lines,
                b"",
                known.names,
                hashlib.sha256(body).hexdigest().encode(),
            )
        )
        digest = hashlib.sha256(canonical).hexdigest().encode()
        to_sign = b"%s\n%s\n%s\n%s" % (_ALGORITHM, date, known.scope, digest)
        mac = known.mac.copy()  # the key's HMAC state, set up once
        mac.update(to_sign)
        return hmac.compare_digest(mac.hexdigest().encode(), signature.strip())

    def _remember(self, prefix: bytes, service: str, verified: VerifiedRequest) -> None:
        """Keep what an accepted header fixes, when it has the form every SDK writes."""
        algorithm, _, rest = prefix.partition(b" Credential=")
        credential, separator, names = rest.partition(b", SignedHeaders=")
        parts = credential.split(b"/")
        if algorithm != ALGORITHM.encode() or not separator or len(parts) != 5:
            return
        if parts[3] != service.encode():
            return
        signed = tuple(sorted(set(names.split(b";"))))
        if any(name != name.strip().lower() for name in signed):
            return
        key = self.verifier.secret_of(verified.access_key_id)
        if key is None:
            return
        day = parts[1].decode()
        signing_key = self.verifier.signing_key(key, day, verified.region, service)
        if len(self._known) >= _MEMO_SIZE:
            self._known.clear()
        mac = hmac.new(signing_key, digestmod="sha256")
        self._known[(prefix, service)] = _Known(
            verified, parts[1], b"/".join(parts[1:]), signed, b";".join(signed), mac
        )
