"""The app factory on its own: lifespan runs the collector, route groups compose."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from heron.api.app import create_app
from heron.config import ServeConfig
from heron.runtime import open_node

TOKEN = "app-test-token-0123456789"


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello from another group")


def test_create_app_serves_ingest_health_and_extra_groups(tmp_path: Path) -> None:
    with open_node(tmp_path / "data", detect=False) as node:
        app = create_app(
            node,
            ServeConfig.default(),
            tokens=[TOKEN],
            route_groups=[[Route("/extra/hello", hello)]],
        )

        async def exercise() -> None:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://heron"
                ) as client,
            ):
                answer = await client.post(
                    "/services/collector/event",
                    content=orjson.dumps({"event": "through the app"}),
                    headers={"Authorization": f"Splunk {TOKEN}"},
                )
                assert answer.status_code == 200
                # Answered once in the receive log; stored when its batch commits.
                for _ in range(200):
                    health = (await client.get("/healthz")).json()
                    if health["sources"]["hec"]["parsed"]:
                        break
                    await asyncio.sleep(0.05)
                assert health["sources"]["hec"]["parsed"] == 1
                assert "heron_source_parsed_total" in (await client.get("/metrics")).text
                assert (await client.get("/extra/hello")).text == "hello from another group"
                assert (await client.post("/v1/logs", content=b"{}")).status_code == 401

        asyncio.run(exercise())
        rows = node.store.query("SELECT message FROM events").to_pylist()
    assert rows == [{"message": "through the app"}]
