"""microfluence: find, vet, price, recruit, track and measure micro-influencers.

This module is the library face, for notebooks and scripts (docs/library.md)::

    import microfluence

    with microfluence.open_workspace("acme") as ws:
        ws.import_creators("creators.csv", platform="instagram")
        ws.score()
        frame = ws.creators()  # a Polars DataFrame
        report = ws.vet("instagram:ana.cooks")

The names in ``__all__`` are the public API. Everything else (``microfluence.ingest``,
``microfluence.metrics``…) is private by convention: the CLI, the REST API and the pages use it,
and it may change between versions.

The names load on first use (module ``__getattr__``), not on ``import microfluence``: the
command line imports this package, and ``microfluence --version`` should not pay for Polars,
DuckDB and the importers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "open_workspace": "microfluence.library",
    "Workspace": "microfluence.library",
    "audit_followers": "microfluence.library",
    "MicrofluenceError": "microfluence.kernel.errors",
    "InputError": "microfluence.kernel.errors",
    "NotFoundError": "microfluence.kernel.errors",
}

__all__ = [
    "InputError",
    "MicrofluenceError",
    "NotFoundError",
    "Workspace",
    "__version__",
    "audit_followers",
    "open_workspace",
]

if TYPE_CHECKING:
    from microfluence.kernel.errors import InputError, MicrofluenceError, NotFoundError
    from microfluence.library import Workspace, audit_followers, open_workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'microfluence' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
