"""Other Headwater servers that serve a global table's other regions (`--region-endpoint`), reached as
any client reaches them: DynamoDB and DynamoDB Streams calls over HTTP or HTTPS, SigV4-signed with the
`--peer-credentials`, for the region asked about. Plus one Headwater call, `replicas/join`, that makes
a new replica on the server of its region (as UpdateTable's Create does for a region of this server)."""

from __future__ import annotations

import asyncio
import ssl
import urllib.error
import urllib.request
from typing import Any

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ..config import Settings
from ..consumer import HttpTransport, StreamsError, tls_client
from ..errors import (
    DynamoDBError,
    InternalServerError,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from ..model.namespace import Namespace
from ..model.schema import TableSpec

TIMEOUT = 30.0


class Peers:
    def __init__(self, settings: Settings) -> None:
        self.endpoints = dict(settings.region_endpoints)
        self._keys = (settings.peer_access_key, settings.peer_secret_key)
        self._transports: dict[tuple[str, str], HttpTransport] = {}
        self._tls: ssl.SSLContext | None = None
        self._ca = settings.peer_ca

    def _context(self) -> ssl.SSLContext:
        """What https peers are verified with (made once: loading the system's CAs takes a while)."""
        if self._tls is None:
            self._tls = tls_client(self._ca)
        return self._tls

    def is_remote(self, region: str) -> bool:
        return region in self.endpoints

    def transport(self, region: str, service: str = "dynamodbstreams") -> HttpTransport:
        """Calls to `region`'s server (`service`: dynamodbstreams or dynamodb), signed for `region`."""
        transport = self._transports.get((region, service))
        if transport is None:
            access, secret = self._keys
            transport = HttpTransport(
                self.endpoints[region],
                region=region,
                access_key=access,
                secret_key=secret,
                service=service,
                tls=self._context() if self.endpoints[region].startswith("https:") else None,
            )
            self._transports[(region, service)] = transport
        return transport

    async def call(self, region: str, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """A DynamoDB call to `region`'s server; its errors as this server's own (a lost peer: 500)."""
        try:
            return await self.transport(region, "dynamodb").call(operation, request)
        except StreamsError as err:
            raise as_error(err.code, err.message, region) from None

    async def admin(self, region: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /_headwater/replicas/<action>` on `region`'s server."""
        url = f"{self.endpoints[region]}/_headwater/replicas/{action}"
        data = orjson.dumps(body)
        request = AWSRequest("POST", url, data=data, headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(*self._keys), "dynamodb", region).add_auth(request)
        prepared = urllib.request.Request(url, data=data, headers=dict(request.headers), method="POST")
        tls = self._context() if url.startswith("https:") else None

        def send() -> tuple[int, bytes]:
            try:
                with urllib.request.urlopen(prepared, timeout=TIMEOUT, context=tls) as response:
                    return int(response.status), bytes(response.read())
            except urllib.error.HTTPError as err:
                return int(err.code), bytes(err.read())

        try:
            status, payload = await asyncio.to_thread(send)
        except OSError as exc:
            raise as_error("ConnectionError", str(exc), region) from None
        answer: dict[str, Any] = orjson.loads(payload) if payload else {}
        if status >= 300:
            code = str(answer.get("__type", "InternalServerError")).rpartition("#")[2]
            raise as_error(code, str(answer.get("message", answer.get("Message", ""))), region)
        return answer

    async def tell(self, table: TableSpec, change: dict[str, str], but: str = "") -> None:
        """Tell `table`'s replicas on other servers (but `but`'s) that a region joined (`Add`) or left
        (`Remove`): `POST /_headwater/replicas/membership` on each. Replicas on their way out (DELETING)
        need not know."""
        for replica in table.replicas:
            if self.is_remote(replica.region) and replica.region != but and replica.status != "DELETING":
                there = Namespace(table.namespace.account, replica.region)
                arn = there.arn("dynamodb", f"table/{table.name}")
                await self.admin(replica.region, "membership", {"TableArn": arn, **change})

    async def close(self) -> None:
        for transport in self._transports.values():
            await transport.close()
        self._transports.clear()


def as_error(code: str, message: str, region: str) -> DynamoDBError:
    if code == "ValidationException":
        return ValidationException(message)
    if code == "ResourceInUseException":
        return ResourceInUseException(message)
    if code == "ResourceNotFoundException":
        return ResourceNotFoundException(message)
    return InternalServerError(f"The replica region {region} answered {code}: {message}")
