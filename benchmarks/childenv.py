"""The environment a benchmark gives the ``heron`` processes it starts."""

from __future__ import annotations

import os


def child_env() -> dict[str, str]:
    """This process's environment, with Python allowed to write bytecode caches.

    An installed Heron has its modules byte-compiled (pip compiles them at install).
    A source checkout run with ``PYTHONDONTWRITEBYTECODE`` set, as on this project's
    development machine, compiles every module again in each run: about 0.25 s of a
    two-second ``heron ingest`` that no installed copy pays.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
