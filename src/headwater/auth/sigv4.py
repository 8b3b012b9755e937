"""AWS Signature Version 4 verification: one incoming request -> the principal who signed it, or the error
DynamoDB answers.

The canonical request and the string to sign are botocore's own (`SigV4Auth.canonical_request` and
`string_to_sign`, the code that signs every boto3 request), so path and query encoding cannot drift from
what clients do. Only the last step is ours: the derived signing key (four chained HMACs) is cached per
(secret, date, region, service), and the comparison is constant-time.

Verification needs the secret itself, not a hash of it: SigV4 is an HMAC keyed by (a key derived from)
the secret, so the server must compute the same HMAC. Whoever reads the credentials file can sign as its
users; that file is protected like an ssh private key (see config.py).

Checks run in the order AWS's answers show: presence, header syntax, date format, date skew, signed
headers, algorithm, credential scope, access key, session token, signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

from botocore.auth import SigV4Auth

from headwater.auth.credentials import AccessKey, CredentialStore, Principal
from headwater.clock import Clock
from headwater.errors import (
    ExpiredTokenException,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60  # DynamoDB's; Lambda and Kinesis allow 5 minutes ("... - 5 min.")
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# Payload hashes that name no body hash: only accepted where the caller says the API allows them.
UNSIGNED_PAYLOADS = frozenset({UNSIGNED_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
_BASIC_FORMAT = "%Y%m%dT%H%M%SZ"
_BASIC_RE = re.compile(r"\d{8}T\d{6}Z")
# A region as AWS spells them: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5...
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_QUERY_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)
MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600
_KEY_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What the HTTP layer passes in: the request as it arrived, before any decoding.

    `raw_path` and `raw_query` are the percent-encoded bytes of the request line (as the HTTP
    server passes them on), `headers` every header as sent (repeats allowed, names in any case). `body` is the
    whole body; None means it is not available and the `x-amz-content-sha256` header is taken as is.
    """

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """A request whose signature verified: who signed it, and the region and service of its scope."""

    principal: Principal
    access_key_id: str
    region: str
    service: str
    temporary: bool


class _Signature(NamedTuple):
    """The parts of an Authorization header (or of a presigned query string).

    A NamedTuple rather than a frozen dataclass: it is built on every request, and this is cheaper.
    """

    algorithm: str
    credential: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    presigned: bool
    expires: int | None = None
    token: str | None = None


def valid_region(region: str) -> bool:
    """The default region check: a name shaped like AWS's (Headwater serves any region)."""
    return _REGION_RE.fullmatch(region) is not None


def _derive_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
    key = hmac.digest(key, region.encode(), "sha256")
    key = hmac.digest(key, service.encode(), "sha256")
    return hmac.digest(key, b"aws4_request", "sha256")


