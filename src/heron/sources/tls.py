"""Server TLS contexts from configuration, and the checks ``heron validate`` runs on them."""

from __future__ import annotations

import os
import ssl

from heron.config import TlsConfig
from heron.errors import ConfigError

__all__ = ["check_tls_files", "server_context"]


def check_tls_files(tls: TlsConfig, where: str) -> list[str]:
    """Problems with the certificate files: missing, unreadable, or not a usable pair."""
    problems: list[str] = []
    for label, path in (("cert", tls.cert), ("key", tls.key), ("ca", tls.ca)):
        if path is None:
            continue
        if not path.is_file():
            problems.append(f"{where}.tls.{label}: no such file: {path}")
        elif not os.access(path, os.R_OK):
            problems.append(f"{where}.tls.{label}: not readable: {path}")
    if tls.require_client_cert and tls.ca is None:
        problems.append(f"{where}.tls: require_client_cert needs a ca")
    if not problems:
        try:
            server_context(tls)
        except ConfigError as exc:
            problems.append(f"{where}.tls: {exc}")
    return problems


def server_context(tls: TlsConfig) -> ssl.SSLContext:
    """A TLS 1.2+ server context with the configured certificate (and client CA)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(tls.cert), str(tls.key))
        if tls.ca is not None:
            context.load_verify_locations(cafile=str(tls.ca))
            context.verify_mode = (
                ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
            )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the certificate or key: {exc}") from exc
    return context
