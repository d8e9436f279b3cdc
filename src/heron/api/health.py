"""``/healthz`` (JSON status) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from heron.collector import Collector

__all__ = ["health_routes"]

#: Above this share of the queue in use, health reads "busy" (still 200: serving).
BUSY_SHARE = 0.9


def health_routes(collector: Collector) -> list[BaseRoute]:
    """The two routes, reading ``collector``'s counters."""

    async def healthz(request: Request) -> Response:
        metrics = collector.metrics
        events, nbytes = collector.intake.depth
        cap_events, cap_bytes = metrics.queue_capacity
        if collector.stopping:
            status = "stopping"
        elif events >= BUSY_SHARE * cap_events or nbytes >= BUSY_SHARE * cap_bytes:
            status = "busy"
        else:
            status = "ok"
        body = {
            "status": status,
            "uptime_s": round(time.time() - metrics.started, 3),
            "queue": {
                "events": events,
                "bytes": nbytes,
                "capacity_events": cap_events,
                "capacity_bytes": cap_bytes,
            },
            "batches_committed": metrics.batches_committed,
            "commit_failures": metrics.commit_failures,
            "sources": {
                s.name: {
                    "type": s.type,
                    "received": s.received,
                    "parsed": s.parsed,
                    "failed": s.failed,
                    "dropped": s.dropped,
                }
                for s in metrics.sources.values()
            },
        }
        return JSONResponse(body, status_code=503 if status == "stopping" else 200)

    async def prometheus(request: Request) -> Response:
        return PlainTextResponse(
            collector.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
