"""Importers: the data people actually have (CSV exports, scraper output, platform JSON)."""
