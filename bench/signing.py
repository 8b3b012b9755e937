"""Real SigV4 signatures for the load generator's pre-rendered requests (`--auth sigv4`), cheaply: the
derived signing key is computed once a day and the date once a second; per request it is two SHA-256
digests and one HMAC, a few microseconds, so the generator still spends its time waiting."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-target"


@dataclass(frozen=True, slots=True)
class Credentials:
    key_id: str
    secret: str


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = hmac.digest(("AWS4" + secret).encode(), day.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


class Signer:
    """Signs POST / requests whose signed headers are Content-Type, Host, X-Amz-Date and X-Amz-Target."""

    def __init__(self, credentials: Credentials, host: str, content_type: str, region: str) -> None:
        self.credentials = credentials
        self.region = region
        self.host = host
        self.content_type = content_type
        self._second = -1
        self._date = ""
        self._keys: dict[str, tuple[str, bytes]] = {}  # service -> (scope, key) of the current day

    def date(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second = now
            date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            if date[:8] != self._date[:8]:
                self._keys.clear()
            self._date = date
        return self._date

    def headers(self, target: str, body: bytes) -> tuple[str, str]:
        """(X-Amz-Date, Authorization) for a request of `target` carrying `body`."""
        date = self.date()
        service = "kinesis" if target.startswith("Kinesis_") else "dynamodb"
        scoped = self._keys.get(service)
        if scoped is None:
            scope = f"{date[:8]}/{self.region}/{service}/aws4_request"
            key = signing_key(self.credentials.secret, date[:8], self.region, service)
            scoped = self._keys[service] = (scope, key)
        scope, key = scoped
        canonical = (
            f"POST\n/\n\ncontent-type:{self.content_type}\nhost:{self.host}\nx-amz-date:{date}\n"
            f"x-amz-target:{target}\n\n{SIGNED_HEADERS}\n{hashlib.sha256(body).hexdigest()}"
        )
        to_sign = f"{ALGORITHM}\n{date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        authorization = (
            f"{ALGORITHM} Credential={self.credentials.key_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, "
            f"Signature={signature}"
        )
        return date, authorization
