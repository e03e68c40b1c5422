"""Typed dependencies, in one place: the store, a transaction per request, and who is calling.

Route modules declare what they need with these aliases, e.g.
``def list_creators(db: DbSession, caller: ApiReader) -> ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.access.roles import MANAGE, READ, WRITE
from microfluence.access.sessions import SignedIn
from microfluence.kernel.store import Store
from microfluence.web import auth
from microfluence.web.settings import WebSettings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


def get_db(store: Annotated[Store, Depends(get_store)]) -> Iterator[Session]:
    """One transaction per request, committed before the answer is sent (or rolled back)."""
    with store.transaction() as session:
        yield session


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[WebSettings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key of one workspace: `Authorization: Bearer mfk_…`.",
)


def _api_caller(
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # Reads in a short transaction of its own; noting when the key was last used is a separate
    # write that is skipped rather than waited for while an import holds SQLite's write lock.
    with store.transaction() as session:
        return auth.api_principal(store, session, credentials)


def _api_reader(caller: Annotated[Principal, Depends(_api_caller)]) -> Principal:
    return caller.require(READ)


def _api_writer(caller: Annotated[Principal, Depends(_api_caller)]) -> Principal:
    return caller.require(WRITE)


def _api_owner(caller: Annotated[Principal, Depends(_api_caller)]) -> Principal:
    return caller.require(MANAGE)


# The REST API: an API key, with at least the role named.
ApiReader = Annotated[Principal, Depends(_api_reader)]
ApiWriter = Annotated[Principal, Depends(_api_writer)]
ApiOwner = Annotated[Principal, Depends(_api_owner)]


# --- pages (session cookie) -----------------------------------------------------------------


def _maybe_signed_in(request: Request, db: DbSession) -> SignedIn | None:
    return auth.current_session(request, db)


def _page_caller(request: Request, db: DbSession) -> Principal:
    return auth.page_principal(request, db)


def _page_writer(caller: Annotated[Principal, Depends(_page_caller)]) -> Principal:
    return caller.require(WRITE)


def _page_owner(caller: Annotated[Principal, Depends(_page_caller)]) -> Principal:
    return caller.require(MANAGE)


async def _csrf_checked(request: Request, db: DbSession) -> None:
    submitted = request.headers.get(auth.CSRF_HEADER)
    if submitted is None and request.method not in ("GET", "HEAD", "OPTIONS"):
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # Starlette caches it: Form() parameters still work
            value = form.get(auth.CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    auth.verify_csrf(request, db, submitted)


# The pages: the session cookie. MaybeSignedIn is None for visitors who have not signed in;
# PageReader/PageWriter/PageOwner answer 401 (not signed in) or 403 (role too low).
MaybeSignedIn = Annotated[SignedIn | None, Depends(_maybe_signed_in)]
PageReader = Annotated[Principal, Depends(_page_caller)]
PageWriter = Annotated[Principal, Depends(_page_writer)]
PageOwner = Annotated[Principal, Depends(_page_owner)]
# Put on every form handler (dependencies=[CsrfChecked]) or as a parameter.
CsrfChecked = Depends(_csrf_checked)
