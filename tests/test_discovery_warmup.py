"""Search indexes built ahead (discovery.warmup): the large workspaces' keyword and vector
indexes are in the process before their first search, the app builds them when it starts, and
a workspace under the threshold is left to its first search."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from api_support import make_tenant
from microfluence.discovery import term_index, vector_index
from microfluence.discovery.warmup import large_workspaces, warm_in_background, warm_indexes
from microfluence.kernel.store.tables import Account, Creator
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.web.app import create_app
from microfluence.web.settings import WebSettings


def _workspaces(store) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A workspace of four accounts and one of a single account."""
    big = make_tenant(store, "big").workspace_id
    with store.transaction() as session:
        small = ensure_workspace(session, "small")
        creator = Creator(workspace_id=small.id, name="Solo")
        session.add(creator)
        session.flush()
        session.add(
            Account(
                workspace_id=small.id, creator_id=creator.id, platform="instagram", handle="solo"
            )
        )
        session.flush()
        return big, small.id


def _built(store, workspace_id: int) -> bool:  # type: ignore[no-untyped-def]
    with store.session() as session:
        keyword = term_index.cached(session, workspace_id)
        vectors = vector_index.cached(session, workspace_id)
    return keyword is not None and vectors is not None


def test_the_large_workspaces_are_built_ahead_and_the_small_left(store):
    big, small = _workspaces(store)
    assert large_workspaces(store, 1) == [(big, 4), (small, 1)]  # largest first
    assert large_workspaces(store, 2) == [(big, 4)]
    assert warm_indexes(store, 2) == [big]
    assert _built(store, big) and not _built(store, small)
    with store.session() as session:  # the index built ahead is the one search uses
        assert term_index.index_for(session, big) is term_index.cached(session, big)
        assert len(term_index.cached(session, big)) == 4


def test_a_stop_ends_the_work_before_the_next_workspace(store):
    big, small = _workspaces(store)
    stop = threading.Event()
    seen = []

    def progress(workspace_id: int, accounts: int) -> None:
        seen.append((workspace_id, accounts))
        stop.set()  # asked to stop while the first one is being built

    assert warm_indexes(store, 1, stop=stop, progress=progress) == [big]
    assert seen == [(big, 4)] and not _built(store, small)


def test_the_app_builds_them_when_it_starts(store, store_url):
    big, small = _workspaces(store)
    settings = WebSettings(search_warm_accounts=2)
    with TestClient(create_app(store_url, settings)):
        deadline = time.monotonic() + 60
        while not _built(store, big) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _built(store, big)
    assert not _built(store, small)


def test_the_thread_says_when_every_workspace_is_built(store):
    big, _small = _workspaces(store)
    finished = threading.Event()
    warm_in_background(store, 2, done=finished.set)
    assert finished.wait(60)
    assert _built(store, big)  # done comes after the build, not before
