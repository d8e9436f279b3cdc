"""Okta System Log events (the ``/api/v1/logs`` JSON objects).

Every key is kept flattened under its own name (``eventType``, ``actor.alternateId``,
``client.ipAddress``, ``outcome.result``: the names SigmaHQ's ``product: okta`` rules
use); ``target`` (a list of objects) is kept as JSON text, with the first target user in
``user.target.*``. ``event.dataset`` is ``okta.okta``: Sigma's Okta rules name the
service ``okta``, and Heron routes a service through ``<module>.<service>``.
"""

from __future__ import annotations

from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.fields import as_int, is_ip, put
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value

__all__ = ["OktaParser"]

_OUTCOMES = {"SUCCESS": "success", "ALLOW": "success", "FAILURE": "failure", "DENY": "failure"}
# eventType prefix → ECS category.
_CATEGORIES = (
    ("user.session.", ["authentication", "session"]),
    ("user.authentication.", ["authentication"]),
    ("user.mfa.", ["authentication"]),
    ("user.lifecycle.", ["iam"]),
    ("user.account.", ["iam"]),
    ("group.", ["iam"]),
    ("application.user_membership.", ["iam"]),
    ("iam.", ["iam"]),
    ("policy.", ["configuration"]),
    ("system.", ["configuration"]),
    ("security.threat.", ["threat"]),
)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class OktaParser:
    """One Okta System Log event."""

    name = "okta"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc}", parser=self.name) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("eventType"), str):
            raise ParseError("not an Okta System Log event: no eventType", parser=self.name)
        event = flatten_json(doc, max_depth=ctx.max_json_depth, parser=self.name, flat_depth=5)
        stamp = parse_time_value(doc.get("published"))
        event["@timestamp"] = stamp if stamp is not None else ctx.received
        event["event.module"] = "okta"
        event["event.dataset"] = "okta.okta"
        event["event.kind"] = "event"
        event_type = doc["eventType"]
        event["event.action"] = event_type
        for prefix, categories in _CATEGORIES:
            if event_type.startswith(prefix):
                event["event.category"] = list(categories)
                break
        outcome = _obj(doc.get("outcome"))
        result = str(outcome.get("result", "")).upper()
        if result in _OUTCOMES:
            event["event.outcome"] = _OUTCOMES[result]
        put(event, "event.reason", outcome.get("reason"))
        put(event, "message", doc.get("displayMessage"))
        severity = doc.get("severity")
        put(event, "log.level", severity.lower() if isinstance(severity, str) else None)
        self._actor(event, _obj(doc.get("actor")))
        self._client(event, _obj(doc.get("client")))
        security = _obj(doc.get("securityContext"))
        number = as_int(security.get("asNumber"))
        if number is not None:
            event["source.as.number"] = number
        put(event, "source.as.organization.name", security.get("asOrg"))
        put(event, "source.domain", security.get("domain"))
        targets = doc.get("target")
        if isinstance(targets, list):
            for target in targets:
                if isinstance(target, dict) and target.get("type") == "User":
                    put(event, "user.target.name", target.get("alternateId"))
                    put(event, "user.target.id", target.get("id"))
                    put(event, "user.target.full_name", target.get("displayName"))
                    break
        coerce_core_fields(event)
        return event

    @staticmethod
    def _actor(event: Event, actor: dict[str, Any]) -> None:
        name = actor.get("alternateId")
        if isinstance(name, str) and name and name != "unknown":
            event["user.name"] = name
            if "@" in name:
                event["user.email"] = name
                event["user.domain"] = name.rpartition("@")[2]
        put(event, "user.id", actor.get("id"))
        put(event, "user.full_name", actor.get("displayName"))

    @staticmethod
    def _client(event: Event, client: dict[str, Any]) -> None:
        address = client.get("ipAddress")
        if isinstance(address, str) and is_ip(address):
            event["source.ip"] = address
            event["client.ip"] = address
        put(event, "user_agent.original", _obj(client.get("userAgent")).get("rawUserAgent"))
        geo = _obj(client.get("geographicalContext"))
        put(event, "source.geo.city_name", geo.get("city"))
        put(event, "source.geo.region_name", geo.get("state"))
        put(event, "source.geo.country_name", geo.get("country"))
        put(event, "source.geo.postal_code", geo.get("postalCode"))
        location = _obj(geo.get("geolocation"))
        lat, lon = location.get("lat"), location.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            event["source.geo.location.lat"] = lat
            event["source.geo.location.lon"] = lon
