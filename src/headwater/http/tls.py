"""HTTPS: the server's TLS context from a PEM certificate (chain) and its private key.

Every way the two files can be wrong becomes a `TlsError` whose message names the file and what is wrong
with it: `headwater serve` shows it and exits, rather than failing later or printing a traceback. OpenSSL's
own texts say little ("PEM lib") and do not say which file, so the files are looked at first.
"""

from __future__ import annotations

import ssl
from pathlib import Path


class TlsError(Exception):
    """A certificate or key that cannot serve HTTPS."""


class _Encrypted(Exception):
    pass


def _refuse_password() -> str:
    # without a callback OpenSSL would ask for a passphrase on the terminal, and a server waits forever
    raise _Encrypted()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TlsError(f"cannot read the TLS {what} file {path}: {exc.strerror or exc}") from None


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side context (TLS 1.2 and later, HTTP/1.1 over ALPN) serving `cert` with `key`."""
    if b"-----BEGIN CERTIFICATE-----" not in _read(cert, "certificate"):
        raise TlsError(
            f"the TLS certificate file {cert} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )
    if b"PRIVATE KEY-----" not in _read(key, "key"):
        raise TlsError(f"the TLS key file {key} holds no PEM private key (-----BEGIN ... PRIVATE KEY-----)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(cert, key, password=_refuse_password)
    except _Encrypted:
        raise TlsError(
            f"the TLS key file {key} is encrypted: give Headwater a key without a passphrase"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsError(f"the TLS key {key} does not belong to the certificate {cert}") from None
        raise TlsError(
            f"cannot load the TLS certificate {cert} and key {key} (is each valid PEM?): {exc}"
        ) from None
    return context
