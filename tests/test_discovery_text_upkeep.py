"""What keeps the keyword index's sources current, after revision 0032: the full-text indexes
search no longer reads (0024's FTS5 tables and triggers, the GIN indexes) are gone, a deleted
workspace takes its ``account_text_changes`` stamps with it (a deleted account keeps its own),
and the migration goes down to 0031 (the full-text indexes back, filled) and up again."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import delete

from discovery_support import NOW, Planter
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import search
from microfluence.discovery.tables import AccountTextChange
from microfluence.kernel.store import migrations
from microfluence.kernel.store.tables import Account, Workspace
from microfluence.kernel.workspaces import ensure_workspace

FTS_TABLES = {"accounts_fts", "posts_fts"}
FTS_TRIGGERS = {f"{t}_{s}" for t in FTS_TABLES for s in ("ai", "ad", "au")}
GIN_INDEXES = {"ix_accounts_search_tsv", "ix_posts_search_tsv"}
WORKSPACE_TRIGGER = "workspaces_text_del"


def _schema(store) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    """The store's tables, triggers and indexes, by name (user-made ones only)."""
    with store.connection() as conn:
        if store.dialect == "sqlite":
            rows = conn.execute(sa.text("SELECT type, name FROM sqlite_master")).all()
            kinds = ("table", "trigger", "index")
            return {kind: {name for t, name in rows if t == kind} for kind in kinds}
        tables = conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        triggers = conn.execute(
            sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        ).scalars()
        indexes = conn.execute(
            sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        ).scalars()
        return {"table": set(tables), "trigger": set(triggers), "index": set(indexes)}


def _stamps(store) -> dict[int, set[int]]:  # type: ignore[no-untyped-def]
    """workspace id → the accounts stamped in it."""
    with store.connection() as conn:
        rows = conn.execute(sa.select(AccountTextChange.workspace_id, AccountTextChange.account_id))
        out: dict[int, set[int]] = {}
        for ws, account in rows:
            out.setdefault(ws, set()).add(account)
        return out


def _plant(store) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Two workspaces of two accounts each, with posts; returns their ids by name."""
    ids = {}
    post = {"caption": "morning kettlebell flow", "hashtags": ["kettlebell"]}
    with store.transaction() as session:
        for name in ("keep", "gone"):
            ws = ensure_workspace(session, name).id
            ids[name] = ws
            planter = Planter(session, ws)
            for handle, bio in ((f"kettlebell{name}", "kettlebell coach"), (f"vegan{name}", None)):
                ids[handle] = planter.account(handle, bio=bio, posts=[post]).id
    return ids


def _found(store, ws: int, q: str) -> set[str]:  # type: ignore[no-untyped-def]
    with store.session() as session:
        return {r.handle for r in search(session, ws, SearchQuery(q=q), now=NOW).results}


def test_the_full_text_indexes_are_gone(store):
    schema = _schema(store)
    assert not (FTS_TABLES | FTS_TRIGGERS | GIN_INDEXES) & (
        schema["table"] | schema["trigger"] | schema["index"]
    )
    assert not {name for name in schema["table"] if name.startswith(("accounts_fts", "posts_fts"))}
    assert WORKSPACE_TRIGGER in schema["trigger"]


def test_a_deleted_workspace_takes_its_stamps_and_only_its_own(store):
    ids = _plant(store)
    keep, gone = ids["keep"], ids["gone"]
    assert _stamps(store) == {
        keep: {ids["kettlebellkeep"], ids["vegankeep"]},
        gone: {ids["kettlebellgone"], ids["vegangone"]},
    }
    assert _found(store, keep, "kettlebell") == {"kettlebellkeep", "vegankeep"}
    with store.transaction() as session:  # a deleted account keeps its stamp: the index needs it
        session.execute(delete(Account).where(Account.id == ids["vegankeep"]))
    with store.transaction() as session:
        session.execute(delete(Workspace).where(Workspace.id == gone))
    assert _stamps(store) == {keep: {ids["kettlebellkeep"], ids["vegankeep"]}}
    assert _found(store, keep, "kettlebell") == {"kettlebellkeep"}
    with store.transaction() as session:  # a new workspace (on SQLite, the same id) starts clean
        again = ensure_workspace(session, "gone").id
        new = Planter(session, again).account("kettlebellagain", bio="kettlebell").id
    assert _stamps(store)[again] == {new}
    assert _found(store, again, "kettlebell") == {"kettlebellagain"}


def _fts_finds(store, word: str) -> set[int]:  # type: ignore[no-untyped-def]
    """Account ids whose profile the 0024 full-text index finds by ``word``."""
    with store.connection() as conn:
        if store.dialect == "sqlite":
            sql = "SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH :w"
        else:
            sql = (
                "SELECT id FROM accounts WHERE (setweight(to_tsvector('simple'::regconfig, "
                "coalesce(handle, '')), 'A') || setweight(to_tsvector('simple'::regconfig, "
                "coalesce(display_name, '')), 'B') || setweight(to_tsvector('simple'::regconfig, "
                "coalesce(bio, '')), 'C')) @@ to_tsquery('simple', :w)"
            )
        return set(conn.execute(sa.text(sql), {"w": word}).scalars())


def test_down_to_0031_and_up_again(store):
    ids = _plant(store)
    migrations.downgrade(store.engine, "0031")
    schema = _schema(store)
    if store.dialect == "sqlite":
        assert FTS_TABLES <= schema["table"] and FTS_TRIGGERS <= schema["trigger"]
    else:
        assert GIN_INDEXES <= schema["index"]
    assert WORKSPACE_TRIGGER not in schema["trigger"]
    # filled from the rows already there, and kept current again by 0024's triggers
    assert _fts_finds(store, "coach") == {ids["kettlebellkeep"], ids["kettlebellgone"]}
    with store.transaction() as session:
        session.execute(delete(Workspace).where(Workspace.id == ids["gone"]))
    assert _fts_finds(store, "coach") == {ids["kettlebellkeep"]}
    assert set(_stamps(store)) == {ids["keep"], ids["gone"]}  # 0031 left them behind

    migrations.upgrade(store.engine)
    assert migrations.current_heads(store.engine) == migrations.script_heads()
    schema = _schema(store)
    every = schema["table"] | schema["trigger"] | schema["index"]
    assert not (FTS_TABLES | FTS_TRIGGERS | GIN_INDEXES) & every
    assert set(_stamps(store)) == {ids["keep"]}  # the gone workspace's stamps removed
    assert _found(store, ids["keep"], "kettlebell") == {"kettlebellkeep", "vegankeep"}
