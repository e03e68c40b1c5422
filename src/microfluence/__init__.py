"""microfluence: find, vet, price, recruit, track and measure micro-influencers.

The package is organised by capability around a small shared kernel::

    kernel/   settings, errors, the store (engine, tables, migrations), workspaces
    ingest/   importers for the data people have (CSV/TSV/JSONL/Parquet, Instagram JSON, followers)
    export/   getting data back out
    demo/     the synthetic demo population
    cli/      the command-line face

The CLI, the REST API and the pages are thin faces over the service functions of each capability.
"""

__version__ = "0.1.0"
