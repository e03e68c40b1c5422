"""Times as the store keeps them: naive UTC. One rule for every importer, so that the same file
imported by any of them gets the same default time, and re-importing it updates, not duplicates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def naive_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC without its zone (the store's columns have none); a naive value is taken
    to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def file_time(path: Path) -> dt.datetime:
    """The file's modification time as naive UTC, to the second: the default time of what an
    import reads from it (snapshots, a follower sample) when neither the user nor the file says."""
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return stamp.replace(tzinfo=None, microsecond=0)
