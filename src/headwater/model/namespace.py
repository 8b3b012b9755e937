"""Accounts and regions are namespaces: every table, stream, Kinesis stream, function and mapping lives in
one (account, region), as on AWS, and its ARN says which. A request's namespace comes from who signed it
(http/identity.py); a resource named by ARN lives in the ARN's namespace."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Namespace:
    account: str
    region: str
    # What this namespace's storage keys start with: `<account>/<region>/` (an account is digits and a
    # region letters, digits and dashes, so no other namespace's keys start the same way). Made once: every
    # write resolves its table by it.
    prefix: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", f"{self.account}/{self.region}/")

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


def arn_namespace(arn: str) -> Namespace | None:
    """The namespace an ARN names (its region and account fields), or None if it has none."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[3] or not parts[4]:
        return None
    return Namespace(parts[4], parts[3])


def rerooted(arn: str, namespace: Namespace) -> str:
    """The same ARN in `namespace` (a resource moved there by the data-directory upgrade)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return arn
    parts[3], parts[4] = namespace.region, namespace.account
    return ":".join(parts)
