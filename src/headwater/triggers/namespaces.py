"""Functions, layers and event source mappings live in a namespace (account, region), as on AWS: one
`TriggerService` per namespace, each with its own functions, layers, mappings, ARNs and state (kept in
the shared store under the namespace's key prefix, see state.ScopedStateStore). A namespace's service is
made when first asked for, and at start for every namespace that has something stored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..model.namespace import Namespace
from .errors import ServiceException
from .layers import LAYER_KIND
from .service import TriggerService
from .state import FUNCTION_KIND, MAPPING_KIND, StateStore

MAX_NAMESPACES = 1024  # client-chosen regions must not grow this without bound


class TriggerServices:
    def __init__(
        self, default: Namespace, make: Callable[[Namespace], TriggerService], state: StateStore
    ) -> None:
        self.default_namespace = default
        self._make = make
        self._state = state
        self._services: dict[Namespace, TriggerService] = {}
        self._lock = asyncio.Lock()
        self.leading = True  # services run their mappings (see TriggerService.leading)

    async def start(self) -> None:
        """Start the services of the default namespace and of every namespace with stored functions,
        layers or mappings (so their mappings poll again)."""
        found = {self.default_namespace}
        for kind in (FUNCTION_KIND, MAPPING_KIND, LAYER_KIND):
            for key, _ in await self._state.list(kind):
                account, region, rest = key.split("/", 2) if key.count("/") >= 2 else ("", "", "")
                if rest:
                    found.add(Namespace(account, region))
        for namespace in sorted(found, key=lambda ns: (ns.account, ns.region)):
            await self.get(namespace)

    async def get(self, namespace: Namespace) -> TriggerService:
        service = self._services.get(namespace)
        if service is not None:
            return service
        async with self._lock:
            service = self._services.get(namespace)
            if service is None:
                if len(self._services) >= MAX_NAMESPACES:
                    raise ServiceException(f"Headwater serves Lambda in at most {MAX_NAMESPACES} namespaces")
                service = self._make(namespace)
                service.leading = self.leading
                await service.start()
                self._services[namespace] = service
        return service

    async def lead(self) -> None:
        """This node holds the background lease: every namespace's mappings run here."""
        self.leading = True
        await self.resync()

    async def follow(self) -> None:
        self.leading = False
        for service in list(self._services.values()):
            await service.follow()

    async def resync(self) -> None:
        """Namespaces, functions and mappings other nodes made or changed, picked up."""
        await self.start()
        for service in list(self._services.values()):
            service.leading = self.leading
            await service.resync()

    @property
    def default(self) -> TriggerService:
        """The default namespace's service (there once `start` has run)."""
        return self._services[self.default_namespace]

    def all(self) -> list[TriggerService]:
        return list(self._services.values())

    async def stop(self) -> None:
        for service in self._services.values():
            await service.stop()
        self._services.clear()
