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


_MAX_NAMESPACES = 1024  # regions are the client's choice: the table of them must not grow without bound


class Namespaces:
    """One `Namespace` object per (account, region), the server's default among them: `Database.scoped`
    knows the default by identity and every other by a dictionary look-up, so a request should not
    build a new one (a frozen dataclass made and hashed each time: ~2 us of a signed PutItem)."""

    def __init__(self, default: Namespace) -> None:
        self.default = default
        self._known: dict[tuple[str, str], Namespace] = {(default.account, default.region): default}

    def get(self, account: str, region: str) -> Namespace:
        namespace = self._known.get((account, region))
        if namespace is None:
            if len(self._known) >= _MAX_NAMESPACES:
                self._known = {(self.default.account, self.default.region): self.default}
            namespace = self._known[(account, region)] = Namespace(account, region)
        return namespace

    def signed_for(self, authorization: bytes | None) -> Namespace:
        """`--auth off`: the server's account, the region of the credential scope."""
        region = scope_region(authorization)
        return self.default if region is None else self.get(self.default.account, region)


def scope_region(authorization: bytes | None) -> str | None:
    """The region of an Authorization header's credential scope (None: unsigned or unreadable)."""
    if authorization is None:
        return None
    match = _SCOPE.search(authorization)
    return None if match is None else match.group(1).decode()


def namespace_of(authorization: bytes | None, default: Namespace) -> Namespace:
    region = scope_region(authorization)
    return default if region is None or region == default.region else Namespace(default.account, region)
