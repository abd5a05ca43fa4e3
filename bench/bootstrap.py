"""Import ``smarkets`` for the benchmarks, even while its client is broken.

``smarkets/__init__.py`` imports the client, which is being rewritten and may not import
at times. Parts 1 and 2 only need the stable modules (framing, session core, protobuf,
the exchange), so when the package's ``__init__`` fails, a bare package is registered
instead and those modules import from it; ``run.py`` then reports the parts that need the
client as skipped, with :data:`PACKAGE_PROBLEM` as the reason.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def _import_package() -> str | None:
    """Import ``smarkets``, or register a bare package; return the failure, or None."""
    try:
        importlib.import_module("smarkets")
    except Exception as exc:
        spec = importlib.util.find_spec("smarkets")
        if spec is None or not spec.submodule_search_locations:
            raise
        package = types.ModuleType("smarkets")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["smarkets"] = package
        return f"import smarkets failed: {type(exc).__name__}: {exc}"
    return None


#: Why ``import smarkets`` failed (None when it did not).
PACKAGE_PROBLEM = _import_package()
