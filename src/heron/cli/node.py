"""Commands answered by the node that serves a data directory, over its control socket.

A running ``heron serve`` holds the data directory's database, so no other process
may open it. The commands that would (``ingest``, ``search``, ``alerts``, ``hunt``,
``stats``, ``retention``, ``intel``, ``rules backtest`` …) then ask the node's API
instead, through ``<data-dir>/run/node.sock`` (``heron.control``), and print the same
output. Which commands do so, and what they cannot do meanwhile, is in
``docs/reference/api.md`` ("The control socket").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import httpx

__all__ = ["NodeApi", "error_of", "node_api", "node_client"]


def node_client(socket_path: Path) -> httpx.Client:
    """An HTTP client of the node's API on its control socket (no timeout on answers:
    a large file is answered once all of it is stored, a hunt once it has run)."""
    return httpx.Client(
        transport=httpx.HTTPTransport(uds=str(socket_path)),
        base_url="http://heron-node",
        timeout=httpx.Timeout(None, connect=10.0),
    )


def error_of(response: httpx.Response) -> str:
    """The message of an API error answer."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or body)
    return str(body)


class NodeApi:
    """JSON calls to the running node; its errors become the command's."""

    def __init__(self, client: httpx.Client, data_dir: Path) -> None:
        self.client = client
        self.data_dir = data_dir

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        content: bytes | None = None,
        not_found: str | None = None,
    ) -> Any:
        """The answer's JSON; ``not_found``: the message for a 404 (else the node's)."""
        try:
            response = self.client.request(method, path, params=params, json=json, content=content)
        except httpx.TransportError as exc:
            raise click.ClickException(
                f"the node serving {self.data_dir} did not answer ({exc})"
            ) from exc
        if response.status_code == 404 and not_found is not None:
            raise click.ClickException(not_found)
        if response.status_code >= 400:
            raise click.ClickException(error_of(response))
        return response.json()


@contextmanager
def node_api(data_dir: str | Path) -> Iterator[NodeApi | None]:
    """The API of the node serving ``data_dir``, or None when none runs."""
    from heron.control import running_node_socket

    root = Path(data_dir)
    socket_path = running_node_socket(root)
    if socket_path is None:
        yield None
        return
    with node_client(socket_path) as client:
        yield NodeApi(client, root)
