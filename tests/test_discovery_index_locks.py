"""The in-process indexes lock per workspace: while one workspace's index is being built (minutes
at a million accounts), another workspace's searches are served."""

from __future__ import annotations

import threading

import pytest

from microfluence.discovery import term_index, vector_index
from microfluence.kernel.workspaces import ensure_workspace


@pytest.fixture
def two_workspaces(store):
    with store.transaction() as session:
        a, b = ensure_workspace(session, "slow").id, ensure_workspace(session, "other").id
    term_index.forget()
    yield a, b
    term_index.forget()


def _held_while_building(store, monkeypatch, module, name, first, second):
    """Block ``module.name`` (a step of the build) for ``first``; ``second``'s index must come
    back meanwhile, and ``first``'s build must still be waiting."""
    real = getattr(module, name)
    entered, release = threading.Event(), threading.Event()

    def slow(session, workspace_id, *args, **kwargs):
        if workspace_id == first:
            entered.set()
            assert release.wait(60)
        return real(session, workspace_id, *args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    errors: list[BaseException] = []

    def build_first():
        try:
            with store.session() as session:
                module.index_for(session, first)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=build_first)
    worker.start()
    try:
        assert entered.wait(60)
        with store.session() as session:
            assert module.index_for(session, second) is not None
        assert worker.is_alive()  # the first build was still held: the second did not wait
    finally:
        release.set()
        worker.join(60)
    assert not errors


def test_a_keyword_index_build_holds_only_its_own_workspace(store, two_workspaces, monkeypatch):
    first, second = two_workspaces
    _held_while_building(store, monkeypatch, term_index, "build", first, second)


def test_a_vector_index_build_holds_only_its_own_workspace(store, two_workspaces, monkeypatch):
    first, second = two_workspaces
    _held_while_building(store, monkeypatch, vector_index, "load", first, second)
