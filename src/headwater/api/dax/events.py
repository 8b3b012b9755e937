"""DescribeEvents: what happened to the namespace's clusters, parameter groups and subnet groups, newest
first. By default the last 24 hours; up to 14 days are kept."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...dax.errors import InvalidParameterCombinationException
from ...dax.names import page

DEFAULT_WINDOW_SECONDS = 24 * 3600


async def describe_events(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    now = db.clock.now()
    end = float(request.get("EndTime", now))
    if "Duration" in request:
        if "StartTime" in request:
            raise InvalidParameterCombinationException("StartTime and Duration cannot both be given.")
        start = end - 60.0 * request["Duration"]
    else:
        start = float(request.get("StartTime", end - DEFAULT_WINDOW_SECONDS))
    name, kind = request.get("SourceName"), request.get("SourceType")
    found = [
        event
        for event in reversed(db.dax.events())
        if start <= event["Date"] <= end
        and (name is None or event["SourceName"] == name)
        and (kind is None or event["SourceType"] == kind)
    ]
    shown, token = page(request, found)
    answer: dict[str, Any] = {"Events": shown}
    if token is not None:
        answer["NextToken"] = token
    return answer
