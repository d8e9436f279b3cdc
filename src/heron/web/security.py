"""Headers every UI response carries, and static files served from a fixed list."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "SecurityHeaders", "static_endpoint"]

#: No inline scripts or styles, nothing from other origins, never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class SecurityHeaders:
    """ASGI middleware adding the security headers (pages also get ``no-store``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/ui/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in _HEADERS if h[0] not in names)
                if not static and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _static_files() -> dict[str, Path]:
    root = Path(str(resources.files("heron.web") / "static"))
    return {p.name: p for p in root.iterdir() if p.is_file() and p.suffix in _TYPES}


def static_endpoint() -> object:
    """``GET /ui/static/{name}``: only files listed at start; anything else is 404."""
    files = _static_files()

    async def serve(request: Request) -> Response:
        name = request.path_params["name"]
        path = files.get(name)
        if path is None:  # "../x", "%2e%2e/x", subfolders, unknown names: all refused
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(
            path,
            media_type=_TYPES[path.suffix],
            headers={"cache-control": "public, max-age=300"},
        )

    return serve
