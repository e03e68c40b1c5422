"""File names that every face hands out or saves under: uploads, downloaded reports."""

from __future__ import annotations

import re
from pathlib import Path


def safe_filename(name: str | None) -> str:
    """The upload's own name without folders or odd characters (importers read its suffix)."""
    base = Path((name or "upload").replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    return cleaned[-120:]
