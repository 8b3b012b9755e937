"""Fixtures of the console's tests: the browser (browser.py) and a fresh 1280x800 page per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.console.browser import WAIT_MS, browser, shots

__all__ = ["browser", "shots"]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()
