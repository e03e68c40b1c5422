"""Platform connectors: the YouTube Data API, the Instagram Graph API, creator-authorised
insights and scheduled refreshes (docs/connectors.md). A connector is another way in: it
writes through ingest, into the same tables as the importers."""
