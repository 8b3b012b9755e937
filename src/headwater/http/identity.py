"""Who a request speaks for: its namespace (account, region).

Without verification (`--auth off`) the region is the one the client signed for (its credential scope),
the server's `--region` when the request is unsigned or the scope unreadable, and the account is the
server's one default account.
"""

from __future__ import annotations

import re

from ..core.namespace import Namespace

# Credential=AKID/20260101/us-east-2/dynamodb/aws4_request
_SCOPE = re.compile(rb"Credential=[^/,\s]+/\d{8}/([a-z0-9-]{1,32})/")


def namespace_of(authorization: bytes | None, default: Namespace) -> Namespace:
    if authorization is None:
        return default
    match = _SCOPE.search(authorization)
    if match is None:
        return default
    region = match.group(1).decode()
    return default if region == default.region else Namespace(default.account, region)
