"""What a running node does beside its sources and its API: it follows rule files
changed outside it, keeps its data directory in shape, and refreshes its intel feeds.

``heron serve`` (``run_server``) and the app's own lifespan (tests, embedding) start the
same tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from heron.errors import ConfigError
from heron.housekeeping import housekeep

if TYPE_CHECKING:
    from pathlib import Path

    from heron.api.rulebook import RuleBook
    from heron.collector import Collector
    from heron.config import ServeConfig
    from heron.intel.feeds import FeedScheduler
    from heron.runtime import Node

__all__ = ["feed_scheduler", "start_node_tasks", "stop_node_tasks"]

log = logging.getLogger(__name__)


def feed_scheduler(node: Node, collector: Collector, feeds_path: Path) -> FeedScheduler:
    """The node's feeds: stored in its store, retro-matched once its pipeline has applied
    them. Raises ``ConfigError`` for a feeds file that cannot be used."""
    from heron.alerts.store import AlertStore
    from heron.intel.feeds import FeedScheduler, StoreFeedBook, load_feeds
    from heron.intel.loading import once_drained

    feeds = load_feeds(feeds_path)
    alerts = node.alerts if node.alerts is not None else AlertStore(node.store)
    book = StoreFeedBook(node.store, alerts=alerts, before_retro=once_drained(collector.intake))
    return FeedScheduler(book, feeds)


def start_node_tasks(
    node: Node, collector: Collector, config: ServeConfig, rulebook: RuleBook
) -> list[asyncio.Task[None]]:
    """Start the node's background tasks (call from its running loop)."""
    from heron.api.rulebook import follow_rule_files

    tasks = [
        asyncio.create_task(follow_rule_files(rulebook, config.rules_poll_seconds)),
        asyncio.create_task(housekeep(node.store, config.retention, config.housekeeping_seconds)),
    ]
    if config.intel_feeds is not None:
        try:
            scheduler = feed_scheduler(node, collector, config.intel_feeds)
        except ConfigError as exc:
            # `heron serve` checked the file before it started; it changed since.
            log.error("intel feeds are not refreshed: %s", exc)
        else:
            tasks.append(asyncio.create_task(scheduler.run_in_loop()))
    return tasks


async def stop_node_tasks(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
