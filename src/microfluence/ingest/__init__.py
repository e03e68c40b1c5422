"""Importers: the data people actually have (CSV exports, scraper output, platform JSON).

* ``tables/``: creators and posts from CSV, TSV, JSON Lines and Parquet — the chunked reader,
  the shared run (read, match columns, parse, check, write), one module per kind of row;
* ``instagram/``: Instagram JSON (instaloader, web GraphQL) — finding and reading the files,
  the JSON shapes to flat records, the importer;
* ``followers``: a sample of one account's followers;
* ``values/``: what a cell means — numbers as spreadsheets write them, which column holds
  which field, what a caption says;
* ``write/``: the store side every importer shares — one transaction, one import run, bulk
  upserts;
* ``report``: what an import did, and the rejected rows with their reasons;
* ``cli.py``: `microfluence import …` (a thin face).

Formats and fields: docs/importing.md.
"""