class SigV4Verifier:
    """Verifies SigV4-signed requests against a CredentialStore, with the server's Clock."""

    def __init__(
        self,
        credentials: CredentialStore,
        clock: Clock,
        *,
        region_is_valid: Callable[[str], bool] = valid_region,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._region_is_valid = region_is_valid
        # Deriving the key is four HMACs; a client signs thousands of requests a day with the same one.
        self._signing_key = lru_cache(maxsize=_KEY_CACHE_SIZE)(_derive_signing_key)
        self._signers: dict[tuple[str, str], SigV4Auth] = {}

    def verify(
        self,
        request: SignedRequest,
        *,
        service: str,
        allow_unsigned_payload: bool = False,
        max_skew: int = MAX_SKEW_SECONDS,
    ) -> VerifiedRequest:
        """The principal who signed `request` for `service` ('dynamodb', 'lambda'), or the AWS error.

        `allow_unsigned_payload` accepts `x-amz-content-sha256: UNSIGNED-PAYLOAD` (and the unsigned
        streaming trailer form): the signature then covers the headers but not the body. `max_skew` is
        how far (seconds) the request's time may be from the server's, either way: the service's own.
        """
        headers = _header_map(request.headers)
        query = _parse_query(request.raw_query)
        signature = _read_signature(headers, query)
        now = self._clock.now()
        request_time = parse_timestamp(signature.timestamp)
        _check_skew(signature, request_time, now, max_skew)
        if "host" not in signature.signed_headers:
            raise InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        if signature.algorithm != ALGORITHM:
            raise IncompleteSignatureException(
                f"Unsupported AWS 'algorithm': '{signature.algorithm}' (only {ALGORITHM} for now). "
            )
        access_key_id, date, region, scope_service = self._check_scope(signature, service)
        key = self._credentials.access_key(access_key_id)
        if key is None:
            raise UnrecognizedClientException()
        token = signature.token if signature.presigned else _single(headers, "x-amz-security-token")
        _check_token(key, token, now)
        self._check_payload(signature, headers, request.body, allow_unsigned_payload)
        expected = self._signature(request, signature, headers, key, date, region, scope_service)
        if not hmac.compare_digest(expected, signature.signature.encode("latin-1", "replace")):
            raise InvalidSignatureException()
        return VerifiedRequest(key.principal, key.access_key_id, region, scope_service, key.temporary)

    def access_key(self, access_key_id: str) -> AccessKey | None:
        """The credentials file's key `access_key_id` (for protocols that sign otherwise: DAX)."""
        return self._credentials.access_key(access_key_id)

    def secret_of(self, access_key_id: str) -> str | None:
        key = self._credentials.access_key(access_key_id)
        return key.secret.reveal() if key is not None else None

    def signing_key(self, secret: str, date: str, region: str, service: str) -> bytes:
        """The derived key for one day, region and service (cached)."""
        return self._signing_key(secret, date, region, service)

    def _check_scope(self, signature: _Signature, service: str) -> tuple[str, str, str, str]:
        parts = signature.credential.rstrip("/").split("/")
        if len(parts) != 5:
            raise IncompleteSignatureException(
                "Credential must have exactly 5 slash-delimited elements, "
                f"e.g. keyid/date/region/service/term, got '{signature.credential}'"
            )
        access_key_id, date, region, scope_service, terminator = parts
        problems = []
        if not self._region_is_valid(region):
            problems.append(f"Credential should be scoped to a valid region, not '{region}'. ")
        if scope_service != service:
            problems.append(f"Credential should be scoped to correct service: '{service}'. ")
        if terminator != "aws4_request":
            problems.append(
                f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            )
        if date != signature.timestamp[:8]:
            problems.append(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{date}' != '{signature.timestamp[:8]}', from '{signature.timestamp}'."
            )
        if problems:
            raise InvalidSignatureException("".join(problems).rstrip())
        return access_key_id, date, region, scope_service

    @staticmethod
    def _check_payload(
        signature: _Signature, headers: dict[str, list[str]], body: bytes | None, allow_unsigned: bool
    ) -> None:
        """The body must be the one the signature covers.

        When the client signed `x-amz-content-sha256`, the canonical request carries that value: the
        body must hash to it (or it names an unsigned payload the API allows). When it did not, botocore
        hashes the body itself, which is then needed.
        """
        declared = _single(headers, "x-amz-content-sha256")
        if declared is not None and (declared in UNSIGNED_PAYLOADS or declared.startswith("STREAMING-")):
            # Signed chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) are S3's; no API here takes them.
            if declared not in UNSIGNED_PAYLOADS or not allow_unsigned:
                raise InvalidSignatureException()
            return
        if body is None:
            if declared is None or "x-amz-content-sha256" not in signature.signed_headers:
                raise IncompleteSignatureException(
                    "The request body is needed to verify a signature without a signed x-amz-content-sha256."
                )
            return
        if declared is not None and not hmac.compare_digest(
            declared.lower().encode("latin-1", "replace"), hashlib.sha256(body).hexdigest().encode()
        ):
            # The signature would cover the declared hash, not this body: the body was changed.
            raise InvalidSignatureException()

    def _signature(
        self,
        request: SignedRequest,
        signature: _Signature,
        headers: dict[str, list[str]],
        key: AccessKey,
        date: str,
        region: str,
        service: str,
    ) -> bytes:
        signer = self._signer(region, service)
        canonical = canonical_request(signer, request, signature.signed_headers, headers, signature.presigned)
        scope = f"{date}/{region}/{service}/aws4_request"
        signing_key = self._signing_key(key.secret.reveal(), date, region, service)
        to_sign = string_to_sign(signature.timestamp, scope, canonical)
        return hmac.digest(signing_key, to_sign, "sha256").hex().encode()

    def _signer(self, region: str, service: str) -> SigV4Auth:
        signer = self._signers.get((region, service))
        if signer is None:
            if len(self._signers) > _KEY_CACHE_SIZE:
                self._signers.clear()
            signer = self._signers[(region, service)] = SigV4Auth(None, service, region)
        return signer


class _Query:
    __slots__ = ("query",)

    def __init__(self, query: str) -> None:
        self.query = query


def string_to_sign(timestamp: str, scope: str, canonical: str) -> bytes:
    """SigV4's string to sign: the algorithm, the request's time, the credential scope and the hash of
    the canonical request (what `SigV4Auth.string_to_sign` joins; a test checks they agree)."""
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}".encode()


