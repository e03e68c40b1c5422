"""Tables in chunks (CSV, TSV, JSON Lines, Parquet) and the creators and posts importers."""
