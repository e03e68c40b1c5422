"""The pipeline's constants and input schemas, without Ibis: the modules that only need the
shapes of the inputs (loading, staging, the catalogue, the pages) import them from here, so a
process that never runs the pipeline never imports Ibis (about 0.4 s). ``pipeline.py``
re-exports them.
"""

from __future__ import annotations

DAY = 86_400
# Views are read as a video's views unless the post is known to be a still image.
NOT_VIDEO = ("image", "carousel")
GROWTH_DAYS = (7, 30, 90)
HYPEAUDITOR_POSTS = 12
MODASH_DAYS = 60
MODASH_VIEW_PLATFORMS = ("tiktok", "youtube")
UPFLUENCE_DAYS = 90
Z95 = 1.959964

INPUT_SCHEMAS: dict[str, dict[str, str]] = {
    "accounts": {"account_id": "int64", "platform": "string"},
    "snapshots": {"account_id": "int64", "t": "int64", "followers": "int64"},
    "posts": {
        "post_id": "int64",
        "account_id": "int64",
        "t": "int64",
        "post_type": "string",
        "likes": "int64",
        "comments": "int64",
        "shares": "int64",
        "saves": "int64",
        "views": "int64",
        "reach": "int64",
        "is_sponsored": "boolean",
    },
}
POST_COLUMNS = tuple(INPUT_SCHEMAS["posts"])
