"""The store opens, migrates on first use, enforces its constraints and scopes by workspace."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from microfluence.kernel.errors import ConflictError, InputError, NotFoundError, StoreError
from microfluence.kernel.store import migrations, open_store
from microfluence.kernel.store.tables import Account, Creator, Workspace
from microfluence.kernel.workspaces import (
    create_workspace,
    ensure_workspace,
    get_workspace,
    list_workspaces,
)


def test_migrates_on_first_use(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'new.sqlite'}"
    store = open_store(url)
    assert migrations.current_heads(store.engine) == migrations.script_heads()
    with store.connection() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_bad_urls_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("not a url")
    with pytest.raises(StoreError, match="unsupported database"):
        open_store("mysql://x@localhost/y")


def test_downgrade_and_upgrade_round_trip(store_url):
    store = open_store(store_url)
    migrations.downgrade(store.engine, "base")
    assert migrations.current_heads(store.engine) == set()
    migrations.upgrade(store.engine)
    assert migrations.current_heads(store.engine) == migrations.script_heads()
    store.dispose()


def test_workspaces(store):
    with store.transaction() as session:
        create_workspace(session, "acme")
        ensure_workspace(session, "beta")
        ensure_workspace(session, "acme")
    with store.transaction() as session:
        assert [w.name for w in list_workspaces(session)] == ["acme", "beta"]
        with pytest.raises(ConflictError):
            create_workspace(session, "acme")
        with pytest.raises(NotFoundError):
            get_workspace(session, "nope")
        for bad in ["", "Upper", "-x", "a" * 65, "sp ace", "ü"]:
            with pytest.raises(InputError):
                create_workspace(session, bad)


def test_account_handles_unique_per_workspace_and_platform(store):
    with store.transaction() as session:
        a, b = ensure_workspace(session, "a"), ensure_workspace(session, "b")
        for ws in (a, b):
            creator = Creator(workspace_id=ws.id, name="Ann")
            session.add(creator)
            session.flush()
            session.add(
                Account(
                    workspace_id=ws.id, creator_id=creator.id, platform="instagram", handle="ann"
                )
            )
            session.add(
                Account(workspace_id=ws.id, creator_id=creator.id, platform="tiktok", handle="ann")
            )
    with pytest.raises(IntegrityError):
        with store.transaction() as session:
            ws = get_workspace(session, "a")
            creator = session.scalars(
                sa.select(Creator).where(Creator.workspace_id == ws.id)
            ).first()
            session.add(
                Account(
                    workspace_id=ws.id, creator_id=creator.id, platform="instagram", handle="ann"
                )
            )


def test_deleting_a_workspace_cascades(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "gone")
        creator = Creator(workspace_id=ws.id, name="Ann")
        session.add(creator)
        session.flush()
        session.add(
            Account(workspace_id=ws.id, creator_id=creator.id, platform="instagram", handle="ann")
        )
    with store.connection() as conn:
        conn.execute(sa.delete(Workspace).where(Workspace.name == "gone"))
    with store.connection() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Account)).scalar() == 0