def canonical_request(
    signer: SigV4Auth,
    request: SignedRequest,
    signed_headers: tuple[str, ...],
    headers: dict[str, list[str]],
    presigned: bool = False,
) -> str:
    """The canonical request, without the cost of an AWSRequest and its email-style headers: the path and
    query string by botocore's own steps (normalisation, encoding, sorting), the headers and the payload
    hash as the algorithm defines them (names sorted, each value's runs of white space made one space,
    repeats joined with commas).

    `SigV4Auth.canonical_request` joins exactly these six parts; a property test checks the two agree.
    """
    query = request.raw_query
    if presigned:
        # The canonical query string of a presigned URL leaves out the signature itself.
        query = "&".join(p for p in query.split("&") if p.partition("=")[0] != "X-Amz-Signature")
    names = sorted(set(signed_headers))
    lines = [f"{name}:{','.join(' '.join(v.split()) for v in headers.get(name, ('',)))}" for name in names]
    payload = _single(headers, "x-amz-content-sha256") if "x-amz-content-sha256" in names else None
    if payload is None:
        payload = hashlib.sha256(request.body or b"").hexdigest()
    return "\n".join(
        (
            request.method.upper(),
            canonical_path(request.raw_path or "/"),
            signer._canonical_query_string_url(_Query(query)) if query else "",
            "\n".join(lines) + "\n",
            ";".join(names),
            payload,
        )
    )


@lru_cache(maxsize=1024)
def _path_cache(path: str) -> str:
    return str(SigV4Auth._normalize_url_path(None, path))


def canonical_path(path: str) -> str:
    """The path as the canonical request holds it: botocore's normalisation (cached for short paths)."""
    return _path_cache(path) if len(path) <= 256 else str(SigV4Auth._normalize_url_path(None, path))


