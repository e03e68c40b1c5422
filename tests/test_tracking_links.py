"""Short links (tracking.links), the redirect /r/{slug} (web.redirect), the click log
(tracking.journal, tracking.clicks) and the counts (tracking.counts), on both stores."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from api_support import Tenant, make_tenant
from microfluence.campaigns.tables import Campaign, Deal
from microfluence.cli.main import app as cli
from microfluence.kernel.config import Settings, get_settings
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.tracking import links
from microfluence.tracking.clicks import move_segments, read_clicks, store_clicks
from microfluence.tracking.counts import click_counts
from microfluence.tracking.journal import Journal
from microfluence.tracking.recorder import recover
from microfluence.tracking.redirect import Target, new_token, with_token
from microfluence.tracking.tables import LinkClick, TrackingLink
from microfluence.web.app import create_app

IP = "203.0.113.77"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def tenants(store: Store) -> tuple[Tenant, Tenant]:
    return make_tenant(store, "brand-a", prefix="alpha"), make_tenant(
        store, "brand-b", prefix="bravo"
    )


@pytest.fixture
def campaign(store: Store, tenants: tuple[Tenant, Tenant]) -> Campaign:
    a, _ = tenants
    with store.transaction() as session:
        spring = Campaign(workspace_id=a.workspace_id, name="Spring Launch 2026 — Été")
        session.add(spring)
        session.flush()
        session.add(
            Deal(workspace_id=a.workspace_id, campaign_id=spring.id, creator_id=a.creator_ids[0])
        )
        return spring


@pytest.fixture
def client(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tenants):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MICROFLUENCE_CLICK_LOG_DIR", str(tmp_path / "clicks"))
    monkeypatch.setenv("MICROFLUENCE_COUNTRY_HEADER", "CF-IPCountry")
    monkeypatch.setenv("MICROFLUENCE_LINK_CACHE_SECONDS", "0")  # a disabled link: 404 at once
    app = create_app(store_url)
    with TestClient(app, client=(IP, 40000), follow_redirects=False) as test_client:
        test_client.app_state = app.state  # type: ignore[attr-defined]
        yield test_client


def _create(store: Store, ws: int, **fields) -> links.LinkPublic:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        return links.create_link(session, ws, links.LinkCreate(**fields))


def _clicks(store: Store, **where) -> list[LinkClick]:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        query = select(LinkClick).filter_by(**where).order_by(LinkClick.clicked_at)
        return list(session.scalars(query))


def _move(client: TestClient) -> None:
    client.app_state.clicks.move_now()  # type: ignore[attr-defined]


# --- creating links ---------------------------------------------------------------------------


def test_link_defaults_campaign_and_deal(store: Store, tenants, campaign: Campaign) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    link = _create(
        store,
        a.workspace_id,
        creator="instagram:alpha_ana",
        url="https://shop.example/p?x=1#top",
        campaign=campaign.name,
    )
    assert link.destination == (
        "https://shop.example/p?x=1&utm_source=instagram&utm_medium=influencer"
        "&utm_campaign=spring-launch-2026-ete&utm_content=alpha_ana#top"
    )
    assert link.creator_id == a.creator_ids[0] and link.account_id == a.account_ids[0]
    assert link.campaign_id == campaign.id and link.deal_id is not None
    assert len(link.slug) == 10 and link.slug.isalnum()
    assert link.short_url.endswith(f"/r/{link.slug}")
    # a creator of the campaign without a deal: no deal; overrides replace the defaults
    other = _create(
        store,
        a.workspace_id,
        creator="instagram:alpha_bo",
        url="https://shop.example/",
        campaign=campaign.name,
        utm={"medium": "story", "term": "bread"},
    )
    assert other.deal_id is None
    assert other.utm == {
        "source": "instagram",
        "medium": "story",
        "campaign": "spring-launch-2026-ete",
        "content": "alpha_bo",
        "term": "bread",
    }
    slugs = {
        _create(store, a.workspace_id, creator="youtube:alpha_cy", url="https://s.example/").slug
        for _ in range(20)
    }
    assert len(slugs) == 20


@pytest.mark.parametrize(
    ("fields", "error", "words"),
    [
        ({"creator": "instagram:nobody", "url": "https://s.example/"}, NotFoundError, "nobody"),
        ({"creator": "alpha_ana", "url": "https://s.example/"}, InputError, "PLATFORM:HANDLE"),
        ({"creator": "instagram:alpha_ana", "url": "ftp://s.example/"}, InputError, "field 'url'"),
        (
            {"creator": "instagram:alpha_ana", "url": "https://s.example/", "campaign": "Nope"},
            NotFoundError,
            "Nope",
        ),
        (
            {"creator": "instagram:alpha_ana", "url": "https://s.example/", "campaign": "a\x00"},
            InputError,
            "field 'campaign'",
        ),
        (
            {"creator": "instagram:alpha_ana", "url": "https://s.example/", "utm": {"colour": "x"}},
            InputError,
            "field 'utm'",
        ),
    ],
)
def test_create_refusals_store_nothing(store: Store, tenants, fields, error, words) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    with pytest.raises(error, match=words):
        _create(store, a.workspace_id, **fields)
    with store.transaction() as session:
        assert session.scalar(select(TrackingLink.id)) is None


def test_another_workspace_cannot_use_the_names(store: Store, tenants, campaign) -> None:  # type: ignore[no-untyped-def]
    _, b = tenants
    with pytest.raises(NotFoundError):
        _create(store, b.workspace_id, creator="instagram:alpha_ana", url="https://s.example/")
    with pytest.raises(NotFoundError):
        _create(
            store,
            b.workspace_id,
            creator="instagram:bravo_ana",
            url="https://s.example/",
            campaign=campaign.name,
        )


# --- the redirect -----------------------------------------------------------------------------


def test_redirect_appends_the_click_token_and_logs_the_click(client, store: Store, tenants) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    link = _create(
        store,
        a.workspace_id,
        creator="instagram:alpha_ana",
        url="https://shop.example/p?a=1&mf_click=old#reviews",
    )
    answer = client.get(
        f"/r/{link.slug}",
        headers={
            "User-Agent": CHROME,
            "Referer": "https://l.instagram.com/?u=x&e=" + "y" * 2000,
            "CF-IPCountry": "fr",
        },
    )
    assert answer.status_code == 302
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "set-cookie" not in answer.headers
    location = urlsplit(answer.headers["location"])
    assert location.fragment == "reviews"
    params = parse_qsl(location.query)
    assert [k for k, _ in params] == ["a", "utm_source", "utm_medium", "utm_content", "mf_click"]
    token = dict(params)["mf_click"]
    assert token != "old" and len(token) >= 20
    _move(client)
    (click,) = _clicks(store, token=token)
    assert click.link_id == link.id and click.workspace_id == a.workspace_id
    assert click.agent_class == "browser" and not click.is_bot and click.is_unique
    assert click.country == "FR"
    assert click.referrer_host == "l.instagram.com" and len(click.referrer) == 1000
    assert len(click.visitor_hash) == 64
    assert click.window_start == click.clicked_at.replace(minute=0, second=0, microsecond=0)


def test_head_unknown_disabled_and_other_methods(client, store: Store, tenants) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    link = _create(
        store, a.workspace_id, creator="instagram:alpha_ana", url="https://shop.example/"
    )
    head = client.head(f"/r/{link.slug}", headers={"User-Agent": CHROME})
    assert head.status_code == 302 and head.content == b""
    assert "mf_click=" in head.headers["location"]
    unknown = client.get("/r/doesNotExist9")
    assert unknown.status_code == 404 and unknown.headers["cache-control"] == "no-store"
    assert client.get("/r/../../etc/passwd").status_code == 404
    assert client.post(f"/r/{link.slug}").status_code == 405
    with store.transaction() as session:
        links.disable_link(session, a.workspace_id, link.id)
    disabled = client.get(f"/r/{link.slug}")
    assert disabled.status_code == 404 and disabled.content == unknown.content  # nothing told
    _move(client)
    (click,) = _clicks(store, link_id=link.id)
    assert click.is_bot and click.agent_class == "bot" and not click.is_unique  # the HEAD


def test_a_slug_works_publicly_and_its_clicks_stay_in_its_workspace(
    client, store: Store, tenants
) -> None:  # type: ignore[no-untyped-def]
    a, b = tenants
    link_b = _create(store, b.workspace_id, creator="instagram:bravo_ana", url="https://b.example/")
    assert client.get(f"/r/{link_b.slug}", headers={"User-Agent": CHROME}).status_code == 302
    _move(client)
    with store.transaction() as session:
        assert click_counts(session, a.workspace_id).height == 0
        counts = click_counts(session, b.workspace_id)
    assert counts.to_dicts() == [
        {"link_id": link_b.id, "clicks": 1, "unique_clicks": 1, "bot_clicks": 0}
    ]
    assert [c.workspace_id for c in _clicks(store)] == [b.workspace_id]


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({"User-Agent": CHROME}, "browser"),
        ({"User-Agent": IPHONE}, "mobile"),
        ({"User-Agent": CHROME, "Sec-Purpose": "prefetch;prerender"}, "prefetch"),
        ({"User-Agent": CHROME, "Purpose": "prefetch"}, "prefetch"),
        ({"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}, "preview"),
        ({"User-Agent": "facebookexternalhit/1.1 Facebot Twitterbot/1.0"}, "preview"),  # iMessage
        ({"User-Agent": "WhatsApp/2.23.20.0 A"}, "preview"),
        ({"User-Agent": "Twitterbot/1.0"}, "preview"),
        (
            {
                "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
            },
            "bot",
        ),
        ({"User-Agent": "curl/8.5.0"}, "bot"),
        ({"User-Agent": ""}, "bot"),
    ],
)
def test_agent_classes_and_bot_flags(client, store: Store, tenants, headers, kind) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    link = _create(
        store, a.workspace_id, creator="instagram:alpha_ana", url="https://shop.example/"
    )
    assert client.get(f"/r/{link.slug}", headers=headers).status_code == 302
    _move(client)
    (click,) = _clicks(store, link_id=link.id)
    assert click.agent_class == kind
    assert click.is_bot == (kind not in ("browser", "mobile"))
    with store.transaction() as session:
        row = click_counts(session, a.workspace_id).row(0, named=True)
    assert (row["clicks"], row["bot_clicks"]) == ((0, 1) if click.is_bot else (1, 0))


def test_no_raw_ip_anywhere(client, store: Store, tenants, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    link = _create(
        store, a.workspace_id, creator="instagram:alpha_ana", url="https://shop.example/"
    )
    for _ in range(3):
        client.get(f"/r/{link.slug}", headers={"User-Agent": CHROME})
    # in the log on disk, before the move …
    logged = b"".join(p.read_bytes() for p in (tmp_path / "clicks").glob("*.jsonl"))
    assert logged.count(b"\n") == 3 and IP.encode() not in logged
    _move(client)
    # … and in every column of every table
    with store.connection() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                assert IP not in " ".join(map(str, row)), table
    clicks = _clicks(store, link_id=link.id)
    assert len(clicks) == 3 and len({c.visitor_hash for c in clicks}) == 1
    assert [c.is_unique for c in clicks] == [True, False, False]


# --- unique clicks and the log ---------------------------------------------------------------


def _record(
    link: links.LinkPublic, ws: int, token: str, at: str, visitor: str = "v1", bot: bool = False
) -> dict:
    return {
        "token": token,
        "link_id": link.id,
        "workspace_id": ws,
        "clicked_at": at,
        "referrer_host": None,
        "referrer": None,
        "agent_class": "bot" if bot else "browser",
        "country": None,
        "visitor_hash": visitor * 16,
        "is_bot": bot,
    }


def _ingest(store: Store, records: list[dict]) -> None:
    store_clicks(store, read_clicks(b"".join(orjson.dumps(r) + b"\n" for r in records)))


def test_unique_window_edges_whatever_the_order(store: Store, tenants) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    ws = a.workspace_id
    link = _create(store, ws, creator="instagram:alpha_ana", url="https://shop.example/")
    other = _create(store, ws, creator="instagram:alpha_ana", url="https://shop.example/")
    late = [
        _record(link, ws, "t2", "2026-11-26T10:59:59.999999"),  # same hour as t1: repeat
        _record(link, ws, "t3", "2026-11-26T11:00:00.000000"),  # next hour: unique again
        _record(link, ws, "t4", "2026-11-26T11:30:00.000000", visitor="v2"),  # another visitor
        _record(other, ws, "t5", "2026-11-26T10:30:00.000000"),  # another link
        _record(link, ws, "t0", "2026-11-26T09:59:00.000000", bot=True),  # a bot: never unique
        _record(link, ws, "t6", "2026-11-26T10:10:00.000000", bot=True),  # and blocks nobody
    ]
    _ingest(store, late)
    # the earliest click of 10h arrives last (another process's segment): t2 is a repeat now
    _ingest(store, [_record(link, ws, "t1", "2026-11-26T10:00:00.000000")])
    _ingest(store, late)  # a segment moved twice: nothing doubles
    unique = {c.token: c.is_unique for c in _clicks(store)}
    assert unique == {
        "t0": False,
        "t1": True,
        "t6": False,
        "t5": True,
        "t2": False,
        "t3": True,
        "t4": True,
    }
    with store.transaction() as session:
        days = click_counts(session, ws, by="creator", daily=True)
        campaigns = click_counts(session, ws, by="campaign")
    assert days.to_dicts() == [
        {
            "creator_id": a.creator_ids[0],
            "day": dt.date(2026, 11, 26),
            "clicks": 5,
            "unique_clicks": 4,
            "bot_clicks": 2,
        }
    ]
    assert campaigns.to_dicts() == [
        {"campaign_id": None, "clicks": 5, "unique_clicks": 4, "bot_clicks": 2}
    ]


def test_a_dead_journal_is_replayed_once(store: Store, tenants, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    link = _create(
        store, a.workspace_id, creator="instagram:alpha_ana", url="https://shop.example/"
    )
    folder = tmp_path / "log"
    dead = Journal(folder)
    for n in range(5):
        dead.append_sync(_record(link, a.workspace_id, f"k{n}", f"2026-11-26T10:0{n}:00.000000"))
    dead.rotate()
    dead.append_sync(_record(link, a.workspace_id, "k5", "2026-11-26T10:06:00.000000"))
    segment = sorted(folder.glob("*.jsonl"))[-1]
    with segment.open("ab") as f:
        f.write(b'{"token": "half-writ')  # the process died in the middle of a write
    alive = Journal(folder)
    assert recover(store, folder, besides=alive.owner) == 0  # its owner still holds the lock
    os.close(dead._lock_fd)  # the process dies: the kernel drops its lock
    assert recover(store, folder, besides=alive.owner) == 6
    assert recover(store, folder, besides=alive.owner) == 0
    assert sorted(c.token for c in _clicks(store)) == [f"k{n}" for n in range(6)]
    assert {p.name.split(".")[0] for p in folder.iterdir()} == {alive.owner}  # dead one gone
    assert move_segments(store, alive.close()) == 0
    alive.release()


# --- faces ------------------------------------------------------------------------------------


def test_cli_create_list_disable(
    store: Store, store_url: str, tenants, campaign, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MICROFLUENCE_PUBLIC_URL", "https://go.example.com")
    get_settings.cache_clear()
    monkeypatch.setattr("microfluence.tracking.links.get_settings", Settings)
    runner = CliRunner()
    base = ["--workspace", "brand-a", "--database-url", store_url]
    made = runner.invoke(
        cli,
        [
            "links",
            "create",
            "--creator",
            "instagram:alpha_ana",
            "--url",
            "https://shop.example/",
            "--campaign",
            campaign.name,
            *base,
        ],
    )
    assert made.exit_code == 0, made.output
    last = made.output.strip().splitlines()[-1]
    assert last.startswith("https://go.example.com/r/") and len(last.rsplit("/", 1)[1]) == 10
    slug = last.rsplit("/", 1)[1]
    listed = runner.invoke(cli, ["links", "list", "--creator", "instagram:alpha_ana", *base])
    assert listed.exit_code == 0 and slug in listed.output
    disabled = runner.invoke(cli, ["links", "disable", slug, *base])
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    wrong = runner.invoke(
        cli,
        [
            "links",
            "create",
            "--creator",
            "instagram:alpha_ana",
            "--url",
            "file:///etc/passwd",
            *base,
        ],
    )
    assert wrong.exit_code == 1 and "field 'url'" in wrong.output


def test_api_create_list_days_disable(client, store: Store, tenants, campaign) -> None:  # type: ignore[no-untyped-def]
    a, _ = tenants
    body = {
        "creator": "instagram:alpha_ana",
        "url": "https://shop.example/",
        "campaign": campaign.name,
    }
    assert client.post("/api/v1/links", json=body, headers=a.auth("viewer")).status_code == 403
    made = client.post("/api/v1/links", json=body, headers=a.auth("member"))
    assert made.status_code == 201, made.text
    link = made.json()
    client.get(f"/r/{link['slug']}", headers={"User-Agent": IPHONE})
    client.get(f"/r/{link['slug']}", headers={"User-Agent": IPHONE})
    client.get(f"/r/{link['slug']}", headers={"User-Agent": "Twitterbot/1.0"})
    _move(client)
    listed = client.get(
        "/api/v1/links", params={"campaign_id": campaign.id}, headers=a.auth("viewer")
    ).json()
    assert listed["count"] == 1
    assert {k: listed["data"][0][k] for k in ("clicks", "unique_clicks", "bot_clicks")} == {
        "clicks": 2,
        "unique_clicks": 1,
        "bot_clicks": 1,
    }
    days = client.get(f"/api/v1/links/{link['id']}/days", headers=a.auth("viewer")).json()
    assert len(days) == 1 and days[0]["clicks"] == 2
    bad = client.post("/api/v1/links", json={**body, "url": "nope"}, headers=a.auth("member"))
    assert bad.status_code == 422 and "url" in bad.text
    off = client.post(f"/api/v1/links/{link['id']}/disable", headers=a.auth("member"))
    assert off.status_code == 200 and off.json()["disabled_at"]
    assert client.get(f"/r/{link['slug']}").status_code == 404


@pytest.mark.parametrize(
    "destination",
    [
        "https://s.example/",
        "https://s.example/p?a=1&mf_click=old&b=2#frag",
        "http://[2001:db8::1]:8080/p#x?y",
        "https://s.example/p?MF_CLICK=x",
    ],
)
def test_the_precut_location_is_the_token_appended(destination: str) -> None:
    target = Target.of(1, 1, destination)
    token = new_token()
    assert target.location(token) == with_token(destination, token)
    query = dict(parse_qsl(urlsplit(target.location(token)).query))
    assert query["mf_click"] == token and len(token) == 22


def test_tokens_are_distinct_and_url_safe() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_the_library_face(store: Store, store_url: str, tenants, campaign) -> None:  # type: ignore[no-untyped-def]
    import microfluence

    a, _ = tenants
    with microfluence.open_workspace("brand-a", database_url=store_url, create=False) as ws:
        link = ws.create_link("instagram:alpha_bo", "https://s.example/", campaign=campaign.name)
        assert link.utm["content"] == "alpha_bo" and link.campaign_id == campaign.id
        assert [x.slug for x in ws.links()] == [link.slug]
        _ingest(store, [_record(link, a.workspace_id, "lib1", "2026-11-26T10:00:00.000000")])
        by_campaign = ws.click_counts(by="campaign", daily=True)
    assert by_campaign.to_dicts() == [
        {
            "campaign_id": campaign.id,
            "day": dt.date(2026, 11, 26),
            "clicks": 1,
            "unique_clicks": 1,
            "bot_clicks": 0,
        }
    ]


def test_the_visitor_hash_changes_with_the_day_and_the_workspace_and_old_salts_go(
    store: Store,
) -> None:
    from microfluence.access.tables import SiteSecret
    from microfluence.tracking.visitors import DailySalt, visitor_hash

    salts = DailySalt(store)
    day = dt.date(2026, 11, 26)
    keys = [salts.for_day(day - dt.timedelta(days=n)) for n in range(4)]
    assert len(set(keys)) == 4 and all(len(k) >= 48 for k in keys)
    assert DailySalt(store).for_day(day) == keys[0]  # every process gets the day's salt
    same = visitor_hash(keys[0], 1, IP, CHROME)
    assert same == visitor_hash(keys[0], 1, IP, CHROME) and len(same) == 64
    assert same != visitor_hash(keys[1], 1, IP, CHROME)  # another day
    assert same != visitor_hash(keys[0], 2, IP, CHROME)  # another workspace
    assert IP not in same
    assert salts.prune(day) == 2  # the days before yesterday
    with store.transaction() as session:
        left = sorted(
            session.scalars(select(SiteSecret.name).where(SiteSecret.name.like("click-salt:%")))
        )
    assert left == ["click-salt:2026-11-25", "click-salt:2026-11-26"]
