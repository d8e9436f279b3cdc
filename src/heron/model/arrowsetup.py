"""One-time pyarrow setup: keep it from importing pandas behind Heron's back.

pyarrow asks whether pandas is installed the first time it converts a Python list
(``pa.array``), and imports it to find out: about 0.2 s of CPU in every process that
builds Arrow tables (each ``heron ingest``, each worker process), spent on a library
Heron never uses. Heron hands pyarrow lists, never pandas objects, so the probe is
answered "absent" once, before the first conversion. Code that really asks pyarrow
for pandas (``Table.to_pandas``) still gets it: pyarrow imports pandas again there.

That answer covers lists converted with a type. Inferring a list's type imports pandas
again on every try until it succeeds (pyarrow's C++ side), so Heron always names the
type (``pa.array(values, pa.string())``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import pyarrow as pa

__all__ = ["skip_pandas_probe"]


class _NoPandas:
    """A meta-path finder under which ``import pandas`` fails (pyarrow's compiled code
    reads ``sys.modules`` itself, so a ``None`` entry there would not do)."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def skip_pandas_probe() -> None:
    """Let pyarrow's pandas probe fail once, unless pandas is already loaded."""
    if "pandas" in sys.modules:
        return  # already paid for: pyarrow may as well use it
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0], type=pa.int8())
    finally:
        sys.meta_path.remove(finder)
