"""Tenant isolation of the pages: a user of workspace A cannot see or change anything of
workspace B through them — ids guessed, filters, import jobs, settings, the switcher."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api_support import Tenant, make_tenant, make_user
from microfluence.access.tables import ApiKey, Membership, User
from microfluence.kernel.store import open_store
from microfluence.metrics.service import compute_metrics
from microfluence.web.app import create_app
from pages_support import HTML, sign_in

CSV = "handle,platform,name,followers\nbeta_secret_import,instagram,Beta Secret,4000\n"


@dataclass
class Two:
    client: TestClient
    alpha: Tenant
    beta: Tenant
    beta_job: str
    beta_owner_id: int
    beta_key_ids: list[int]
    csrf: str  # of alpha's owner, signed in on ``client``


@pytest.fixture
def two(store_url: str) -> Iterator[Two]:
    store = open_store(store_url)
    alpha = make_tenant(store, "alpha")
    beta = make_tenant(store, "beta")
    make_user(store, "a@a.io", "alpha", "owner")
    make_user(store, "b@b.io", "beta", "owner")
    with store.session() as session:
        beta_owner_id = session.query(User.id).filter(User.email == "b@b.io").scalar()
        beta_key_ids = [
            k.id for k in session.query(ApiKey).filter(ApiKey.workspace_id == beta.workspace_id)
        ]
    store.dispose()
    app = create_app(store_url)
    # A second browser on the same app; only the outer client runs the app's lifespan.
    beta_client = TestClient(app)
    csrf = sign_in(beta_client, "b@b.io")
    started = beta_client.post(
        "/imports",
        data={"kind": "creators", "csrf_token": csrf},
        files={"file": ("beta-private.csv", CSV.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert started.status_code == 303
    app.state.jobs.wait(timeout=60)
    beta_job = started.headers["location"].rsplit("/", 1)[1]
    with TestClient(app) as client:
        yield Two(
            client=client,
            alpha=alpha,
            beta=beta,
            beta_job=beta_job,
            beta_owner_id=beta_owner_id,
            beta_key_ids=beta_key_ids,
            csrf=sign_in(client, "a@a.io"),
        )


def _visible_names(client: TestClient, query: str = "") -> list[str]:
    answer = client.get("/creators?per_page=100&" + query, headers=HTML)
    assert answer.status_code == 200, answer.text
    return re.findall(r'class="strong">([^<]+)</a>', answer.text)


def test_lists_and_filters_show_only_the_own_workspace(two: Two, store_url: str) -> None:
    client = two.client
    store = open_store(store_url)
    for workspace in ("alpha", "beta"):  # tiers stored for both: the tier filter is scoped too
        compute_metrics(store, workspace)
    store.dispose()
    mine = ["alpha Ana", "alpha Bo", "alpha Cy"]
    queries = [
        "",
        "sort=-followers",
        "q=beta",
        "q=secret",
        "q=%25",  # a LIKE wildcard, taken literally
        "platform=instagram",
        "country=fr",
        "category=beauty",
        "min_followers=0",
        "max_followers=10000000",
        "tier=micro",
        "tier=nano",
        "tier=mid",
    ]
    for query in queries:
        names = _visible_names(client, query)
        assert set(names) <= set(mine), query
        assert not any("beta" in n.lower() for n in names), query
    assert _visible_names(client) == mine
    page = client.get("/creators", headers=HTML).text
    assert "beta_" not in page and ">3<" in page  # the count is the own workspace's


def test_guessed_ids_of_the_other_workspace_are_not_found(two: Two) -> None:
    client = two.client
    for creator in two.beta.creator_ids:
        answer = client.get(f"/creators/{creator}", headers=HTML)
        assert answer.status_code == 404
        assert "beta" not in answer.text.lower()
    for account in two.beta.account_ids:
        for path in (f"/accounts/{account}/vetting", f"/accounts/{account}/vetting/report.html"):
            answer = client.get(path, headers=HTML)
            assert answer.status_code == 404, path
            assert "beta_" not in answer.text
    # A sweep over every id: the pages that answer are exactly the own workspace's.
    top = max(two.beta.creator_ids + two.alpha.creator_ids) + 3
    found = [i for i in range(1, top) if client.get(f"/creators/{i}").status_code == 200]
    assert found == sorted(two.alpha.creator_ids)
    top = max(two.beta.account_ids + two.alpha.account_ids) + 3
    found = [i for i in range(1, top) if client.get(f"/accounts/{i}/vetting").status_code == 200]
    assert found == sorted(two.alpha.account_ids)


def test_import_jobs_of_the_other_workspace_are_not_found(two: Two) -> None:
    client = two.client
    for path in (f"/imports/{two.beta_job}", f"/imports/{two.beta_job}/status"):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "beta-private" not in answer.text
    listing = client.get("/imports", headers=HTML).text
    assert "beta-private" not in listing and two.beta_job not in listing
    assert "Beta Secret" not in client.get("/creators?q=secret", headers=HTML).text
    # An import by alpha lands in alpha only.
    started = client.post(
        "/imports",
        data={"kind": "creators", "csrf_token": two.csrf},
        files={"file": ("alpha.csv", CSV.replace("beta", "alpha").encode(), "text/csv")},
        follow_redirects=False,
    )
    assert started.status_code == 303
    client.app.state.jobs.wait(timeout=60)
    beta_client = TestClient(client.app)  # another browser (the lifespan is the outer one's)
    sign_in(beta_client, "b@b.io")
    assert "alpha_secret_import" not in beta_client.get("/creators?q=secret", headers=HTML).text
    alpha_job = started.headers["location"]
    assert beta_client.get(alpha_job, headers=HTML).status_code == 404


def test_import_jobs_of_the_other_workspace_cannot_be_cancelled(two: Two) -> None:
    from microfluence.jobs.tables import ImportJob

    client = two.client  # alpha's owner
    answer = client.post(
        f"/imports/{two.beta_job}/cancel", data={"csrf_token": two.csrf}, headers=HTML
    )
    assert answer.status_code == 404 and "beta-private" not in answer.text
    with client.app.state.store.transaction() as session:
        assert session.get(ImportJob, two.beta_job).status == "succeeded"  # untouched


def test_jobs_and_schedules_of_the_other_workspace(two: Two) -> None:
    from microfluence.jobs.scoring import create_score_job
    from microfluence.jobs.tables import ImportJob, JobSchedule
    from microfluence.metrics.tables import MetricRun

    client, csrf = two.client, two.csrf  # alpha's owner
    store = client.app.state.store
    with store.transaction() as session:
        beta_score = create_score_job(session, two.beta.workspace_id, source="beta-nightly").id
        beta_schedule = JobSchedule(
            workspace_id=two.beta.workspace_id, kind="score", cron="7 7 * * *"
        )
        session.add(beta_schedule)
        session.flush()
        schedule_id = beta_schedule.id
    listing = client.get("/jobs", headers=HTML).text
    for secret in ("beta-private", "beta-nightly", two.beta_job, beta_score, "7 7 * * *"):
        assert secret not in listing, secret
    for job in (two.beta_job, beta_score):
        for path in (f"/jobs/{job}", f"/jobs/{job}/status"):
            answer = client.get(path, headers=HTML)
            assert answer.status_code == 404 and "beta" not in answer.text, path
        cancel = client.post(f"/jobs/{job}/cancel", data={"csrf_token": csrf}, headers=HTML)
        assert cancel.status_code == 404
    removed = client.post(
        f"/jobs/schedules/{schedule_id}/delete", data={"csrf_token": csrf}, headers=HTML
    )
    assert removed.status_code == 404
    # Alpha's own re-score and schedule stay alpha's.
    started = client.post("/jobs/score", data={"csrf_token": csrf}, follow_redirects=False)
    assert started.status_code == 303
    client.app.state.jobs.wait(timeout=60)
    added = client.post(
        "/jobs/schedules",
        data={"kind": "score", "cron": "7 7 * * *", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.status_code == 303  # the same cron as beta's: no clash across workspaces
    with store.session() as session:
        assert session.get(ImportJob, beta_score).status == "queued"  # untouched
        assert session.get(JobSchedule, schedule_id) is not None
        runs = session.query(MetricRun.workspace_id).all()
        assert runs == [(two.alpha.workspace_id,)]
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    beta_page = beta_client.get("/jobs", headers=HTML).text
    assert started.headers["location"] not in beta_page
    assert beta_page.count("7 7 * * *") == 1  # beta's own only
    assert beta_client.get(started.headers["location"], headers=HTML).status_code == 404


def test_settings_cannot_touch_the_other_workspace(two: Two, store_url: str) -> None:
    client, csrf = two.client, two.csrf
    page = client.get("/settings", headers=HTML).text
    assert "b@b.io" not in page
    for key_id in two.beta_key_ids:
        assert f"/settings/api-keys/{key_id}/revoke" not in page
        answer = client.post(
            f"/settings/api-keys/{key_id}/revoke", data={"csrf_token": csrf}, headers=HTML
        )
        assert answer.status_code == 404
    uid = two.beta_owner_id
    for path, data in (
        (f"/settings/members/{uid}/role", {"role": "viewer"}),
        (f"/settings/members/{uid}/remove", {}),
    ):
        answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404, path
    # Inviting the other workspace's owner to alpha gives alpha nothing of beta, and them
    # nothing until they accept.
    invited = client.post(
        "/settings/invitations",
        data={"email": "b@b.io", "role": "viewer", "csrf_token": csrf},
        headers=HTML,
    )
    assert invited.status_code == 200 and "/invitations/mfi_" in invited.text
    for action in ("disable", "enable", "delete"):
        answer = client.post(
            f"/settings/members/{uid}/{action}", data={"csrf_token": csrf}, headers=HTML
        )
        assert answer.status_code == 404, action
    # Beta's follower samples and creator records are not found either.
    for account in two.beta.account_ids:
        export = client.get(f"/settings/follower-samples/{account}/export?format=csv")
        assert export.status_code == 404
        delete = client.post(
            f"/settings/follower-samples/{account}/delete", data={"csrf_token": csrf}
        )
        assert delete.status_code == 404
    for creator in two.beta.creator_ids:
        assert client.get(f"/creators/{creator}/record.json").status_code == 404
    store = open_store(store_url)
    with store.session() as session:
        revoked = session.query(ApiKey).filter(ApiKey.id.in_(two.beta_key_ids)).all()
        assert all(k.revoked_at is None for k in revoked)
        role = (
            session.query(Membership.role)
            .filter(Membership.user_id == uid, Membership.workspace_id == two.beta.workspace_id)
            .scalar()
        )
        assert role == "owner"
        alpha_role = (
            session.query(Membership.role)
            .filter(Membership.user_id == uid, Membership.workspace_id == two.alpha.workspace_id)
            .scalar()
        )
        assert alpha_role is None  # not a member before accepting
    store.dispose()
    assert client.get("/api/v1/creators", headers=two.beta.auth("viewer")).status_code == 200


def test_switching_to_a_workspace_one_does_not_belong_to(two: Two) -> None:
    client, csrf = two.client, two.csrf
    answer = client.post(
        "/auth/workspace", data={"workspace": "beta", "csrf_token": csrf}, headers=HTML
    )
    assert answer.status_code == 404
    assert "no workspace named" in answer.text
    assert "beta Ana" not in client.get("/creators", headers=HTML).text
    assert client.get("/workspaces", headers=HTML).text.count("/auth/workspace") == 0


def test_the_labelling_page_shows_and_labels_only_the_own_workspaces_followers(
    two: Two, store_url: str
) -> None:
    from labels_support import bot, person
    from microfluence.authenticity.labels.tables import FollowerLabel
    from microfluence.kernel.store.tables import Follower

    client, csrf = two.client, two.csrf
    store = open_store(store_url)
    with store.transaction() as session:
        for tenant, prefix in ((two.alpha, "alpha_"), (two.beta, "beta_")):
            account = tenant.account_ids[0]
            session.add_all(bot(account, tenant.workspace_id, n, prefix) for n in range(3))
            session.add_all(person(account, tenant.workspace_id, n, prefix) for n in range(3))
    with store.session() as session:
        theirs = session.scalars(
            sa.select(Follower.id).where(Follower.workspace_id == two.beta.workspace_id)
        ).all()
    for _ in range(6):
        page = client.get("/labels", headers=HTML)
        assert page.status_code == 200 and "beta_" not in page.text
        assert re.search(r'data-follower-id="(\d+)"', page.text).group(1) not in map(str, theirs)
    for follower in theirs:
        assert client.get(f"/labels?follower={follower}", headers=HTML).status_code == 404
        answer = client.post(
            f"/labels/{follower}", data={"label": "fake", "csrf_token": csrf}, headers=HTML
        )
        assert answer.status_code == 404 and "beta_" not in answer.text
    assert client.get(f"/labels?account={two.beta.account_ids[0]}", headers=HTML).status_code == 404
    with store.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FollowerLabel)) == 0
    store.dispose()
    # Beta's owner sees none of alpha's followers either.
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    assert "alpha_" not in beta_client.get("/labels", headers=HTML).text


def _campaign(store_url: str, tenant: Tenant, prefix: str) -> dict[str, int]:
    """A campaign of ``tenant`` named after it, with a deal whose feed post is matched."""
    from microfluence.campaigns.campaigns import create_campaign
    from microfluence.campaigns.deals import add_deal
    from microfluence.campaigns.schemas import CampaignCreate, DealCreate
    from microfluence.tracking.deliverables import match_deliverables

    store = open_store(store_url)
    with store.transaction() as session:
        ws = tenant.workspace_id
        cid = create_campaign(
            session, ws, CampaignCreate(name=f"{prefix} secret launch", hashtags=["ad"])
        ).id
        deal = add_deal(
            session,
            ws,
            cid,
            DealCreate(creator=f"instagram:{prefix}_ana", package={"feed_post": 1, "story": 1}),
        )
        summary = match_deliverables(session, ws, cid)
    store.dispose()
    assert summary.matched == 1
    return {"campaign": cid, "deal": deal.id, "piece": summary.deliverables[0].id}


def test_campaigns_of_the_other_workspace_are_not_found(two: Two, store_url: str) -> None:
    client, csrf = two.client, two.csrf
    mine = _campaign(store_url, two.alpha, "alpha")
    theirs = _campaign(store_url, two.beta, "beta")
    listing = client.get("/campaigns", headers=HTML).text
    assert "alpha secret launch" in listing and "beta secret" not in listing
    cid, did, pid = theirs["campaign"], theirs["deal"], theirs["piece"]
    answer = client.get(f"/campaigns/{cid}", headers=HTML)
    assert answer.status_code == 404 and "beta" not in answer.text.lower()
    own = mine["campaign"]
    for path, data in (
        (f"/campaigns/{cid}/status", {"status": "active"}),
        (f"/campaigns/{cid}/edit", {"name": "pwned"}),
        (f"/campaigns/{cid}/delete", {}),
        (f"/campaigns/{cid}/deals", {"creator": "instagram:alpha_bo"}),
        (f"/campaigns/{cid}/deals/{did}/remove", {}),
        (f"/campaigns/{own}/deals/{did}/remove", {}),
        (f"/campaigns/{cid}/match", {}),
        (f"/campaigns/{cid}/deliverables/{pid}/confirm", {}),
        (f"/campaigns/{cid}/deliverables/{pid}/reject", {}),
        (f"/campaigns/{own}/deliverables/{pid}/reject", {}),
        (f"/campaigns/{own}/deliverables/{pid}/confirm", {}),
        (f"/campaigns/{own}/deliverables/{pid}/assign", {"post": "1"}),
        (
            f"/campaigns/{own}/deliverables/{mine['piece']}/assign",
            {"post": str(two.beta.post_ids[0])},
        ),
    ):
        answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404, path
        assert "beta secret" not in answer.text
    # A sweep over ids: the campaign pages that answer are exactly the own workspace's.
    found = [i for i in range(1, cid + 3) if client.get(f"/campaigns/{i}").status_code == 200]
    assert found == [own]
    # Beta's campaign is untouched: its status, deal and matched piece.
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    page = beta_client.get(f"/campaigns/{cid}", headers=HTML).text
    assert "status-draft" in page and "#ad in caption" in page and "instagram:beta_ana" in page


def test_links_of_the_other_workspace_are_not_shown_made_or_disabled(
    two: Two, store_url: str
) -> None:
    from microfluence.tracking import links

    client = two.client
    store = open_store(store_url)
    with store.transaction() as session:
        theirs = links.create_link(
            session,
            two.beta.workspace_id,
            links.LinkCreate(creator="instagram:beta_ana", url="https://beta.example/secret"),
        )
    for path in ("/links", f"/links?creator_id={two.beta.creator_ids[0]}"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200
        assert theirs.slug not in page.text and "beta.example" not in page.text
    disabled = client.post(
        f"/links/{theirs.id}/disable", data={"csrf_token": two.csrf}, follow_redirects=False
    )
    assert disabled.status_code == 404
    made = client.post(
        f"/creators/{two.beta.creator_ids[0]}/links",
        data={"csrf_token": two.csrf, "account": "instagram:beta_ana", "url": "https://x.example/"},
        follow_redirects=False,
    )
    assert made.status_code == 404
    # an own creator with the other workspace's account named: refused, nothing made
    mixed = client.post(
        f"/creators/{two.alpha.creator_ids[0]}/links",
        data={"csrf_token": two.csrf, "account": "instagram:beta_ana", "url": "https://x.example/"},
        follow_redirects=False,
    )
    assert mixed.status_code == 422
    with store.transaction() as session:
        assert links.get_link(session, two.beta.workspace_id, theirs.id).disabled_at is None
        assert links.list_links(session, two.alpha.workspace_id) == []


def test_the_sales_page_shows_and_changes_only_the_own_workspace(two: Two, store_url: str) -> None:
    from microfluence.commerce.shops import create_shop
    from microfluence.tracking import codes as C

    store = open_store(store_url)
    with store.transaction() as s:
        beta_owner = C.resolve_owner(s, two.beta.workspace_id, creator_id=two.beta.creator_ids[0])
        beta_code = C.create_code(
            s, two.beta.workspace_id, beta_owner, value=15, code="BETASECRET15"
        )
        beta_id = beta_code.id
        create_shop(s, two.beta.workspace_id, platform="shopify", name="beta-private-shop")
    store.dispose()
    client = two.client
    made = client.post(
        "/sales/codes",
        data={"creator": "instagram:alpha_ana", "value": "10", "csrf_token": two.csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get("/sales", headers=HTML).text
    assert "ALPHAANA10-" in page
    assert "BETASECRET15" not in page and "beta-private-shop" not in page
    assert "BETASECRET15" not in client.get("/sales/codes.csv").text
    # Beta's code cannot be disabled, nor beta's creators given codes.
    assert (
        client.post(
            f"/sales/codes/{beta_id}/disable", data={"csrf_token": two.csrf}, follow_redirects=False
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/sales/codes",
            data={"creator": "instagram:beta_ana", "value": "10", "csrf_token": two.csrf},
            follow_redirects=False,
        ).status_code
        == 404
    )
    store = open_store(store_url)
    with store.transaction() as s:
        assert C.get_code(s, two.beta.workspace_id, beta_id).disabled_at is None
    store.dispose()


def test_campaign_dashboards_and_emv_rates_stay_in_their_workspace(
    two: Two, store_url: str
) -> None:
    import datetime as dt

    from microfluence.kernel.workspaces import get_workspace
    from microfluence.measurement import emv
    from microfluence.tracking import links
    from microfluence.tracking.tables import LinkClick

    client, csrf = two.client, two.csrf  # alpha's owner
    mine = _campaign(store_url, two.alpha, "alpha")["campaign"]
    theirs = _campaign(store_url, two.beta, "beta")["campaign"]
    store = open_store(store_url)
    with store.transaction() as session:  # a click on beta's campaign, and beta's own EMV rate
        link = links.create_link(
            session,
            two.beta.workspace_id,
            links.LinkCreate(
                creator="instagram:beta_ana",
                url="https://beta.example/",
                campaign="beta secret launch",
            ),
        )
        session.add(
            LinkClick(
                workspace_id=two.beta.workspace_id,
                link_id=link.id,
                token="beta-click-token",
                clicked_at=dt.datetime(2026, 5, 1, 12),
                agent_class="browser",
                visitor_hash="0" * 64,
                is_bot=False,
                is_unique=True,
                window_start=dt.datetime(2026, 5, 1, 12),
            )
        )
        emv.set_emv_rates(session, get_workspace(session, "beta"), {"tiktok": 42.42})
    store.dispose()
    own = client.get(f"/campaigns/{mine}/dashboard", headers=HTML)
    assert own.status_code == 200
    assert "beta" not in own.text.lower() and 'id="dashboard-empty"' in own.text
    for query in ("", "?from=2026-05-01&to=2026-05-31"):
        answer = client.get(f"/campaigns/{theirs}/dashboard{query}", headers=HTML)
        assert answer.status_code == 404 and "beta" not in answer.text.lower()
    found = [
        i
        for i in range(1, theirs + 3)
        if client.get(f"/campaigns/{i}/dashboard").status_code == 200
    ]
    assert found == [mine]
    # Beta's owner sees the click on their own dashboard (the check above can fail).
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    beta_page = beta_client.get(f"/campaigns/{theirs}/dashboard", headers=HTML).text
    assert 'id="tile-clicks"' in beta_page and "dashboard-empty" not in beta_page
    # EMV rates: alpha's settings show the defaults, not beta's own rate; alpha's change is
    # alpha's only.
    settings_page = client.get("/settings", headers=HTML).text
    assert "42.42" not in settings_page
    saved = client.post(
        "/settings/emv-rates",
        data={"csrf_token": csrf, "cpm.tiktok": "1.25"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    store = open_store(store_url)
    with store.session() as session:
        assert emv.own_rates(get_workspace(session, "alpha")) == {"tiktok": 1.25}
        assert emv.own_rates(get_workspace(session, "beta")) == {"tiktok": 42.42}
    store.dispose()
    assert "1.25" not in beta_client.get("/settings", headers=HTML).text


def test_reminder_thresholds_stay_in_their_workspace(two: Two, store_url: str) -> None:
    """Alpha's settings page shows alpha's thresholds, never beta's own; alpha's change is
    alpha's only, and beta's page does not show it."""
    from microfluence.kernel.workspaces import get_workspace
    from microfluence.relationships.reminder_settings import own_thresholds, set_thresholds

    client, csrf = two.client, two.csrf  # alpha's owner
    store = open_store(store_url)
    with store.transaction() as session:
        set_thresholds(session, get_workspace(session, "beta"), {"follow_up_days": 271})
    store.dispose()
    page = client.get("/settings", headers=HTML).text
    assert 'data-threshold="follow_up_days"' in page and "271" not in page
    saved = client.post(
        "/settings/reminder-thresholds",
        data={"csrf_token": csrf, "days.review_days": "173"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    store = open_store(store_url)
    with store.session() as session:
        assert own_thresholds(get_workspace(session, "alpha")) == {"review_days": 173}
        assert own_thresholds(get_workspace(session, "beta")) == {"follow_up_days": 271}
    store.dispose()
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    beta_page = beta_client.get("/settings", headers=HTML).text
    assert "271" in beta_page and "173" not in beta_page


def test_the_pipeline_of_the_other_workspace(two: Two, store_url: str) -> None:
    client, csrf = two.client, two.csrf
    mine = _campaign(store_url, two.alpha, "alpha")
    theirs = _campaign(store_url, two.beta, "beta")
    cid, did, own = theirs["campaign"], theirs["deal"], mine["campaign"]
    for path in (
        f"/campaigns/{cid}/pipeline",
        f"/campaigns/{cid}/pipeline?view=list",
        f"/campaigns/{cid}/pipeline/deals/{did}",
        f"/campaigns/{own}/pipeline/deals/{did}",
        f"/campaigns/{cid}/deals/{did}",
        f"/campaigns/{own}/deals/{did}",
    ):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "beta" not in answer.text.lower()
    for path, data in (
        (f"/campaigns/{cid}/pipeline/move", {"deal_id": did, "stage": "paid"}),
        (f"/campaigns/{own}/pipeline/move", {"deal_id": did, "stage": "paid"}),
        (f"/campaigns/{own}/pipeline/move", {"deal_id": [mine["deal"], did], "stage": "paid"}),
        ("/creators/add-to-campaign", {"campaign_id": cid, "creator_id": two.alpha.creator_ids[1]}),
        ("/creators/add-to-campaign", {"campaign_id": own, "creator_id": two.beta.creator_ids[1]}),
        ("/creators/add-to-campaign", {"campaign_id": cid, "scope": "matching"}),
    ):
        answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404, (path, data)
        assert "beta" not in answer.text.lower()
    # Every creator "matching" a filter that names beta's: none of them, so nothing is added.
    answer = client.post(
        "/creators/add-to-campaign",
        data={"campaign_id": own, "scope": "matching", "q": "beta", "csrf_token": csrf},
        headers=HTML,
    )
    assert answer.status_code == 422 and "beta_" not in answer.text
    # A sweep over ids: the pipeline pages that answer are exactly the own workspace's.
    top = max(cid, own) + 3
    found = [i for i in range(1, top) if client.get(f"/campaigns/{i}/pipeline").status_code == 200]
    assert found == [own]
    # Beta's pipeline is untouched: one prospect, nothing in its history but nothing from alpha.
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    page = beta_client.get(f"/campaigns/{cid}/pipeline", headers=HTML).text
    assert "beta Ana" in page and "alpha" not in page
    assert 'data-stage="prospect"' in page and "Moved" not in page
    deal = beta_client.get(f"/campaigns/{cid}/deals/{did}", headers=HTML).text
    assert "Nothing has happened yet" in deal or "added as" in deal
    assert "alpha" not in deal and "a@a.io" not in deal
    # Alpha's own moves work and show alpha's user.
    moved = client.post(
        f"/campaigns/{own}/pipeline/move",
        data={"deal_id": mine["deal"], "stage": "contacted", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    history = client.get(f"/campaigns/{own}/deals/{mine['deal']}", headers=HTML).text
    assert "a@a.io" in history


def test_home_and_tasks_pages_show_and_change_only_the_own_workspace(
    two: Two, store_url: str
) -> None:
    """The home dashboard and /tasks list only the own workspace's reminders and tasks; the
    other workspace's tasks cannot be completed, reopened or deleted, nor a task put on its
    deals."""
    from microfluence.relationships.stages import move_deals
    from microfluence.relationships.task_schemas import TaskCreate
    from microfluence.relationships.tasks import create_task, get_task

    client, csrf = two.client, two.csrf
    mine = _campaign(store_url, two.alpha, "alpha")
    theirs = _campaign(store_url, two.beta, "beta")
    store = open_store(store_url)
    with store.transaction() as session:
        for tenant, ids, who in ((two.alpha, mine, "alpha"), (two.beta, theirs, "beta")):
            move_deals(session, tenant.workspace_id, [ids["deal"]], "contacted", actor=who)
            create_task(
                session,
                tenant.workspace_id,
                TaskCreate(title=f"{who} secret task", due_on="2020-01-01", deal_id=ids["deal"]),
                actor=who,
            )
        beta_task = create_task(
            session, two.beta.workspace_id, TaskCreate(title="beta other task"), actor="b"
        ).id
    home = client.get("/", headers=HTML)
    assert home.status_code == 200 and "Needs attention" in home.text
    assert "alpha secret task" in home.text and "beta" not in home.text.lower()
    theirs_filtered = client.get(f"/?campaign_id={theirs['campaign']}", headers=HTML)
    assert theirs_filtered.status_code == 404 and "beta secret" not in theirs_filtered.text
    for query in ("", "?status=all", f"?campaign_id={theirs['campaign']}", "?kind=other"):
        page = client.get("/tasks" + query, headers=HTML)
        assert page.status_code == 200 and "beta" not in page.text.lower(), query
    for action in ("done", "reopen", "delete"):
        answer = client.post(f"/tasks/{beta_task}/{action}", data={"csrf_token": csrf})
        assert answer.status_code == 404 and "beta" not in answer.text.lower(), action
    put_on_theirs = client.post(
        "/tasks", data={"csrf_token": csrf, "title": "x", "deal_id": str(theirs["deal"])}
    )
    assert put_on_theirs.status_code == 422 and "beta" not in put_on_theirs.text.lower()
    with store.session() as session:
        assert get_task(session, two.beta.workspace_id, beta_task).status == "open"
    store.dispose()


def test_outreach_pages_of_the_other_workspace(two: Two, store_url: str) -> None:
    """Beta's templates, sequences, outbox and SMTP settings: alpha's owner sees none of them
    and changes none; an unsubscribe link reaches its own workspace's creator only."""
    from microfluence.kernel.store.tables import Workspace
    from microfluence.outreach.composing import compose
    from microfluence.outreach.sending import store_drafts
    from microfluence.outreach.sequences import create_sequence, enroll
    from microfluence.outreach.settings import set_smtp
    from microfluence.outreach.template_records import add_template
    from microfluence.outreach.unsubscribe import links_for, make_token
    from microfluence.relationships.contact import relation_of
    from outreach_support import make_outreach

    store = open_store(store_url)
    beta = make_outreach(store, "beta", prefix="betasecret")
    alpha = make_outreach(store, "alpha", prefix="alphaown")
    links = links_for(store)
    with store.transaction() as session:
        template = add_template(
            session, beta.workspace_id, name="beta-intro", subject="Beta secret", body="{{ name }}"
        )
        sequence = create_sequence(session, beta.workspace_id, "beta-follow", ["beta-intro:1"])
        enroll(session, beta.workspace_id, sequence.id, [beta.deals["Ana"]])
        drafts = compose(session, beta.workspace_id, template, [beta.deals["Ana"]], links)
        store_drafts(session, beta.workspace_id, template, drafts, actor="b@b.io")
        set_smtp(
            session,
            session.get_one(Workspace, beta.workspace_id),
            {"host": "beta-smtp.example.com", "from_address": "b@b.example", "password": "pw"},
        )
        tid, sid = template.id, sequence.id
        own = add_template(
            session, alpha.workspace_id, name="alpha-intro", subject="Hi", body="{{ name }}"
        ).id
    client, csrf = two.client, two.csrf
    # The send form: beta's template, or beta's campaign or deal with alpha's template.
    for path in (
        f"/templates/{tid}/send",
        f"/templates/{tid}/send?campaign_id={alpha.campaign_id}",
        f"/templates/{own}/send?campaign_id={beta.campaign_id}",
    ):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "Beta secret" not in answer.text and "betasecret" not in answer.text
    for template_id, data in (
        (tid, {"campaign_id": alpha.campaign_id, "action": "send"}),
        (own, {"campaign_id": beta.campaign_id, "action": "send"}),
        (
            own,
            {
                "campaign_id": alpha.campaign_id,
                "choose": "ticked",
                "deal_ids": beta.deals["Ana"],
                "action": "send",
            },
        ),
    ):
        answer = client.post(
            f"/templates/{template_id}/send", data={**data, "csrf_token": csrf}, headers=HTML
        )
        assert answer.status_code == 404, (template_id, data)
        assert "betasecret" not in answer.text
    with store.session() as session:
        from sqlalchemy import func, select

        from microfluence.outreach.tables import OutboxMessage

        per_workspace = dict(
            session.execute(
                select(OutboxMessage.workspace_id, func.count()).group_by(
                    OutboxMessage.workspace_id
                )
            ).all()
        )
        assert per_workspace == {beta.workspace_id: 1}  # nothing sent or queued by the form
    for path in (f"/templates/{tid}", f"/sequences/{sid}", f"/templates/{tid}?deal_id=1"):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "Beta secret" not in answer.text and "beta-follow" not in answer.text
    for path, data in (
        (f"/templates/{tid}", {"name": "x", "subject": "pwned", "body": "pwned"}),
        (f"/templates/{tid}/delete", {}),
        (f"/sequences/{sid}/enroll", {"campaign_id": alpha.campaign_id}),
        (f"/sequences/{sid}/delete", {}),
        ("/outbox/replied", {"deal_id": beta.deals["Ana"]}),
        ("/templates-preview", {"deal_id": beta.deals["Ana"], "subject": "s", "body": "b"}),
    ):
        answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404, path
    for path in ("/templates", "/sequences", "/outbox", "/outreach/settings"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200, path
        for secret in ("Beta secret", "beta-follow", "betasecret", "beta-smtp"):
            assert secret not in page.text, (path, secret)
    # Alpha's run sends nothing of beta's; beta's records are unchanged.
    assert client.post("/outbox/run", data={"csrf_token": csrf}).status_code == 200
    secret = links.secret
    crossed = make_token(secret, alpha.workspace_id, beta.creators["Bo"])
    assert "unsubscribed" in client.post(f"/u/{crossed}").text
    with store.session() as session:
        assert not relation_of(session, beta.workspace_id, beta.creators["Bo"]).do_not_contact
        assert session.get_one(Workspace, beta.workspace_id).settings["outreach"]["smtp"]
    store.dispose()


def test_relationship_pages_of_the_other_workspace_are_not_found(two: Two, store_url: str) -> None:
    from microfluence.relationships.audit import Actor
    from microfluence.relationships.records import update_record

    client, csrf = two.client, two.csrf
    theirs = two.beta.creator_ids[0]
    store = open_store(store_url)
    with store.transaction() as session:
        who = Actor("user", "b@b.io", "page")
        update_record(session, two.beta.workspace_id, theirs, {"phone": "+49 30 765432"}, who)
    base = f"/creators/{theirs}/relationship"
    answer = client.get(base, headers=HTML)
    assert answer.status_code == 404 and "765432" not in answer.text
    for path, data in (
        (base, {"phone": "+1 555 0100"}),
        (f"{base}/do-not-contact", {"reason": "x"}),
        (f"{base}/lift", {"reason": "x"}),
        (f"{base}/partner", {"early_access": "1"}),
        (f"{base}/erase", {"reason": "x"}),
    ):
        posted = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert posted.status_code == 404, path
    with store.transaction() as session:
        from microfluence.relationships.tables import ContactAudit, CreatorRelation

        relation = session.scalar(
            sa.select(CreatorRelation).where(CreatorRelation.creator_id == theirs)
        )
        assert relation.phone == "+49 30 765432" and not relation.do_not_contact
        assert relation.erased_at is None and not relation.partner
        # Nothing was logged for the failed attempts: only beta's own change.
        actions = session.scalars(
            sa.select(ContactAudit.action).where(ContactAudit.creator_id == theirs)
        ).all()
        assert actions == ["change"]
    store.dispose()
    own = client.get(f"/creators/{two.alpha.creator_ids[0]}/relationship", headers=HTML)
    assert own.status_code == 200 and "beta" not in own.text
    log = client.get("/contact-audit", headers=HTML)
    assert log.status_code == 200 and "b@b.io" not in log.text and f"#{theirs}<" not in log.text


def _gifting(store_url: str, tenant: Tenant, prefix: str) -> dict[str, object]:
    """A campaign of ``tenant`` with a product, a gift, a submission and a portal link."""
    from microfluence.campaigns.products import ProductCreate, add_product
    from microfluence.relationships import gifting, portal, submissions

    ids: dict[str, object] = dict(_campaign(store_url, tenant, prefix))
    store = open_store(store_url)
    with store.transaction() as session:
        ws, deal = tenant.workspace_id, int(ids["deal"])  # type: ignore[call-overload]
        ids["product"] = add_product(
            session, ws, ProductCreate(sku=f"{prefix}-sku", name=f"{prefix} secret kit", value=5)
        ).id
        ids["gift"] = gifting.add_gift(
            session, ws, deal, gifting.GiftCreate(sku=f"{prefix}-sku"), actor="x"
        ).id
        ids["submission"] = submissions.submit(
            session, ws, deal, submissions.SubmissionCreate(url=f"https://{prefix}.example/d")
        ).id
        made = portal.create_portal_link(session, ws, deal, created_by="x")
        ids["link"], ids["token"] = made.id, made.url.rsplit("/", 1)[1]
    store.dispose()
    return ids


def test_deals_gifts_products_and_the_portal_of_the_other_workspace(
    two: Two, store_url: str
) -> None:
    client, csrf = two.client, two.csrf
    mine = _gifting(store_url, two.alpha, "alpha")
    theirs = _gifting(store_url, two.beta, "beta")
    cid, did, own = theirs["campaign"], theirs["deal"], mine["campaign"]
    products = client.get("/products", headers=HTML).text
    assert "alpha secret kit" in products and "beta secret" not in products
    for base in (f"/campaigns/{cid}/deals/{did}", f"/campaigns/{own}/deals/{did}"):
        answer = client.get(base, headers=HTML)
        assert answer.status_code == 404 and "beta secret" not in answer.text
        for path, data in (
            (f"{base}/portal-links", {}),
            (f"{base}/portal-links/{theirs['link']}/revoke", {}),
            (f"{base}/gifts", {"name": "pwned", "value": "1"}),
            (f"{base}/gifts/{theirs['gift']}/status", {"status": "cancelled"}),
            (f"{base}/terms", {"flat_fee": "987654", "package": "reel=9", "notes": "pwned"}),
        ):
            answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
            assert answer.status_code == 404, path
    ours = f"/campaigns/{own}/deals/{mine['deal']}"
    for path, data in (
        (f"{ours}/gifts/{theirs['gift']}/status", {"status": "cancelled"}),
        (f"{ours}/portal-links/{theirs['link']}/revoke", {}),
        (f"/campaigns/{cid}/submissions/{theirs['submission']}/review", {"decision": "approved"}),
        (f"/campaigns/{own}/submissions/{theirs['submission']}/review", {"decision": "approved"}),
        (f"/products/{theirs['product']}/edit", {"name": "pwned", "value": "1"}),
        (f"/products/{theirs['product']}/remove", {}),
    ):
        answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404, path
    # A portal token opens its own deal, whoever is signed in, and nothing else of its workspace.
    page = client.get(f"/portal/{theirs['token']}").text
    assert "beta secret launch" in page and "alpha" not in page
    assert client.get(f"/campaigns/{cid}", headers=HTML).status_code == 404
    # Beta's things are untouched.
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    deal_page = beta_client.get(f"/campaigns/{cid}/deals/{did}", headers=HTML).text
    assert "beta secret kit" in deal_page and "gift-requested" in deal_page
    assert "link-active" in deal_page and "https://beta.example/d" in deal_page
    assert "987654" not in deal_page and "pwned" not in deal_page and "9 × reel" not in deal_page
    assert "beta secret kit" in beta_client.get("/products", headers=HTML).text


def test_niches_on_profiles_show_and_change_only_the_own_workspace(
    two: Two, store_url: str
) -> None:
    from microfluence.discovery.niches import get_niches, recompute_niches

    client = two.client
    store = open_store(store_url)
    with store.transaction() as session:
        recompute_niches(session, two.alpha.workspace_id)
        recompute_niches(session, two.beta.workspace_id)
    own = client.get(f"/creators/{two.alpha.creator_ids[0]}", headers=HTML)
    assert own.status_code == 200 and 'id="niches-' in own.text and "Save niches" in own.text
    theirs = two.beta.account_ids[0]
    changed = client.post(
        f"/accounts/{theirs}/niches",
        data={"csrf_token": two.csrf, "niches": ["pets"]},
        follow_redirects=False,
    )
    assert changed.status_code == 404
    mine = two.alpha.account_ids[0]
    fixed = client.post(
        f"/accounts/{mine}/niches",
        data={"csrf_token": two.csrf, "niches": ["pets", "travel"]},
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    assert fixed.headers["location"] == f"/creators/{two.alpha.creator_ids[0]}#niches-{mine}"
    shown = client.get(f"/creators/{two.alpha.creator_ids[0]}", headers=HTML)
    assert "pets 100%" in shown.text and "corrected by a@a.io" in shown.text
    with store.transaction() as session:
        assert get_niches(session, two.beta.workspace_id, theirs).corrected_by is None
        assert {n.niche for n in get_niches(session, two.alpha.workspace_id, mine).niches} == {
            "pets",
            "travel",
        }


def test_semantic_search_page_shows_only_own_vectors(two: Two, store_url: str) -> None:
    """By meaning and "more like this" on /search rank the own accounts only; the other
    workspace's account as a lookalike seed is not found."""
    from microfluence.discovery.vectors import recompute_vectors

    store = open_store(store_url)
    with store.transaction() as session:
        for tenant in (two.alpha, two.beta):
            recompute_vectors(session, tenant.workspace_id)
    client = two.client
    page = client.get("/search?q=lipstick+skincare&semantic=on", headers=HTML)
    assert page.status_code == 200, page.text
    assert "alpha_ana" in page.text and "beta_" not in page.text.lower()
    assert "similarity" in page.text and 'href="/search?like=instagram%3Aalpha_ana"' in page.text
    like = client.get("/search?like=instagram%3Aalpha_ana", headers=HTML)
    assert like.status_code == 200 and "beta_" not in like.text.lower()
    assert "alpha_bo" in like.text
    theirs = client.get("/search?like=instagram%3Abeta_ana", headers=HTML)
    assert theirs.status_code == 404 and "beta_ana_tt" not in theirs.text


def test_search_and_shortlist_pages_of_the_other_workspace(two: Two, store_url: str) -> None:
    """/search finds and counts only the own accounts (facets too); the other workspace's
    shortlists cannot be seen, exported, added to, changed, sent to a campaign or deleted, and
    its accounts cannot be put on an own shortlist."""
    from microfluence.discovery.shortlists import add_entries, create_shortlist, get_shortlist

    client, csrf = two.client, two.csrf
    store = open_store(store_url)
    with store.transaction() as session:
        theirs = create_shortlist(session, two.beta.workspace_id, "beta secret list").id
        add_entries(
            session,
            two.beta.workspace_id,
            theirs,
            account_ids=two.beta.account_ids[:1],
            note="beta note",
        )
        mine = create_shortlist(session, two.alpha.workspace_id, "alpha list").id
    for query in ("", "?q=beta", "?q=lipstick", "?country=fr", "?q=secret&platform=instagram"):
        page = client.get("/search" + query, headers=HTML)
        text = page.text.lower()  # the query itself is shown back: look for beta's records
        assert page.status_code == 200, query
        assert "beta_" not in text and "beta ana" not in text and "beta secret" not in text, query
    assert "alpha_ana" in client.get("/search?q=lipstick", headers=HTML).text
    listing = client.get("/shortlists", headers=HTML)
    assert "alpha list" in listing.text and "beta" not in listing.text.lower()
    for path in (f"/shortlists/{theirs}", f"/shortlists/{theirs}/export.csv"):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 404 and "beta" not in answer.text.lower(), path
    cid = two.beta.creator_ids[0]
    for path, data in (
        ("/search/add", {"shortlist_id": str(theirs), "account_id": str(two.alpha.account_ids[0])}),
        ("/search/add", {"shortlist_id": str(mine), "account_id": str(two.beta.account_ids[1])}),
        (f"/shortlists/{theirs}/note/{cid}", {"note": "x"}),
        (f"/shortlists/{theirs}/remove/{cid}", {}),
        (f"/shortlists/{theirs}/to-campaign", {"campaign_id": "1"}),
        (f"/shortlists/{theirs}/delete", {}),
    ):
        answer = client.post(path, data={"csrf_token": csrf, **data})
        assert answer.status_code == 404 and "beta" not in answer.text.lower(), path
    with store.session() as session:
        detail = get_shortlist(session, two.beta.workspace_id, theirs)
        assert [(e.creator_id, e.note) for e in detail.items] == [(cid, "beta note")]
        assert get_shortlist(session, two.alpha.workspace_id, mine).items == []
    store.dispose()


def test_the_test_and_learn_page_stays_in_its_workspace(two: Two, store_url: str) -> None:
    client = two.client  # alpha's owner
    mine = _campaign(store_url, two.alpha, "alpha")["campaign"]
    theirs = _campaign(store_url, two.beta, "beta")["campaign"]
    own = client.get(f"/campaigns/{mine}/learn", headers=HTML)
    assert own.status_code == 200 and 'id="split-table"' in own.text
    assert "beta" not in own.text.lower()
    for query in ("", "?budget=100"):
        answer = client.get(f"/campaigns/{theirs}/learn{query}", headers=HTML)
        assert answer.status_code == 404 and "beta" not in answer.text.lower()
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    assert beta_client.get(f"/campaigns/{theirs}/learn", headers=HTML).status_code == 200


def _authorisation(store_url: str, tenant: Tenant, creator_index: int = 0) -> int:
    """An Instagram authorisation of one of ``tenant``'s creators, read once, its app set."""
    from microfluence.connectors.oauth import apps
    from microfluence.connectors.oauth.tables import AccountInsight, CreatorAuthorisation
    from microfluence.kernel import vault
    from microfluence.kernel.store.tables import utcnow

    store = open_store(store_url)
    with store.transaction() as db:
        if not apps.list_apps(db, tenant.workspace_id):
            apps.set_app(
                db, tenant.workspace_id, "instagram", client_id="app", client_secret="s" * 20
            )
        auth = CreatorAuthorisation(
            workspace_id=tenant.workspace_id,
            creator_id=tenant.creator_ids[creator_index],
            account_id=tenant.account_ids[0] if creator_index == 0 else None,
            platform="instagram",
            external_id=f"ig-{tenant.name}-{creator_index}",
            handle=f"{tenant.name}_secret_ig_{creator_index}",
            access_token_sealed=vault.seal("t"),
            status="active",
            fetched_at=utcnow(),
        )
        db.add(auth)
        db.flush()
        if creator_index == 0:
            db.add(
                AccountInsight(
                    workspace_id=tenant.workspace_id, authorisation_id=auth.id,
                    account_id=tenant.account_ids[0], platform="instagram", metric="reach",
                    period="day", end_time=utcnow(), item_id="", value=4242,
                )
            )  # fmt: skip
        auth_id = auth.id
    store.dispose()
    return auth_id


def test_authorisations_and_the_portal_connect_of_the_other_workspace(
    two: Two, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROFLUENCE_OAUTH_API_BASE", "http://127.0.0.1:9")  # no platform here
    client, csrf = two.client, two.csrf
    mine, theirs = _authorisation(store_url, two.alpha), _authorisation(store_url, two.beta)
    page = client.get("/authorisations", headers=HTML)
    assert page.status_code == 200 and "alpha_secret_ig_0" in page.text
    assert "beta_secret_ig" not in page.text
    for path in (f"/authorisations/{theirs}/fetch", f"/authorisations/{theirs}/revoke"):
        assert client.post(path, data={"csrf_token": csrf}, headers=HTML).status_code == 404, path
    link = {"creator_id": str(two.beta.creator_ids[0]), "platform": "instagram", "csrf_token": csrf}
    assert client.post("/authorisations/links", data=link, headers=HTML).status_code == 404
    link["creator_id"] = str(two.alpha.creator_ids[0])
    made = client.post("/authorisations/links", data=link, headers=HTML)
    assert made.status_code == 200 and "/connect/" in made.text
    saved = client.post(
        "/authorisations/apps",
        data={
            "platform": "tiktok",
            "client_id": "k",
            "client_secret": "z" * 20,
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    # The badge: on the own profile, with its first-party number; never on the other's.
    profile = client.get(f"/creators/{two.alpha.creator_ids[0]}", headers=HTML).text
    assert "verified by the creator&#39;s authorisation" in profile and "4,242" in profile
    assert client.get(f"/creators/{two.beta.creator_ids[0]}", headers=HTML).status_code == 404
    # Through alpha's portal, beta's authorisation (and another alpha creator's) stays out of reach.
    portal = _gifting(store_url, two.alpha, "alpha")
    token = portal["token"]
    shown = client.get(f"/portal/{token}").text
    assert 'id="connect"' in shown and "alpha_secret_ig_0" in shown and "beta" not in shown
    form_token = re.search(r'name="form_token" value="([^"]+)"', shown).group(1)  # type: ignore[union-attr]
    other = _authorisation(store_url, two.alpha, creator_index=1)
    for auth_id in (theirs, other):
        answer = client.post(
            f"/portal/{token}/disconnect/{auth_id}", data={"form_token": form_token}
        )
        assert answer.status_code == 422 and "no authorisation" in answer.text
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    beta_page = beta_client.get("/authorisations", headers=HTML).text
    assert "beta_secret_ig_0" in beta_page and "revoked" not in beta_page
    assert "<b>TikTok</b>" not in beta_page  # alpha's new app is alpha's alone
    assert "<b>TikTok</b>" in client.get("/authorisations", headers=HTML).text
    disconnected = client.post(
        f"/portal/{token}/disconnect/{mine}",
        data={"form_token": form_token},
        follow_redirects=False,
    )
    assert disconnected.status_code == 303
    assert "revoked" in client.get("/authorisations", headers=HTML).text


def test_connections_of_the_other_workspace(two: Two, monkeypatch) -> None:
    from connectors_support import API_KEY, platform_server, point_at, sample_platforms
    from microfluence.connectors import credentials
    from microfluence.connectors.refresh import refresh_workspace
    from microfluence.connectors.tables import ConnectorCredential

    client, csrf = two.client, two.csrf  # alpha's owner
    store = client.app.state.store
    with platform_server(sample_platforms()) as base:
        point_at(monkeypatch, base)
        with store.transaction() as session:
            credentials.set_credential(session, two.beta.workspace_id, "youtube", API_KEY)
        from microfluence.connectors.fetching import fetch_accounts

        fetch_accounts(store, "beta", "youtube", ["@bakerann"], rescore=False)
        beta_run = refresh_workspace(store, "beta", rescore=False).run_id
        page = client.get("/connections", headers=HTML)
        assert page.status_code == 200
        assert "AIza" not in page.text and "not connected" in page.text
        assert client.get(f"/connections/runs/{beta_run}", headers=HTML).status_code == 404
        removed = client.post(
            "/connections/youtube/remove", data={"csrf_token": csrf}, headers=HTML
        )
        assert removed.status_code == 404  # alpha has none; beta's stays
        # Alpha's fetch uses no credentials of beta's.
        fetched = client.post(
            "/connections/fetch",
            data={"platform": "youtube", "handles": "@bakerann", "csrf_token": csrf},
            headers=HTML,
        )
        assert fetched.status_code == 422 and "no youtube credentials" in fetched.text
        saved = client.post(
            "/connections/credentials",
            data={"platform": "youtube", "secret": API_KEY, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        mine = client.get("/connections", headers=HTML).text
        assert "AIza…ijkl" in mine and API_KEY not in mine and "No refresh yet" in mine
    with store.session() as session:
        owners = session.scalars(sa.select(ConnectorCredential.workspace_id)).all()
    assert sorted(owners) == sorted([two.alpha.workspace_id, two.beta.workspace_id])
    beta_client = TestClient(client.app)
    sign_in(beta_client, "b@b.io")
    assert f"/connections/runs/{beta_run}" in beta_client.get("/connections", headers=HTML).text
    assert beta_client.get(f"/connections/runs/{beta_run}", headers=HTML).status_code == 200


def test_the_planner_plans_and_makes_deals_only_in_the_own_workspace(
    two: Two, store_url: str
) -> None:
    """/planner chooses among the own accounts only, cannot plan from the other workspace's
    shortlist, and its deals cannot name the other's accounts or campaigns."""
    from microfluence.campaigns.campaigns import create_campaign
    from microfluence.campaigns.schemas import CampaignCreate
    from microfluence.discovery.shortlists import create_shortlist

    client, csrf = two.client, two.csrf
    store = open_store(store_url)
    with store.transaction() as session:
        create_shortlist(session, two.beta.workspace_id, "beta picks")
        theirs = create_campaign(session, two.beta.workspace_id, CampaignCreate(name="Beta c")).id
    page = client.get("/planner?budget=1000000000&objective=reach", headers=HTML)
    assert page.status_code == 200, page.text
    assert "alpha_" in page.text and "beta_" not in page.text.lower()
    assert 'id="chosen-table"' in page.text
    missing = client.get("/planner?budget=1000&shortlist=beta+picks", headers=HTML)
    assert "no shortlist named" in missing.text and 'id="chosen-table"' not in missing.text
    for data in (
        {"account": "instagram:beta_ana", "campaign_name": "Mine"},
        {"account": "instagram:alpha_ana", "campaign_id": str(theirs)},
    ):
        answer = client.post(
            "/planner/deals",
            data={"csrf_token": csrf, "format": "feed_post", "fee": "10", **data},
            follow_redirects=False,
        )
        assert answer.status_code in (404, 422), answer.text
        assert "beta c" not in answer.text.lower()
    made = client.post(
        "/planner/deals",
        data={
            "csrf_token": csrf,
            "account": "instagram:alpha_ana",
            "format": "feed_post",
            "fee": "10",
            "campaign_name": "From the planner",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    with store.session() as session:
        from microfluence.campaigns.tables import Campaign, Deal

        names = session.scalars(
            sa.select(Campaign.name).where(Campaign.workspace_id == two.alpha.workspace_id)
        ).all()
        assert names == ["From the planner"]
        beta_deals = session.scalar(
            sa.select(sa.func.count()).where(Deal.workspace_id == two.beta.workspace_id)
        )
        assert beta_deals == 0
    store.dispose()
