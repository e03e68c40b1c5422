"""Getting data back out: every stored field, as CSV, JSON or JSON Lines."""

from microfluence.export.tables import EXPORT_FORMATS, export_creators, export_posts

__all__ = ["EXPORT_FORMATS", "export_creators", "export_posts"]