def _header_map(raw: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in raw:
        key = name.lower()
        found = headers.get(key)
        if found is None:
            headers[key] = [value]
        else:
            found.append(value)
    return headers


def _single(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _parse_query(raw: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if raw:
        for pair in raw.split("&"):
            key, _, value = pair.partition("=")
            if key.startswith("X-Amz-"):
                params.setdefault(unquote(key), unquote(value))
    return params


def _read_signature(headers: dict[str, list[str]], query: dict[str, str]) -> _Signature:
    authorization = _single(headers, "authorization")
    presigned = "X-Amz-Algorithm" in query
    if authorization is not None and presigned:
        raise InvalidSignatureException(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
        )
    if presigned:
        return _read_query_signature(query)
    if authorization is None or not authorization.strip().startswith("AWS4-"):
        raise MissingAuthenticationTokenException()
    return _read_header_signature(authorization, headers)


def _read_header_signature(authorization: str, headers: dict[str, list[str]]) -> _Signature:
    algorithm, _, rest = authorization.strip().partition(" ")
    params: dict[str, str] = {}
    for part in rest.replace(",", " ").split():
        name, equals, value = part.partition("=")
        if not equals:
            raise IncompleteSignatureException(
                f"'{name}' not a valid key=value pair (missing equal-sign) in Authorization header: "
                f"'{authorization}'."
            )
        params.setdefault(name, value)
    problems = [
        f"Authorization header requires '{name}' parameter. "
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    timestamp = _single(headers, "x-amz-date")
    if timestamp is None:
        date_header = _single(headers, "date")
        timestamp = _http_date_as_basic(date_header) if date_header is not None else None
    if timestamp is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        )
    if problems:
        raise IncompleteSignatureException("".join(problems) + f"Authorization={authorization}")
    assert timestamp is not None
    return _Signature(
        algorithm=algorithm,
        credential=params["Credential"],
        signed_headers=tuple(params["SignedHeaders"].lower().split(";")),
        signature=params["Signature"],
        timestamp=timestamp,
        presigned=False,
    )


def _read_query_signature(query: dict[str, str]) -> _Signature:
    problems = [
        f"AWS query-string parameters must include '{name}'. "
        for name in _QUERY_PARAMETERS
        if not query.get(name)
    ]
    if problems:
        raise IncompleteSignatureException("".join(problems) + "Re-examine the query-string parameters.")
    expires_text = query.get("X-Amz-Expires")
    expires = None
    if expires_text is not None:
        if not expires_text.isdigit() or not 1 <= int(expires_text) <= MAX_PRESIGNED_EXPIRES:
            raise IncompleteSignatureException(
                f"X-Amz-Expires must be an integer between 1 and {MAX_PRESIGNED_EXPIRES}, "
                f"got '{expires_text}'"
            )
        expires = int(expires_text)
    return _Signature(
        algorithm=query["X-Amz-Algorithm"],
        credential=query["X-Amz-Credential"],
        signed_headers=tuple(query["X-Amz-SignedHeaders"].lower().split(";")),
        signature=query["X-Amz-Signature"],
        timestamp=query["X-Amz-Date"],
        presigned=True,
        expires=expires,
        token=query.get("X-Amz-Security-Token"),
    )


def _http_date_as_basic(value: str) -> str:
    """The `Date` header (RFC 7231) in ISO-8601 basic form; an unparseable one is passed on to fail."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime(_BASIC_FORMAT)


@lru_cache(maxsize=256)
def parse_timestamp(timestamp: str) -> float:
    """Epoch seconds of an ISO-8601 basic timestamp (cached: busy clients send the same second often)."""
    if _BASIC_RE.fullmatch(timestamp):
        try:
            moment = dt.datetime(
                int(timestamp[0:4]),
                int(timestamp[4:6]),
                int(timestamp[6:8]),
                int(timestamp[9:11]),
                int(timestamp[11:13]),
                int(timestamp[13:15]),
                tzinfo=dt.UTC,
            )
            return moment.timestamp()
        except ValueError:
            pass
    raise IncompleteSignatureException(
        f"Date must be in ISO-8601 'basic format'. Got '{timestamp}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _basic(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime(_BASIC_FORMAT)


def _check_skew(signature: _Signature, request_time: float, now: float, skew: int) -> None:
    minutes = f"{skew // 60} min."
    if signature.presigned and signature.expires is not None:
        if now > request_time + signature.expires:
            raise InvalidSignatureException(
                f"Signature expired: {signature.timestamp} is now earlier than "
                f"{_basic(now - signature.expires)} ({_basic(now)} - {signature.expires} sec.)"
            )
    elif request_time < now - skew:
        raise InvalidSignatureException(
            f"Signature expired: {signature.timestamp} is now earlier than "
            f"{_basic(now - skew)} ({_basic(now)} - {minutes})"
        )
    if request_time > now + skew:
        raise InvalidSignatureException(
            f"Signature not yet current: {signature.timestamp} is still later than "
            f"{_basic(now + skew)} ({_basic(now)} + {minutes})"
        )


def _check_token(key: AccessKey, token: str | None, now: float) -> None:
    if key.session_token is None:
        if token is not None:
            # A long-term key sent with a session token: AWS answers this without the final period.
            raise UnrecognizedClientException("The security token included in the request is invalid")
        return
    if token is None or not hmac.compare_digest(token.encode(), key.session_token.reveal().encode()):
        raise UnrecognizedClientException("The security token included in the request is invalid")
    if key.expires_at is not None and now >= key.expires_at:
        raise ExpiredTokenException()
