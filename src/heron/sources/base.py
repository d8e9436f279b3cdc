"""What a network source is: the ports it needs, how it starts and stops, its routes.

A source is named after its configuration ``type`` (``heron.sources.syslog`` runs
``type: syslog``). It declares its ports before anything starts, so ``heron
validate`` finds clashes; it hands records to the ``Intake`` as ``RawChunk``s; HTTP
sources give routes that the app factory mounts. Acknowledgement is part of the
contract: a source answers "stored" only after the intake's future for that data
has resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from heron.intake import Intake
    from heron.metrics import SourceMetrics

__all__ = ["HttpSource", "ListenPort", "ServiceSource", "SourceRuntime"]


class ListenPort(NamedTuple):
    """A port a source listens on: ``("tcp", "127.0.0.1", 514)``."""

    protocol: str  # "tcp" or "udp" (TLS and HTTP are TCP)
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class SourceRuntime:
    """What a running source is handed: the queue and its own counters."""

    intake: Intake
    metrics: SourceMetrics
    max_line_bytes: int
    max_body_bytes: int
    busy_timeout_s: float


class ServiceSource(Protocol):
    """A source with listeners or tasks of its own (syslog sockets, file tailing)."""

    type: str
    name: str

    def ports(self) -> list[ListenPort]:
        """Ports this source will bind; empty for sources without listeners."""
        ...

    async def start(self, runtime: SourceRuntime) -> None:
        """Bind and begin; raises ``OSError`` when a port cannot be bound."""
        ...

    async def stop(self) -> None:
        """Stop taking data; what was already handed to the intake still commits."""
        ...


class HttpSource(Protocol):
    """A source served over HTTP: it only contributes routes."""

    type: str
    name: str

    def ports(self) -> list[ListenPort]:
        """Its own listener's port, or empty when served on the shared HTTP listener."""
        ...

    def routes(self, runtime: SourceRuntime) -> list[BaseRoute]:
        """Starlette routes answering this source's clients."""
        ...
