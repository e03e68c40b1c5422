"""The YouTube and Instagram connectors end to end against a stand-in of both APIs on
127.0.0.1 (connectors_support), on SQLite and PostgreSQL: credentials sealed, fetches written
through the importers' path without duplicates, the quota budget and the platforms' errors,
and refreshes that resume where they stopped."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors_support import (
    API_KEY,
    IG_USER,
    QUOTA_EXCEEDED,
    TOKEN,
    graph_error,
    platform_server,
    point_at,
    sample_platforms,
    video,
)
from microfluence.connectors import credentials
from microfluence.connectors.fetching import fetch_accounts, search_youtube
from microfluence.connectors.instagram import usage_percent
from microfluence.connectors.quota import quota_day
from microfluence.connectors.refresh import followed_accounts, refresh_workspace
from microfluence.connectors.status import connections
from microfluence.connectors.tables import ConnectorQuota, RefreshItem
from microfluence.connectors.youtube import parse_target
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, AccountSnapshot, ImportRun, Post
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.metrics.tables import MetricRun

A, B, C = "UC" + "a" * 22, "UC" + "b" * 22, "UC" + "c" * 22


@pytest.fixture
def platforms(monkeypatch):
    p = sample_platforms()
    with platform_server(p) as base:
        point_at(monkeypatch, base)
        yield p


def connect(store, workspace="brand", *, youtube_budget=None, instagram=True) -> int:
    with store.transaction() as session:
        ws = ensure_workspace(session, workspace)
        credentials.set_credential(session, ws.id, "youtube", API_KEY, daily_budget=youtube_budget)
        if instagram:
            credentials.set_credential(
                session, ws.id, "instagram", TOKEN, business_account_id=IG_USER
            )
        return ws.id


def count(store, table, **where) -> int:
    with store.session() as session:
        query = sa.select(sa.func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return session.scalar(query)


def test_credentials_are_sealed_masked_and_checked(store, caplog):
    caplog.set_level(logging.DEBUG)
    ws_id = connect(store)
    with store.session() as session:
        shown = credentials.list_credentials(session, ws_id)
        assert [c.platform for c in shown] == ["instagram", "youtube"]
        assert shown[1].hint == "AIza…ijkl"
        with pytest.raises(InputError) as missing:
            credentials.set_credential(session, ws_id, "instagram", TOKEN)
        assert missing.value.field == "business_account_id"
        with pytest.raises(InputError) as bad:
            credentials.set_credential(session, ws_id, "youtube", "two words")
        assert "two words" not in str(bad.value)
        with pytest.raises(InputError):
            credentials.set_credential(session, ws_id, "tiktok", API_KEY)
    # Nowhere in the store, nor in the logs, in clear.
    with store.connection() as conn:
        rows = conn.execute(sa.text("SELECT * FROM connector_credentials")).all()
    dump = repr(rows)
    assert API_KEY not in dump and TOKEN not in dump
    assert API_KEY not in caplog.text and TOKEN not in caplog.text
    with store.transaction() as session:
        credentials.remove_credential(session, ws_id, "instagram")
        with pytest.raises(NotFoundError):
            credentials.remove_credential(session, ws_id, "instagram")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_hostile_secrets_are_refused_without_echo(text):
    try:
        value = credentials.check_secret(text, "api_key")
    except InputError as exc:
        assert exc.field == "api_key"
        assert len(text.strip()) < 8 or text.strip() not in exc.message  # never echoed
    else:
        assert value == text.strip() and value


def test_targets_and_quota_day():
    assert parse_target(A) == ("id", A)
    assert parse_target("@BakerAnn") == ("forHandle", "@BakerAnn")
    assert parse_target("https://www.youtube.com/user/oldname") == ("forUsername", "oldname")
    with pytest.raises(Exception, match="not a YouTube channel"):
        parse_target("two words")
    import datetime as dt

    # 07:30 UTC is still the day before in California: Google's quota day.
    assert quota_day("youtube", dt.datetime(2026, 11, 26, 7, 30)) == dt.date(2026, 11, 25)
    assert quota_day("instagram", dt.datetime(2026, 11, 26, 7, 30)) == dt.date(2026, 11, 26)


def test_youtube_fetch_writes_the_import_model_and_refetch_adds_without_duplicates(
    store, platforms
):
    connect(store)
    out = fetch_accounts(store, "brand", "youtube", ["@bakerann", B, C, "@nobody"])
    assert sorted(out.fetched) == ["bakerann", "breadbob", "quietcat"]
    assert "@nobody" in out.not_readable
    assert out.unavailable_posts == 1  # the deleted video
    assert out.scored
    with store.session() as session:
        accounts = {a.handle: a for a in session.scalars(sa.select(Account))}
        assert set(accounts) == {"bakerann", "breadbob", "quietcat"}
        assert accounts["bakerann"].external_id == A
        assert accounts["bakerann"].followers == 1000  # "1000" as the API sends it
        assert accounts["quietcat"].followers is None  # hidden, not zero
        assert accounts["bakerann"].category == "Food"
        posts = {p.platform_post_id: p for p in session.scalars(sa.select(Post))}
        assert "bakv1" not in posts and len(posts) == 8
        assert posts["bakv0"].likes == 40 and posts["bakv2"].likes is None
        assert posts["bakv0"].hashtags == ["bread"] and posts["bakv0"].mentions == ["friend"]
        run = session.scalars(sa.select(ImportRun).where(ImportRun.kind == "youtube-api")).one()
        assert run.status == "succeeded"
        assert session.scalar(sa.select(sa.func.count()).select_from(MetricRun)) == 1
    snapshots = count(store, AccountSnapshot)
    assert snapshots == 3
    # A new video, and new counts on an old one: one more snapshot each, no duplicate post.
    platforms.uploads["UU" + "a" * 22].insert(0, "bakv9")
    platforms.videos["bakv9"] = video("bakv9")
    platforms.videos["bakv0"] = video("bakv0", likes="99")
    again = fetch_accounts(store, "brand", "youtube", [A, B, C], rescore=False)
    assert len(again.fetched) == 3
    assert count(store, AccountSnapshot) == 6
    assert count(store, Post) == 9
    with store.session() as session:
        likes = session.scalar(sa.select(Post.likes).where(Post.platform_post_id == "bakv0"))
    assert likes == 99


def test_the_budget_stops_cleanly_and_reports_what_was_fetched(store, platforms):
    ws_id = connect(store, youtube_budget=5)  # a channel costs 3: one channel, then stop
    out = fetch_accounts(store, "brand", "youtube", [A, B, C], rescore=False)
    assert out.fetched == ["bakerann"]
    assert out.not_tried == [B, C]
    assert "budget of 5 units" in out.stopped
    assert count(store, Account) == 1  # what was fetched is kept
    with store.session() as session:
        (conn,) = [c for c in connections(session, ws_id) if c.platform == "youtube"]
    # A: 3 units; B: its look-up and playlist (2), then its videos.list refused unmade.
    assert conn.used_today == 5 and conn.budget == 5
    assert len(platforms.calls("/youtube/v3/")) == 5


def test_quota_exceeded_stops_and_no_more_calls_today(store, platforms):
    connect(store)
    platforms.script.append(("/youtube/v3/channels", 403, QUOTA_EXCEEDED, {}))
    out = fetch_accounts(store, "brand", "youtube", [A, B], rescore=False)
    assert out.fetched == [] and "quota is exceeded" in out.stopped
    calls = len(platforms.requests)
    out = fetch_accounts(store, "brand", "youtube", [A], rescore=False)
    assert "spent" in out.stopped and len(platforms.requests) == calls
    with store.session() as session:
        assert session.scalar(sa.select(ConnectorQuota.exhausted)) is True


def test_youtube_errors_retries_and_a_refused_key(store, platforms):
    connect(store)
    platforms.script.append(("/youtube/v3/channels", 503, {"error": {"code": 503}}, {}))
    platforms.script.append(("/youtube/v3/channels", 429, {}, {"Retry-After": "0"}))
    out = fetch_accounts(store, "brand", "youtube", [A], rescore=False)
    assert out.fetched == ["bakerann"]  # retried past a 503 and a 429
    with store.transaction() as session:
        ws = ensure_workspace(session, "brand")
        credentials.set_credential(session, ws.id, "youtube", "AIzaSyWRONG-key-0000000000000")
    out = fetch_accounts(store, "brand", "youtube", [B], rescore=False)
    assert "refused the API key" in out.stopped


def test_search_says_its_cost_and_needs_a_confirmation(store, platforms):
    connect(store)
    with pytest.raises(InputError, match="costs 100 quota units") as refused:
        search_youtube(store, "brand", "sourdough")
    assert refused.value.field == "confirm"
    assert platforms.requests == []
    out = search_youtube(store, "brand", "sourdough", confirm=True, rescore=False)
    assert sorted(out.fetched) == ["bakerann", "breadbob"]
    assert out.units == 100 + 2 * 3


def test_instagram_business_discovery_errors_and_rate_limits(store, platforms):
    connect(store)
    platforms.script.append((f"/v21.0/{IG_USER}", 400, graph_error(4, "(#4) limit"), {}))
    platforms.script.append((f"/v21.0/{IG_USER}", 400, graph_error(613, "Calls limited"), {}))
    out = fetch_accounts(
        store, "brand", "instagram", ["plantpia", "@someone_personal", "potpete"], rescore=False
    )
    assert out.fetched == ["plantpia", "potpete"]
    assert "cannot be read this way" in out.not_readable["@someone_personal"]
    with store.session() as session:
        types = dict(session.execute(sa.select(Post.platform_post_id, Post.post_type)).all())
        pia = session.scalars(sa.select(Account).where(Account.handle == "plantpia")).one()
    assert types == {"plantpia-m0": "carousel", "plantpia-m1": "reel", "potpete-m0": "carousel"}
    assert pia.followers == 5400 and pia.is_business
    # Near 100 % of the hour's allowance, for an hour: stop cleanly rather than wait.
    platforms.usage_headers["X-Business-Use-Case-Usage"] = (
        f'{{"{IG_USER}":[{{"type":"instagram","call_count":100,"total_cputime":20,'
        '"total_time":30,"estimated_time_to_regain_access":60}]}'
    )
    out = fetch_accounts(store, "brand", "instagram", ["plantpia", "potpete"], rescore=False)
    assert "rate limit" in out.stopped and out.not_tried == ["plantpia", "potpete"]
    platforms.usage_headers.clear()
    platforms.token_revoked = True
    out = fetch_accounts(store, "brand", "instagram", ["plantpia"], rescore=False)
    assert "code 190" in out.stopped


def test_usage_headers_are_read():
    import httpx

    headers = httpx.Headers({"X-App-Usage": '{"call_count":91,"total_time":12,"total_cputime":3}'})
    assert usage_percent(headers) == (91.0, 0.0)
    assert usage_percent(httpx.Headers({"X-App-Usage": "not json"})) == (0.0, 0.0)


def test_refresh_resumes_where_it_stopped(store, platforms):
    ws_id = connect(store)
    fetch_accounts(store, "brand", "youtube", [A, B, C], rescore=False)
    fetch_accounts(store, "brand", "instagram", ["plantpia"], rescore=False)
    with store.session() as session:
        followed = followed_accounts(session, ws_id)
    assert sorted(t for _i, _p, t in followed) == sorted([A, B, C, "plantpia"])
    # B's channel answers 500 past every retry: the run stops there, B and C stay pending.
    calls_before = len(platforms.requests)
    first = _refresh_with_failure(store, platforms)
    assert first.status == "partial" and first.done == 2  # A, and plantpia
    with store.session() as session:
        states = dict(session.execute(sa.select(RefreshItem.handle, RefreshItem.state)).all())
    assert states == {A: "done", B: "pending", C: "pending", "plantpia": "done"}
    second = refresh_workspace(store, "brand", rescore=False)
    assert second.resumed and second.run_id == first.run_id
    assert second.status == "succeeded" and second.done == 4
    looked_up = [q.get("id") for q in platforms.calls("/youtube/v3/channels")]
    assert looked_up[-2:] == [B, C] and calls_before < len(platforms.requests)
    assert count(store, AccountSnapshot) == 4 + 4  # one more each, none twice
    third = refresh_workspace(store, "brand", rescore=False)
    assert not third.resumed and third.run_id != first.run_id


def _refresh_with_failure(store, platforms):
    """A refresh where A's look-up passes, then B's answers 500 to the call and both retries."""
    platforms.script.append(("/youtube/v3/channels", 200, {"items": [platforms.channels[A]]}, {}))
    platforms.script.extend([("/youtube/v3/channels", 500, {"error": {"code": 500}}, {})] * 3)
    return refresh_workspace(store, "brand", rescore=False)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["snippet", "statistics", "topicDetails", "brandingSettings", "contentDetails", "id"]
)


@settings(max_examples=120, deadline=None)
@given(
    st.dictionaries(FIELDS, JSON, max_size=6),
    st.dictionaries(
        st.sampled_from(["followers_count", "media", "username", "id", "website", "name"]),
        JSON,
        max_size=6,
    ),
    JSON,
)
def test_odd_api_answers_never_crash_the_parsers(channel_item, discovery, value):
    """Whatever shape the platforms send, a profile comes out (unknowns as None) or a
    ConnectorError says why; counts are never negative, never a bool."""
    from microfluence.connectors.http import ConnectorError
    from microfluence.connectors.instagram import discovery_profile
    from microfluence.connectors.profiles import to_int, to_time
    from microfluence.connectors.youtube import channel_profile

    for parse in (lambda: channel_profile(channel_item), lambda: discovery_profile("h", discovery)):
        try:
            profile = parse()
        except ConnectorError:
            continue
        assert profile.followers is None or profile.followers >= 0
        assert isinstance(profile.handle, str)
    number = to_int(value)
    assert number is None or (isinstance(number, int) and number >= 0)
    moment = to_time(value)
    assert moment is None or moment.tzinfo is None


def test_the_library_connects_fetches_and_refreshes(sqlite_store, platforms):
    import microfluence

    with microfluence.open_workspace("lib", sqlite_store.url) as ws:
        assert ws.connect("youtube", API_KEY).hint == "AIza…ijkl"
        assert ws.fetch("youtube", ["@breadbob"], rescore=False).fetched == ["breadbob"]
        assert ws.refresh(rescore=False).done == 1
        (youtube,) = [c for c in ws.connections() if c.platform == "youtube"]
        assert youtube.used_today == 6
