"""TAXII 2.1 collections, read page by page with ``taxii2-client``.

Every page is fetched before anything is handed on: a server that times out or fails
on page 7 leaves nothing half-loaded, and the error says which page. Requests have a
timeout (``taxii2-client`` sets none, so a silent server would hang a refresh forever).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from taxii2client.common import _HTTPConnection
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import Collection, as_pages

from heron.gctune import collector_paused
from heron.intel.errors import FeedError
from heron.intel.loaders.base import LoadOptions, LoadResult
from heron.intel.loaders.stix import parse_stix
from heron.model.timeutil import format_ns, now_ns

__all__ = ["TaxiiFetch", "fetch_taxii"]


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: float) -> None:
        super().__init__(max_retries=0)
        self.timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


@dataclass(slots=True)
class TaxiiFetch:
    """What a fetch brought: the parsed indicators, pages read, and when it started."""

    result: LoadResult
    pages: int
    objects: int
    started: int


def _connection(
    user: str | None, password: str | None, verify: bool, timeout: float
) -> _HTTPConnection:
    conn = _HTTPConnection(user, password, verify, version="2.1")
    adapter = _TimeoutAdapter(timeout)
    conn.session.mount("http://", adapter)
    conn.session.mount("https://", adapter)
    return conn


def fetch_taxii(
    collection_url: str,
    options: LoadOptions,
    *,
    user: str | None = None,
    password: str | None = None,
    added_after: int | None = None,
    page_size: int = 1000,
    timeout: float = 30.0,
    verify: bool = True,
    max_pages: int = 10_000,
) -> TaxiiFetch:
    """All indicators of a TAXII 2.1 collection (added after ``added_after``, if given).

    Raises ``FeedError`` on a timeout, a refused connection, an HTTP error or a
    response that is not TAXII; in that case nothing was parsed.
    """
    started = now_ns()
    source = options.source or collection_url.rstrip("/").rsplit("/", 1)[-1]
    conn = _connection(user, password, verify, timeout)
    objects: list[Any] = []
    pages = 0
    try:
        collection = Collection(collection_url, conn=conn)
        kwargs: dict[str, Any] = {}
        if added_after is not None:
            kwargs["added_after"] = format_ns(added_after)
        for envelope in as_pages(collection.get_objects, per_request=page_size, **kwargs):
            pages += 1
            if not isinstance(envelope, dict):
                raise FeedError(f"page {pages} is not a TAXII envelope", where=collection_url)
            objects.extend(envelope.get("objects") or [])
            if pages >= max_pages:
                raise FeedError(f"more than {max_pages} pages; stopping", where=collection_url)
    except requests.Timeout:
        raise FeedError(
            f"no answer within {timeout:g} s (page {pages + 1}); nothing loaded",
            where=collection_url,
        ) from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        reason = exc.response.reason if exc.response is not None else str(exc)
        raise FeedError(
            f"HTTP {status} {reason} (page {pages + 1}); nothing loaded", where=collection_url
        ) from None
    except requests.RequestException as exc:
        raise FeedError(f"request failed: {exc}; nothing loaded", where=collection_url) from None
    except (TAXIIServiceException, ValueError) as exc:
        raise FeedError(
            f"not a TAXII 2.1 answer: {exc}; nothing loaded", where=collection_url
        ) from None
    finally:
        conn.close()
    with collector_paused():
        result = parse_stix(
            {"type": "bundle", "objects": objects}, options, where=collection_url, source=source
        )
        result.format = "taxii"
        result.finish(options)
    return TaxiiFetch(result, pages, len(objects), started)
