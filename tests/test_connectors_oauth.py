"""Creator-authorised insights end to end, against the stand-in platforms on 127.0.0.1: the
connect flow (link → consent → callback), first-party reads, refresh before expiry, expired and
revoked tokens, denied consent, tampered and replayed states, revocation — and no token or
secret ever in clear in the store, the logs or an answer."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microfluence.connectors.oauth import flow
from microfluence.connectors.oauth.readers import parse_time
from microfluence.connectors.oauth.tables import (
    AccountInsight,
    AudienceBreakdown,
    CreatorAuthorisation,
    OAuthState,
)
from microfluence.kernel.store import open_store
from oauth_support import (  # noqa: F401  the fixtures
    ACCOUNT_INDEX,
    SECRETS,
    World,
    standin_fixture,
    with_query,
    world_fixture,
)

EXPECTED = {  # a number each platform's read must have stored, and one audience share
    "instagram": (("follower_count", 1234), ("country", "FR", 540.0)),
    "youtube": (("views", 52000), ("age", "age18-24", 50.0)),
    "tiktok": (("follower_count", 50210), None),
}


def _rows(store_url: str, table) -> int:  # type: ignore[no-untyped-def]
    store = open_store(store_url)
    try:
        with store.session() as db:
            return db.scalar(sa.select(sa.func.count()).select_from(table)) or 0
    finally:
        store.dispose()


@pytest.mark.parametrize("platform", ["instagram", "youtube", "tiktok"])
def test_connect_read_verified_and_revoke(world: World, store_url: str, platform: str) -> None:
    auth = world.connect(platform)
    assert auth["status"] == "active" and auth["handle"]
    assert auth["account_id"] == world.a.account_ids[ACCOUNT_INDEX[platform]]
    read = world.fetch(auth["id"])
    assert read.status_code == 200, read.text
    assert read.json()["insights"] > 0
    (metric, value), share = EXPECTED[platform]
    view = world.client.get(
        f"/api/v1/accounts/{auth['account_id']}/insights", headers=world.a.auth("viewer")
    ).json()
    assert view["verified"] is True and view["source"] == "first_party"
    assert view["verified_label"] == "verified by the creator's authorisation"
    assert view["verified_at"]
    assert {v["metric"]: v["value"] for v in view["latest"]}[metric] == value
    if share:
        dimension, key, amount = share
        assert {s["key"]: s["value"] for s in view["audience"][dimension]}[key] == amount
    if platform == "tiktok":
        assert view["items"] == 3  # both pages of the video list
    if platform == "instagram":
        assert view["items"] == 1  # the story
    before = (_rows(store_url, AccountInsight), _rows(store_url, AudienceBreakdown))
    assert world.fetch(auth["id"]).status_code == 200  # reading again duplicates nothing
    assert (_rows(store_url, AccountInsight), _rows(store_url, AudienceBreakdown)) == before
    gone = world.client.delete(
        f"/api/v1/authorisations/{auth['id']}", headers=world.a.auth("member")
    )
    assert gone.status_code == 200 and gone.json()["status"] == "revoked"
    assert world.s.revoked == [platform]  # revoked at the platform itself
    refused = world.fetch(auth["id"])
    assert refused.status_code == 409 and "revoked" in refused.json()["message"]


def test_denied_consent_tampered_replayed_and_foreign_states(world: World, store_url: str) -> None:
    world.set_app("instagram")
    denied = world.callback(world.consent(world.to_consent("instagram"), "deny"))
    assert denied.status_code == 400 and "did not allow access" in denied.text
    assert _rows(store_url, CreatorAuthorisation) == 0
    back = world.consent(world.to_consent("instagram"))
    tampered = world.callback(with_query(back, state="x" + flow.secrets.token_urlsafe(32)))
    assert tampered.status_code == 400 and "unknown or was already used" in tampered.text
    wrong_platform = world.callback(back.replace("/callback/instagram", "/callback/tiktok"))
    assert wrong_platform.status_code == 400 and "was for instagram" in wrong_platform.text
    # Another browser (no cookie) with the real state and code cannot use them...
    other = world.callback(back, TestClient(world.client.app))
    assert other.status_code == 400 and "another browser" in other.text
    # ...and the creator's own browser still can — once.
    assert world.callback(back).status_code == 200
    replayed = world.callback(back)
    assert replayed.status_code == 400 and "already used" in replayed.text
    assert _rows(store_url, CreatorAuthorisation) == 1


def test_invalid_grant_on_the_code(world: World, store_url: str) -> None:
    world.set_app("youtube")
    back = world.consent(world.to_consent("youtube"))
    for code in world.s.codes.values():
        code["used"] = True  # the code expired at Google before the creator came back
    answer = world.callback(back)
    assert answer.status_code == 409 and "invalid_grant" in answer.text
    assert _rows(store_url, CreatorAuthorisation) == 0


@pytest.mark.parametrize(("status", "subcode"), [("revoked", "460"), ("expired", "463")])
def test_graph_error_190_marks_the_authorisation(world: World, status: str, subcode: str) -> None:
    auth = world.connect("instagram")
    world.s.set_status("instagram", status)
    refused = world.fetch(auth["id"])
    assert refused.status_code == 409, refused.text
    assert "Graph error 190" in refused.json()["message"]
    row = world.client.get(f"/api/v1/authorisations/{auth['id']}", headers=world.a.auth("viewer"))
    assert row.json()["status"] == status and "Graph error 190" in row.json()["status_detail"]
    page = world.client.post(
        f"/api/v1/authorisations/{auth['id']}/fetch", headers=world.a.auth("member")
    )
    assert page.status_code == 409 and "must connect again" in page.json()["message"]


def test_tokens_are_refreshed_before_expiry_and_after_a_401(world: World, store_url: str) -> None:
    tiktok = world.connect("tiktok")
    store = open_store(store_url)
    with store.transaction() as db:  # the access token is about to expire
        db.execute(
            sa.update(CreatorAuthorisation)
            .where(CreatorAuthorisation.id == tiktok["id"])
            .values(
                expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=2)
            )
        )
    store.dispose()
    world.s.calls.clear()
    assert world.fetch(tiktok["id"]).status_code == 200
    paths = [p for _m, p in world.s.calls]
    assert paths[0] == "/open.tiktokapis.com/v2/oauth/token/"  # refreshed first, then read
    assert paths[1] == "/open.tiktokapis.com/v2/user/info/"
    youtube = world.connect("youtube")
    world.s.set_status("youtube", "expired")  # Google says 401 UNAUTHENTICATED
    read = world.fetch(youtube["id"])
    assert read.status_code == 200, read.text
    row = world.client.get(
        f"/api/v1/authorisations/{youtube['id']}", headers=world.a.auth("viewer")
    )
    assert row.json()["refreshed_at"] and row.json()["status"] == "active"
    world.s.set_status("youtube", "expired")
    world.s.set_status("youtube", "revoked", "refresh")  # the creator removed the app's access
    refused = world.fetch(youtube["id"])
    assert refused.status_code == 409 and "invalid_grant" in refused.json()["message"]
    row = world.client.get(
        f"/api/v1/authorisations/{youtube['id']}", headers=world.a.auth("viewer")
    )
    assert row.json()["status"] == "revoked"


def _stored_text(store_url: str) -> str:
    """Every row of every table, as text; and, for SQLite, the database files' bytes."""
    store = open_store(store_url)
    parts = []
    try:
        with store.session() as db:
            inspector = sa.inspect(db.connection())
            for name in inspector.get_table_names():
                rows = db.execute(sa.text(f'SELECT * FROM "{name}"')).all()  # noqa: S608
                parts.append(repr(rows))
    finally:
        store.dispose()
    if store_url.startswith("sqlite:///"):
        path = store_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal"):
            try:
                with open(path + suffix, "rb") as handle:
                    parts.append(handle.read().decode("latin-1"))
            except FileNotFoundError:
                pass
    return "\n".join(parts)


