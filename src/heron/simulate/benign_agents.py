# ruff: noqa: E501 -- log records and their field tables read best one record a line.
"""A multi-agent customer-support assistant as OpenTelemetry GenAI spans.

One conversation is one trace: the orchestrator (``invoke_agent``) plans with an LLM,
delegates to the ``kb-researcher`` (vector search in Qdrant, then an LLM summary) and
the ``ticket-agent`` (MCP tool calls to the CRM server), then answers.
"""

from __future__ import annotations

import json
from typing import Any

from heron.simulate.emit import Emitter
from heron.simulate.rhythm import hour_sample

__all__ = ["AgentTrace", "agents_day", "message"]

SCHEMA = "https://opentelemetry.io/schemas/1.37.0"
_MS = 1_000_000
_QUESTIONS = (
    "How do I reset my password?",
    "Where is my order 48213?",
    "Can I change the shipping address on my order?",
    "What is your refund policy for annual plans?",
    "The app crashes when I export a report",
    "Do you support single sign-on with Okta?",
)
_KB = (
    ("kb-1042", "To reset a password, open Settings > Security and choose Reset password."),
    ("kb-0077", "Refunds for annual plans are prorated within the first 30 days."),
    ("kb-0310", "Orders can be changed until they are packed; use the order page."),
    ("kb-1188", "Report export crashes on version 4.2 are fixed in 4.2.1."),
    ("kb-0921", "SAML single sign-on is available for Okta, Entra ID and Google."),
)
USUAL_TOOLS = {
    "kb-researcher": ("search_documents",),
    "ticket-agent": ("get_order", "create_ticket", "lookup_customer"),
}


def message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


