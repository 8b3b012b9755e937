"""Accounts and regions are namespaces: every table, stream, function and mapping lives in one
(account, region), as on AWS. A request's namespace comes from who signed it (http/identity.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Namespace:
    account: str
    region: str
