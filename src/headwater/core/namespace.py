"""Where the HTTP and process layers import `Namespace` from; the value itself is a model value
(model/namespace.py), so that every layer, storage-facing services included, can name it."""

from __future__ import annotations

from ..model.namespace import Namespace

__all__ = ["Namespace"]
