"""The garbage collector in a long-running server process.

CPython's full collection walks every object the collector tracks. A server process holds a
hundred thousand and more that live as long as it does (modules, classes, the app's routes,
the search indexes' Python parts): on this 2-core machine each full collection then pauses
the request it lands in for about 100 ms (docs/benchmarks.md, "Keyword + filters"), about one
query in a hundred. :func:`settle` collects once, then moves every object still alive into the
collector's permanent generation (``gc.freeze``, Python 3.7+; the Python documentation of the
``gc`` module), so later collections walk only what was made since. Reference counting frees
frozen objects as usual; only a cycle among them that becomes garbage stays until the process
ends, which is why the collection comes first and why it is called after start-up and after
the indexes are built, not per request.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze what survives; the number of objects frozen in all."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