def test_tokens_and_secrets_are_never_in_clear(
    world: World, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for platform in ("instagram", "youtube", "tiktok"):
        auth = world.connect(platform)
        assert world.fetch(auth["id"]).status_code == 200
    youtube = world.client.get(
        "/api/v1/authorisations", params={"platform": "youtube"}, headers=world.a.auth("viewer")
    )
    world.s.set_status("youtube", "expired")
    assert world.fetch(youtube.json()["data"][0]["id"]).status_code == 200  # a refresh
    world.keep(world.client.get("/api/v1/oauth-apps", headers=world.a.auth("owner")))
    world.keep(world.client.get("/api/v1/authorisations", headers=world.a.auth("owner")))
    secrets = [*world.s.issued, *SECRETS.values()]
    assert len(world.s.issued) >= 7  # short- and long-lived, access and refresh, refreshed
    stored, logged, answered = _stored_text(store_url), caplog.text, "\n".join(world.seen)
    assert "gAAAAA" in stored  # the sealed values are there (Fernet tokens)...
    for secret in secrets:  # ...and nothing in clear
        assert secret not in stored
        assert secret not in logged
        assert secret not in answered


@settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(state=st.text(max_size=300), nonce=st.one_of(st.none(), st.text(max_size=80)))
def test_any_forged_state_is_refused(sqlite_store, state: str, nonce: str | None) -> None:
    with sqlite_store.session() as db:
        with pytest.raises(flow.StateError) as caught:
            flow.consume_state(db, "instagram", state, nonce)
        assert caught.value.field == "state"
        assert db.scalar(sa.select(sa.func.count()).select_from(OAuthState)) == 0


@settings(max_examples=50)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True), st.none()))
def test_platform_times_parse_or_are_none(value) -> None:  # type: ignore[no-untyped-def]
    try:
        moment = parse_time(value)
    except (OverflowError, OSError, ValueError):
        return  # epoch seconds beyond what a datetime holds
    assert moment is None or moment.tzinfo is None
    assert parse_time("2026-11-24T08:00:00+0000") == dt.datetime(2026, 11, 24, 8)
    assert parse_time(1764000000) == dt.datetime(2025, 11, 24, 16, 0)


@settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    platform=st.one_of(st.sampled_from(["instagram", " YouTube", "tiktok"]), st.text(max_size=12)),
    client_id=st.text(max_size=220),
    secret=st.text(max_size=520),
)
def test_hostile_app_credentials_are_refused_by_field(
    sqlite_store, platform, client_id, secret
) -> None:  # type: ignore[no-untyped-def]
    from microfluence.connectors.oauth import apps
    from microfluence.connectors.oauth.tables import OAuthApp
    from microfluence.kernel.errors import InputError
    from microfluence.kernel.workspaces import ensure_workspace

    with sqlite_store.transaction() as db:
        ws = ensure_workspace(db, "hostile").id

    def stored() -> list:  # type: ignore[type-arg]
        with sqlite_store.session() as db:
            return db.execute(
                sa.select(OAuthApp.platform, OAuthApp.client_id, OAuthApp.client_secret_sealed)
            ).all()

    before = stored()
    try:
        with sqlite_store.transaction() as db:
            made = apps.set_app(db, ws, platform, client_id=client_id, client_secret=secret)
    except InputError as exc:
        assert exc.field in ("platform", "client_id", "client_secret")
        assert stored() == before  # nothing half-written
        return
    assert made.has_secret and made.client_id == client_id.strip()
    with sqlite_store.session() as db:
        sealed = db.scalar(
            sa.select(OAuthApp.client_secret_sealed).where(
                OAuthApp.workspace_id == ws, OAuthApp.platform == made.platform
            )
        )
    assert sealed and secret.strip() not in sealed


def test_a_privacy_export_lists_the_authorisation_never_its_tokens(
    world: World, store_url: str
) -> None:
    import json

    from microfluence.export.privacy import creator_record

    auth = world.connect("youtube")
    store = open_store(store_url)
    try:
        with store.session() as db:
            record = creator_record(db, world.a.workspace_id, auth["creator_id"])
    finally:
        store.dispose()
    listed = record["relationship"]["other_tables"]["creator_authorisations"]
    assert [row["handle"] for row in listed] == ["alpha_cy"]
    text = json.dumps(record, default=str)
    assert "gAAAAA" not in text  # no sealed value, let alone a token
    assert not any(token in text for token in world.s.issued)


def test_erasing_a_creator_revokes_their_grants(
    world: World, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from microfluence.relationships import privacy
    from microfluence.relationships.audit import Actor

    tiktok, instagram = world.connect("tiktok"), world.connect("instagram")  # one creator's
    store = open_store(store_url)
    try:
        with store.transaction() as db:  # a face with the connectors loaded: revoked at once
            report = privacy.erase_creator(
                db,
                world.a.workspace_id,
                tiktok["creator_id"],
                Actor("cli", "t", "test"),
                reason="asked",
            )
        assert report.counts["authorisations_revoked"] == 2
        assert sorted(world.s.revoked) == ["instagram", "tiktok"]
        rows = world.client.get("/api/v1/authorisations", headers=world.a.auth("viewer")).json()
        assert {r["status"] for r in rows["data"]} == {"revoked"}
        assert all("erased" in r["status_detail"] for r in rows["data"])
        # A face that never loaded the connectors: the next read revokes instead.
        youtube = world.connect("youtube")
        monkeypatch.setattr(privacy, "ERASERS", [])
        with store.transaction() as db:
            privacy.erase_creator(
                db,
                world.a.workspace_id,
                youtube["creator_id"],
                Actor("cli", "t", "test"),
                reason="asked",
            )
    finally:
        store.dispose()
    assert "youtube" not in world.s.revoked
    refused = world.fetch(youtube["id"])
    assert refused.status_code == 409 and "erased" in refused.json()["message"]
    assert "youtube" in world.s.revoked
    assert instagram["creator_id"] == tiktok["creator_id"]


def test_the_library_calls_the_same_services(world: World, store_url: str) -> None:
    from microfluence.library import open_workspace

    auth = world.connect("instagram")
    with open_workspace("brand", store_url, create=False) as ws:
        link = ws.connect_link("instagram:alpha_ana", "instagram", base="https://brand.example")
        assert link.url.startswith("https://brand.example/connect/")
        assert [a.id for a in ws.authorisations()] == [auth["id"]]
        read = ws.fetch_insights(auth["id"])
        assert read.error is None and read.insights > 0
        view = ws.account_insights("instagram:alpha_ana")
        assert view.verified and {v.metric: v.value for v in view.latest}["follower_count"] == 1234
        world.s.set_status("instagram", "revoked")
        refused = ws.fetch_insights(auth["id"])
        assert refused.status == "revoked" and "Graph error 190" in (refused.error or "")
