"""One Namespace object per (account, region): the default is handed over as itself (Database.scoped knows
it by identity), every other is made once, and a client choosing regions cannot grow the table."""

from __future__ import annotations

from headwater.core.namespace import Namespace
from headwater.http.identity import Namespaces, namespace_of

DEFAULT = Namespace("123456789012", "us-east-1")
SIGNED = (
    b"AWS4-HMAC-SHA256 Credential=AKID/20260101/%s/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
)


def test_the_default_is_itself_and_others_are_made_once() -> None:
    namespaces = Namespaces(DEFAULT)
    assert namespaces.get("123456789012", "us-east-1") is DEFAULT
    west = namespaces.get("123456789012", "eu-west-1")
    assert west == Namespace("123456789012", "eu-west-1")
    assert namespaces.get("123456789012", "eu-west-1") is west
    assert namespaces.get("210987654321", "eu-west-1") is not west


def test_open_requests_speak_for_the_region_they_signed_for() -> None:
    namespaces = Namespaces(DEFAULT)
    assert namespaces.signed_for(None) is DEFAULT
    assert namespaces.signed_for(b"garbage") is DEFAULT
    assert namespaces.signed_for(SIGNED % b"us-east-1") is DEFAULT
    assert namespaces.signed_for(SIGNED % b"us-east-2") is namespaces.signed_for(SIGNED % b"us-east-2")
    assert namespaces.signed_for(SIGNED % b"us-east-2") == namespace_of(SIGNED % b"us-east-2", DEFAULT)


def test_the_table_is_bounded() -> None:
    namespaces = Namespaces(DEFAULT)
    for i in range(5000):
        namespaces.get("123456789012", f"region-{i}")
    assert len(namespaces._known) <= 1024
    assert namespaces.get("123456789012", "us-east-1") is DEFAULT
