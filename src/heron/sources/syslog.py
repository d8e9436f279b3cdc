"""``type: syslog``: syslog over UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425).

TCP and TLS apply backpressure: a connection's reader awaits room in the intake
before it reads again, so a fast sender fills the kernel's socket buffers and slows
down instead of Heron buffering without bound. UDP cannot be slowed: when the queue is
full, datagrams are dropped and counted (``dropped``), and the kernel's own drops on
the socket are read from ``/proc/net/udp`` (``heron_source_kernel_dropped_total``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from pathlib import Path

from heron.config import SyslogSourceConfig
from heron.model.deadletter import DeadLetter
from heron.model.timeutil import now_ns
from heron.sources.base import ListenPort, SourceRuntime
from heron.sources.file import RawChunk
from heron.sources.framing import FrameError, SyslogFramer, datagram_record
from heron.sources.tls import server_context

__all__ = ["SyslogSource"]

log = logging.getLogger(__name__)

READ_BYTES = 256 * 1024
UDP_BATCH = 2000
UDP_FLUSH_S = 0.005
UDP_RECEIVE_BUFFER = 8 * 1024 * 1024


def _peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address or "unknown")


def _letters(name: str, errors: list[FrameError], where: str) -> list[DeadLetter]:
    received = now_ns()
    return [
        DeadLetter(
            name,
            e.reason,
            e.raw.decode("utf-8", errors="backslashreplace"),
            where,
            received,
            e.size,
        )
        for e in errors
    ]


class SyslogSource:
    """Listens on one UDP, TCP or TLS port and hands frames to the intake."""

    type = "syslog"

    def __init__(self, config: SyslogSourceConfig, name: str) -> None:
        self.config = config
        self.name = name
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runtime: SourceRuntime | None = None

    def ports(self) -> list[ListenPort]:
        kind = "udp" if self.config.protocol == "udp" else "tcp"
        return [ListenPort(kind, self.config.host, self.config.listen_port)]

    @property
    def bound_port(self) -> int:
        """The port actually bound (differs from the configured one when that is 0)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        if self._udp is not None:
            return int(self._udp.get_extra_info("sockname")[1])
        return self.config.listen_port

    async def start(self, runtime: SourceRuntime) -> None:
        self._runtime = runtime
        cfg = self.config
        loop = asyncio.get_running_loop()
        if cfg.protocol == "udp":
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _DatagramSink(self.name, cfg.format, runtime),
                local_addr=(cfg.host, cfg.listen_port),
                reuse_port=False,
            )
            self._udp = transport
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
                inode = _socket_inode(sock.fileno())
                runtime.metrics.kernel_drops = lambda: _udp_kernel_drops(inode)
            return
        context: ssl.SSLContext | None = None
        if cfg.protocol == "tls":
            if cfg.tls is None:
                raise OSError(f"source {self.name}: protocol tls needs a tls section")
            context = server_context(cfg.tls)
        self._server = await asyncio.start_server(
            self._serve_connection,
            cfg.host,
            cfg.listen_port,
            ssl=context,
            limit=READ_BYTES,
            reuse_address=True,
            ssl_handshake_timeout=30 if context else None,
        )

    async def stop(self) -> None:
        if self._udp is not None:
            protocol = self._udp.get_protocol()
            if isinstance(protocol, _DatagramSink):
                protocol.flush()
            self._udp.close()
            self._udp = None
        if self._server is not None:
            self._server.close()
            # Closing the sockets ends each reader at EOF, which submits what it framed.
            for writer in list(self._connections):
                writer.close()
            if self._tasks:
                _, pending = await asyncio.wait(self._tasks, timeout=5)
                for task in pending:
                    task.cancel()
            await self._server.wait_closed()
            self._server = None

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None and self._runtime is not None
        runtime = self._runtime
        metrics = runtime.metrics
        if len(self._connections) >= self.config.max_connections:
            metrics.rejected["too_many_connections"] += 1
            writer.close()
            return
        self._tasks.add(task)
        self._connections.add(writer)
        metrics.connections += 1
        peer = _peer(writer.get_extra_info("peername"))
        framer = SyslogFramer(self.config.framing, runtime.max_line_bytes)
        try:
            while True:
                data = await reader.read(READ_BYTES)
                if not data:
                    break
                metrics.bytes += len(data)
                records: list[str] = []
                errors: list[FrameError] = []
                framer.feed(data, records, errors)
                if records or errors:
                    await self._submit(records, errors, peer, len(data))
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.info("syslog %s: connection from %s ended: %s", self.name, peer, exc)
        finally:
            records, errors = [], []
            framer.close(records, errors)
            if records or errors:
                with contextlib.suppress(Exception):
                    await self._submit(records, errors, peer, 0)
            metrics.connections -= 1
            self._connections.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _submit(
        self, records: list[str], errors: list[FrameError], peer: str, nbytes: int
    ) -> None:
        runtime = self._runtime
        assert runtime is not None
        runtime.metrics.received += len(records) + len(errors)
        chunk = RawChunk(
            self.name,
            self.config.format,
            records,
            [peer] * len(records),
            _letters(self.name, errors, peer) if errors else [],
        )
        # Waiting here is the backpressure: no read happens until there is room.
        await runtime.intake.submit([chunk], runtime.metrics, nbytes=nbytes, track=False)


class _DatagramSink(asyncio.DatagramProtocol):
    """Collects datagrams into chunks; offers them to the intake or drops and counts."""

    def __init__(self, name: str, fmt: str, runtime: SourceRuntime) -> None:
        self.name = name
        self.format = fmt
        self.runtime = runtime
        self.records: list[str] = []
        self.locations: list[str] = []
        self.errors: list[DeadLetter] = []
        self.nbytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        metrics = self.runtime.metrics
        metrics.bytes += len(data)
        metrics.received += 1
        self.nbytes += len(data)
        errors: list[FrameError] = []
        record = datagram_record(data, self.runtime.max_line_bytes, errors)
        peer = _peer(addr)
        if record is not None:
            self.records.append(record)
            self.locations.append(peer)
        elif errors:
            self.errors.extend(_letters(self.name, errors, peer))
        else:
            metrics.received -= 1  # an empty datagram carries no record
        if len(self.records) + len(self.errors) >= UDP_BATCH:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(UDP_FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.records and not self.errors:
            return
        chunk = RawChunk(self.name, self.format, self.records, self.locations, self.errors)
        count = len(self.records) + len(self.errors)
        if not self.runtime.intake.offer([chunk], self.runtime.metrics, nbytes=self.nbytes):
            self.runtime.metrics.dropped += count
        self.records, self.locations, self.errors, self.nbytes = [], [], [], 0

    def error_received(self, exc: Exception) -> None:
        log.info("syslog %s: %s", self.name, exc)


def _socket_inode(fd: int) -> int | None:
    try:
        link = Path(f"/proc/self/fd/{fd}").readlink()
    except OSError:
        return None
    text = str(link)  # "socket:[12345]"
    if text.startswith("socket:[") and text.endswith("]"):
        return int(text[8:-1])
    return None


def _udp_kernel_drops(inode: int | None) -> int:
    """Datagrams the kernel dropped on this socket (its receive buffer was full)."""
    if inode is None:
        return 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) >= 13 and parts[9] == str(inode):
                return int(parts[-1])
    return 0
