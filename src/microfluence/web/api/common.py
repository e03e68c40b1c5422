"""What the API's route modules share: pagination and sorting parameters, error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from microfluence.catalog.listing import MAX_LIMIT, Window
from microfluence.web.errors import ErrorBody


def _window(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Records per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9, description="Records to skip.")] = 0,
) -> Window:
    return Window(limit=limit, offset=offset)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers a route may give."""
    meaning = {
        400: "The body cannot be read (not JSON, or not the encoding it claims).",
        401: "No API key, or one that is unknown or revoked.",
        403: "The key's role does not allow this.",
        404: "No such record in this workspace.",
        409: "Clashes with a stored record.",
        413: "The body is larger than its limit (MICROFLUENCE_MAX_BODY_KB, or for an upload "
        "MICROFLUENCE_MAX_UPLOAD_MB).",
        422: "The request is not valid.",
        429: "Too many failed password checks: wait for Retry-After seconds.",
        503: "The store is busy with another write, or the server is stopping: retry.",
    }
    # The content is spelled out so that routes answering HTML or files still document their
    # errors as JSON.
    json_error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {
        s: {"model": ErrorBody, "description": meaning[s], "content": json_error} for s in statuses
    }


READ_ERRORS = responses(401, 403, 422)
ITEM_ERRORS = responses(401, 403, 404, 422)
WRITE_ERRORS = responses(400, 401, 403, 404, 409, 413, 422)

Q = Annotated[
    str | None,
    Query(max_length=200, description="Text to find (any case) in names, handles and bios."),
]
PlatformQ = Annotated[str | None, Query(max_length=20, description="instagram, tiktok, …")]
CountryQ = Annotated[str | None, Query(max_length=80, description="Country, any case.")]
CategoryQ = Annotated[str | None, Query(max_length=120, description="Category, any case.")]
MinFollowersQ = Annotated[
    int | None, Query(ge=0, le=10**15, description="At least this many followers.")
]
MaxFollowersQ = Annotated[
    int | None, Query(ge=0, le=10**15, description="At most this many followers.")
]


def _audience(
    platform: PlatformQ = None,
    country: CountryQ = None,
    category: CategoryQ = None,
    q: Q = None,
    min_followers: MinFollowersQ = None,
    max_followers: MaxFollowersQ = None,
) -> dict[str, Any]:
    """The query parameters the creators and the accounts lists both filter by, declared once so
    that both lists take them with the same names, bounds and docs; keyword arguments of
    ``CreatorFilters`` and ``AccountFilters`` alike."""
    return {
        "platform": platform,
        "country": country,
        "category": category,
        "q": q,
        "min_followers": min_followers,
        "max_followers": max_followers,
    }


AudienceFilters = Annotated[dict[str, Any], Depends(_audience)]
