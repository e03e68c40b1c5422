"""Importers: the data people actually have (CSV exports, scraper output, platform JSON).

* ``tables/``: creators and posts from CSV, TSV, JSON Lines and Parquet — the chunked reader,
  the shared run (read, match columns, parse, check, write), one module per kind of row;
* ``instagram/``: Instagram JSON (instaloader, web GraphQL) — finding and reading the files,
  the JSON shapes to flat records, the importer;
* ``followers``: a sample of one account's followers;
* ``values/``: what a cell means — numbers as spreadsheets write them, which column holds
  which field, what a caption says;
* ``write/``: the store side every importer shares — read and check first, then one
  transaction (``stage``), one import run, bulk upserts;
* ``guard``: what keeps one import from exhausting the server — caps on bytes after
  decompression and on rows, and cancelling between batches;
* ``report``: what an import did, with a sample of the rejected rows; ``rejects``: the one
  rejects writer, every rejected row streamed to its CSV file;
* ``cli.py``: `microfluence import …` (a thin face).

Formats and fields: docs/importing.md.
"""