class AgentTrace:
    """Builds the spans of one conversation; times advance as spans are added."""

    def __init__(self, em: Emitter, ns: int, conversation: str) -> None:
        self.em = em
        self.ns = ns
        self.trace_id = em.hex_id(16)
        self.conversation = conversation
        self.root = em.hex_id(8)

    def _span(
        self, name: str, kind: int, parent: str | None, dur_ms: int, attrs: dict[str, Any],
        service: str, scope: str, span_id: str | None = None,
    ) -> str:  # fmt: skip
        span_id = span_id or self.em.hex_id(8)
        start = self.ns
        self.ns += dur_ms * _MS
        span: dict[str, Any] = {
            "traceId": self.trace_id,
            "spanId": span_id,
            "parentSpanId": parent or "",
            "name": name,
            "kind": kind,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(self.ns),
            "attributes": {**attrs, "gen_ai.conversation.id": self.conversation},
            "status": {"code": 1},
            "resource": {
                "service.name": service,
                "service.version": "2.3.1",
                "deployment.environment.name": "prod",
            },
            "scope": {"name": scope, "version": "0.48b0"},
            "schemaUrl": SCHEMA,
        }
        if not parent:
            del span["parentSpanId"]
        self.em.span(span)
        self.ns += self.em.rng.randint(5, 60) * _MS
        return span_id

    def chat(self, agent: str, parent: str, messages: list[dict[str, Any]], answer: str) -> str:
        rng = self.em.rng
        model = rng.choice(("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"))
        return self._span(
            f"chat {model}", 3, parent, rng.randint(400, 4000),
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": model,
                "gen_ai.response.model": model,
                "gen_ai.agent.name": agent,
                "gen_ai.usage.input_tokens": rng.randint(200, 3000),
                "gen_ai.usage.output_tokens": rng.randint(20, 600),
                "gen_ai.input.messages": json.dumps(messages),
                "gen_ai.output.messages": json.dumps([message("assistant", answer)]),
                "server.address": "api.openai.com",
                "server.port": 443,
            },
            "support-assistant", "opentelemetry.instrumentation.openai_v2",
        )  # fmt: skip

    def route_to_kb(self, question: str) -> tuple[str, str]:
        """The orchestrator's routing turn for ``question``: its span and kb-researcher's."""
        root = self.invoke("support-orchestrator", None)
        self.chat(
            "support-orchestrator",
            root,
            [
                message("system", "You route customer questions to the right agent."),
                message("user", question),
            ],
            "Delegating to kb-researcher.",
        )
        return root, self.invoke("kb-researcher", root)

    def invoke(self, agent: str, parent: str | None, span_id: str | None = None) -> str:
        return self._span(
            f"invoke_agent {agent}", 1, parent, 5,
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent, "gen_ai.agent.id": f"agt_{agent}", "gen_ai.provider.name": "openai"},
            "support-assistant", "openai.agents", span_id,
        )  # fmt: skip

    def retrieve(self, agent: str, parent: str, query: str, docs: list[tuple[str, str]]) -> str:
        """The search tool and the vector-database query under it."""
        tool = self._span(
            "execute_tool search_documents", 1, parent, self.em.rng.randint(30, 200),
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.agent.name": agent,
                "gen_ai.tool.name": "search_documents",
                "gen_ai.tool.type": "datastore",
                "gen_ai.tool.call.id": f"call_{self.em.hex_id(12)}",
                "gen_ai.data_source.id": "support-kb",
                "gen_ai.tool.call.arguments": json.dumps({"query": query, "top_k": len(docs)}),
                "gen_ai.tool.call.result": json.dumps([{"id": d, "text": t} for d, t in docs]),
            },
            "support-assistant", "openai.agents",
        )  # fmt: skip
        self._span(
            "query support-kb", 3, tool, self.em.rng.randint(5, 40),
            {"db.system.name": "qdrant", "db.operation.name": "query", "db.collection.name": "support-kb", "gen_ai.data_source.id": "support-kb", "gen_ai.agent.name": agent, "server.address": "qdrant.internal", "server.port": 6333},
            "support-assistant", "opentelemetry.instrumentation.qdrant",
        )  # fmt: skip
        return tool

    def mcp_tool(
        self, agent: str, parent: str, tool: str, arguments: dict[str, Any], server: str = "crm-mcp"
    ) -> str:
        """A tool call through MCP: the agent's client span and the MCP server's span."""
        call_id = f"call_{self.em.hex_id(12)}"
        session = f"mcp-{self.em.hex_id(6)}"
        client = self._span(
            f"tools/call {tool}", 3, parent, self.em.rng.randint(20, 400),
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.agent.name": agent,
                "gen_ai.tool.name": tool,
                "gen_ai.tool.type": "extension",
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.call.arguments": json.dumps(arguments),
                "mcp.method.name": "tools/call",
                "mcp.session.id": session,
                "mcp.protocol.version": "2025-06-18",
                "server.address": f"{server}.internal",
                "server.port": 8931,
            },
            "support-assistant", "opentelemetry.instrumentation.mcp",
        )  # fmt: skip
        self._span(
            f"tools/call {tool}", 2, client, self.em.rng.randint(5, 300),
            {"mcp.method.name": "tools/call", "gen_ai.tool.name": tool, "gen_ai.operation.name": "execute_tool", "mcp.session.id": session, "jsonrpc.request.id": str(self.em.rng.randint(1, 999)), "client.address": "10.10.4.21"},
            server, "mcp.server",
        )  # fmt: skip
        return client


def conversation(em: Emitter, ns: int) -> None:
    """One benign support conversation."""
    rng = em.rng
    trace = AgentTrace(em, ns, f"conv_{em.hex_id(10)}")
    question = rng.choice(_QUESTIONS)
    root, kb = trace.route_to_kb(question)
    docs = rng.sample(_KB, 2)
    trace.retrieve("kb-researcher", kb, question, docs)
    trace.chat(
        "kb-researcher",
        kb,
        [message("user", question), message("tool", " ".join(t for _, t in docs))],
        docs[0][1],
    )
    if rng.random() < 0.4:
        tk = trace.invoke("ticket-agent", root)
        tool = rng.choice(USUAL_TOOLS["ticket-agent"])
        trace.mcp_tool(
            "ticket-agent",
            tk,
            tool,
            {"order_id": str(rng.randint(40000, 49999))}
            if tool == "get_order"
            else {"customer": f"cus_{em.hex_id(6)}", "summary": question},
        )
    trace.chat("support-orchestrator", root, [message("user", question)], docs[0][1])


def agents_day(em: Emitter, day_ns: int, weekend: bool, scale: float) -> None:
    for _ in range(int(120 * scale * (0.5 if weekend else 1.0))):
        conversation(em, hour_sample(em.rng, day_ns, weekend))
