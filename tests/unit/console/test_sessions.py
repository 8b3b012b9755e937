"""Console sessions: bounded in number, ended when idle or old, tokens compared whole."""

from __future__ import annotations

from headwater.console.client import Principal
from headwater.console.sessions import ABSOLUTE_SECONDS, IDLE_SECONDS, MAX_SESSIONS, Sessions

WHO = Principal("AKIAEXAMPLE", "secret", "us-east-1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_found_by_its_id_and_nothing_else() -> None:
    sessions = Sessions(Clock())
    session = sessions.start(WHO)
    assert sessions.find(session.id) == session
    assert sessions.find(session.id + "x") is None
    assert sessions.find("") is None
    assert sessions.find(None) is None
    assert sessions.find("a" * 10_000) is None
    assert session.id != session.csrf


def test_the_token_must_match_whole() -> None:
    session = Sessions(Clock()).start(WHO)
    assert session.token_matches(session.csrf)
    assert not session.token_matches(session.csrf[:-1])
    assert not session.token_matches(session.csrf + "x")
    assert not session.token_matches("")
    assert not session.token_matches(None)


def test_an_idle_session_ends_and_a_used_one_does_not() -> None:
    clock = Clock()
    sessions = Sessions(clock)
    used, idle = sessions.start(WHO), sessions.start(WHO)
    for _ in range(3):
        clock.now += IDLE_SECONDS * 0.6
        assert sessions.find(used.id) == used
    assert sessions.find(idle.id) is None
    assert len(sessions) == 1


def test_every_session_ends_after_its_absolute_lifetime() -> None:
    clock = Clock()
    sessions = Sessions(clock)
    session = sessions.start(WHO)
    while clock.now - 1000.0 < ABSOLUTE_SECONDS - IDLE_SECONDS / 2:
        clock.now += IDLE_SECONDS / 2
        assert sessions.find(session.id) == session
    clock.now += IDLE_SECONDS / 2 + 1
    assert sessions.find(session.id) is None


def test_the_number_of_sessions_is_bounded_least_recently_used_first() -> None:
    clock = Clock()
    sessions = Sessions(clock)
    first = sessions.start(WHO)
    second = sessions.start(WHO)
    for _ in range(MAX_SESSIONS - 2):
        sessions.start(WHO)
    clock.now += 1
    assert sessions.find(first.id) == first  # used: now the most recent
    sessions.start(WHO)
    assert len(sessions) == MAX_SESSIONS
    assert sessions.find(second.id) is None
    assert sessions.find(first.id) == first


def test_ending_a_session() -> None:
    sessions = Sessions(Clock())
    session = sessions.start(WHO)
    sessions.end(session.id)
    sessions.end(session.id)
    assert sessions.find(session.id) is None
