"""Who may use the server, decided once at start: `--auth sigv4` (the default) verifies every request
against the credentials file; `--auth off` takes any signature as the server's one account.

Secure by default: without a credentials file `serve` refuses to start and says how to make one, and
`--auth off` is refused unless the server listens on a loopback address only (then only programs on this
machine can reach it, as with today's developer setup).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .auth.config import AuthConfig, AuthConfigError, load
from .config import Settings

MODES = ("sigv4", "off")


class StartRefused(Exception):
    """The server must not start as configured; the message tells the operator what to do instead."""


@dataclass(frozen=True, slots=True)
class Access:
    """The outcome of the start-up decision. `config` is None with `--auth off`."""

    config: AuthConfig | None

    @property
    def verifies(self) -> bool:
        return self.config is not None


def load_access(settings: Settings) -> Access:
    """The server's access mode, or StartRefused with a message that says how to fix the setup."""
    if settings.auth not in MODES:
        raise StartRefused(f"--auth must be one of {', '.join(MODES)}, not {settings.auth!r}")
    if settings.auth == "off":
        if not settings.loopback_only:
            raise StartRefused(
                "--auth off accepts any request as the server's account, so it is only allowed on a "
                f"loopback address (127.0.0.1, ::1, localhost), not on {settings.host!r}: anyone who can "
                "reach the port could read, change and delete every table and run code through the Lambda "
                "API. "
                "To serve other machines, create a credentials file and leave --auth at sigv4:\n"
                + _how_to_add(settings.auth_config)
            )
        return Access(None)
    path = settings.auth_config
    if not path.exists():
        raise StartRefused(
            f"no credentials file at {path}: --auth sigv4 (the default) verifies every request's signature "
            "against the access keys in it.\n"
            + _how_to_add(path)
            + "\nor, for a server that only this machine can reach, run without credentials:\n"
            "  headwater serve --auth off            (loopback addresses only)"
        )
    try:
        config = load(path, allow_insecure=settings.allow_insecure_auth_config)
    except AuthConfigError as err:
        raise StartRefused(str(err)) from None
    if not any(user.access_keys for user in config.users) and not config.temporary:
        raise StartRefused(f"{path} holds no access keys: nobody could sign a request.\n" + _how_to_add(path))
    return Access(config)


def _how_to_add(path: Path) -> str:
    return (
        "Add a user with an access key (its secret is printed once) and the policy it acts under:\n"
        f"  headwater auth add-user NAME --account 123456789012 --policy policy.json --auth-config {path}\n"
        f"then start the server with --auth-config {path} (or HEADWATER_AUTH_CONFIG={path})."
    )
