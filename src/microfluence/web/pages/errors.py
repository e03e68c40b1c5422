"""The HTML face of the API's error shape: same status, code and message, as a page.

A signed-out browser asking for a page is sent to the sign-in page instead of a 401 page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from microfluence.web.errors import ErrorBody
from microfluence.web.pages.rendering import render

TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Conflict",
    413: "File too large",
    422: "Something is not right in the request",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "The store is unavailable",
}


def render_error(request: Request, body: ErrorBody, headers: dict[str, str]) -> Response:
    if body.status == 401 and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/sign-in?" + urlencode({"next": target}), status_code=303)
    headers = {k: v for k, v in headers.items() if k.lower() != "www-authenticate"}
    context = {"error": body, "title": TITLES.get(body.status, "Error")}
    if body.status not in (500, 503):
        # The request's own transaction is over: a short read-only one for the page's header.
        try:
            with request.app.state.store.session() as db:
                return render(
                    request, db, "error.html", status_code=body.status, headers=headers, **context
                )
        except Exception:  # noqa: BLE001 - the error page must render even if the store fails
            pass
    return render(request, None, "error.html", status_code=body.status, headers=headers, **context)
