"""Issue 9's reproductions, against a real uvicorn server on 127.0.0.1 (SQLite and PostgreSQL):
membership needs consent and inviting does not tell who has an account; 25 concurrent wrong
passwords get 5 checks; passwords can be changed; accounts disabled and deleted with their
sessions and keys; a key loses what its maker loses; follower samples and creator records."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from api_support import (
    PASSWORD,
    Tenant,
    make_tenant,
    make_user,
    serve,
)
from microfluence.access import sessions, throttle
from microfluence.kernel.store.tables import Follower
from microfluence.web.app import create_app
from pages_support import HTML, csrf_of

WHEN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
NEW_SECTION = re.compile(r'<section class="card new-key" role="status">(.*?)</section>', re.S)


@dataclass
class Site:
    base: str
    acme: Tenant
    beta: Tenant

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60, headers=HTML)

    def api(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.acme.keys['owner']}"}
        return httpx.Client(base_url=self.base + "/api/v1", timeout=60, headers=headers)


@pytest.fixture
def site(store, store_url) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    acme = make_tenant(store, "acme")
    beta = make_tenant(store, "beta")
    make_user(store, "owner@acme.test", "acme", "owner")
    make_user(store, "bob@beta.test", "beta", "owner")  # has an account, not in acme
    with serve(create_app(store_url)) as base:
        yield Site(base=base, acme=acme, beta=beta)


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; the CSRF token of the signed-in session."""
    form = client.get("/sign-in")
    answer = client.post(
        "/auth/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 303 and "error" not in answer.headers["location"], answer.headers
    return csrf_of(client.get("/account").text)


def member_roles(site: Site) -> dict[str, tuple[str, bool]]:
    with site.api() as api:
        data = api.get("/workspace/members").json()["data"]
    return {m["email"]: (m["role"], m["active"]) for m in data}


def test_membership_needs_consent_and_inviting_tells_nothing(site: Site) -> None:
    # Adding someone unasked is gone; inviting answers alike for known and unknown addresses.
    owner = site.browser()
    csrf = sign_in(owner, "owner@acme.test")
    unasked = owner.post(
        "/settings/members",
        data={"email": "bob@beta.test", "role": "owner", "csrf_token": csrf},
    )
    assert unasked.status_code in (404, 405)
    sections = {}
    for email in ("bob@beta.test", "ghost@nowhere.test"):
        page = owner.post(
            "/settings/invitations", data={"email": email, "role": "owner", "csrf_token": csrf}
        )
        assert page.status_code == 200
        section = NEW_SECTION.search(page.text).group(1)
        link = re.search(r'id="new-invitation">([^<]+)<', section).group(1)
        # The expiry is "now + N days" to the minute: two invitations may straddle a minute.
        masked = WHEN.sub("WHEN", section.replace(email, "EMAIL").replace(link, "LINK"))
        sections[email] = (masked, link)
    assert sections["bob@beta.test"][0] == sections["ghost@nowhere.test"][0]
    with site.api() as api:
        answers = [
            api.post("/workspace/invitations", json={"email": e, "role": "member"})
            for e in ("bob@beta.test", "ghost@nowhere.test", "BOB@beta.test ")
        ]
    assert [a.status_code for a in answers] == [202, 202, 202]
    shapes = [
        {k: (v if k in ("status", "role") else type(v).__name__) for k, v in a.json().items()}
        for a in answers
    ]
    assert shapes[0] == shapes[1] == shapes[2]
    assert answers[0].json()["status"] == "invitation created"
    assert "bob@beta.test" not in member_roles(site)

    # Bob, signed in, accepts the (latest) invitation by its link; he becomes a member.
    bob = site.browser()
    sign_in(bob, "bob@beta.test")
    bob_link = answers[2].json()["link"]
    assert bob_link.startswith(site.base + "/invitations/mfi_")
    offer = bob.get(bob_link)
    assert offer.status_code == 200 and "acme" in offer.text and 'name="password"' not in offer.text
    old = sections["bob@beta.test"][1]
    assert "revoked" in bob.get(old).text  # replaced by the later invitation
    accepted = bob.post(bob_link + "/accept", data={"csrf_token": csrf_of(offer.text)})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/creators"
    assert member_roles(site)["bob@beta.test"] == ("member", True)
    assert "acme" in bob.get("/workspaces").text
    # Someone else's session cannot accept an invitation that is not theirs.
    ghost_link = answers[1].json()["link"]
    refused = bob.post(
        ghost_link + "/accept", data={"csrf_token": csrf_of(bob.get(ghost_link).text)}
    )
    assert refused.status_code == 403 and "ghost@nowhere.test" not in member_roles(site)

    # The unknown address accepts by choosing a password: an account, signed in, a member.
    ghost = site.browser()
    offer = ghost.get(ghost_link)
    assert 'name="password"' in offer.text and "No account yet?" in offer.text
    token = csrf_of(offer.text)
    differ = ghost.post(
        ghost_link + "/accept",
        data={"password": "ghost's password", "password_confirm": "other", "csrf_token": token},
    )
    assert differ.status_code == 422 and "differ" in differ.text
    joined = ghost.post(
        ghost_link + "/accept",
        data={
            "password": "ghost's password",
            "password_confirm": "ghost's password",
            "csrf_token": token,
        },
    )
    assert joined.status_code == 303
    assert "ghost@nowhere.test" in ghost.get("/account").text
    assert member_roles(site)["ghost@nowhere.test"] == ("member", True)
    used = site.browser().get(ghost_link)
    assert used.status_code == 200 and "accepted already" in used.text
    # The owner lists and revokes what is pending.
    with site.api() as api:
        assert api.get("/workspace/invitations").json()["count"] == 0  # all accepted or replaced
        api.post("/workspace/invitations", json={"email": "later@p.test", "role": "viewer"})
        pending = api.get("/workspace/invitations").json()["data"]
        assert [(i["email"], i["invited_by"]) for i in pending] == [("later@p.test", None)]
        revoked = api.delete(f"/workspace/invitations/{pending[0]['id']}")
        assert revoked.json()["status"] == "revoked"
        assert api.get("/workspace/invitations").json()["count"] == 0
    for client in (owner, bob, ghost):
        client.close()


def test_25_concurrent_wrong_passwords_get_5_checks(site: Site, monkeypatch) -> None:
    checks = []
    lock = threading.Lock()
    real = sessions.verify_password

    def counting(password_hash, password):  # type: ignore[no-untyped-def]
        with lock:
            checks.append(1)
        threading.Event().wait(0.05)  # argon2's real cost, which the tests' cheap hashing lacks
        return real(password_hash, password)

    monkeypatch.setattr(sessions, "verify_password", counting)
    guesses = 25
    clients = [site.browser() for _ in range(guesses)]
    tokens = [csrf_of(c.get("/sign-in").text) for c in clients]
    start = threading.Barrier(guesses, timeout=60)

    def guess(n: int) -> httpx.Response:
        start.wait()
        return clients[n].post(
            "/auth/sign-in",
            data={
                "email": "owner@acme.test",
                "password": f"guess {n:04d}",
                "csrf_token": tokens[n],
            },
        )

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        answers = list(pool.map(guess, range(guesses)))
    for client in clients:
        client.close()
    assert [a.status_code for a in answers] == [303] * guesses
    errors = [re.search(r"error=(\w+)", a.headers["location"]).group(1) for a in answers]
    assert len(checks) == throttle.MAX_FAILURES
    assert errors.count("invalid") == throttle.MAX_FAILURES
    assert errors.count("rate_limited") == guesses - throttle.MAX_FAILURES


def test_changing_ones_password(site: Site) -> None:
    here, there = site.browser(), site.browser()
    csrf = sign_in(here, "bob@beta.test")
    sign_in(there, "bob@beta.test")
    form = {"new_password": "bob's new secret", "new_password_confirm": "bob's new secret"}
    wrong = here.post(
        "/account/password", data={**form, "current_password": "nope nope", "csrf_token": csrf}
    )
    assert wrong.status_code == 403 and "current password is not right" in wrong.text
    changed = here.post(
        "/account/password", data={**form, "current_password": PASSWORD, "csrf_token": csrf}
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/account?changed=1"
    assert "Your password was changed" in here.get("/account?changed=1").text
    gone = there.get("/account")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/sign-in")
    # Over the API: the current password is the proof.
    with httpx.Client(base_url=site.base + "/api/v1", timeout=60) as api:
        body = {"email": "bob@beta.test", "current_password": PASSWORD, "new_password": "x" * 12}
        assert api.post("/account/password", json=body).status_code == 401
        body["current_password"] = "bob's new secret"
        assert api.post("/account/password", json=body).status_code == 204
    gone = here.get("/account")
    assert gone.status_code == 303  # every session ends on an API change
    sign_in(site.browser(), "bob@beta.test", "x" * 12)
    here.close()
    there.close()


def test_disabled_and_deleted_accounts_lose_sessions_and_keys(site: Site) -> None:
    # Dee, a second owner, signs in and makes a key on the settings page.
    with site.api() as api:
        link = api.post(
            "/workspace/invitations", json={"email": "dee@acme.test", "role": "owner"}
        ).json()["link"]
    dee = site.browser()
    offer = dee.get(link)
    dee.post(
        link + "/accept",
        data={
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf_of(offer.text),
        },
    )
    csrf = csrf_of(dee.get("/settings").text)
    made = dee.post("/settings/api-keys", data={"name": "dee", "role": "owner", "csrf_token": csrf})
    key = re.search(r'id="new-api-key">(mfk_[^<]+)<', made.text).group(1)
    with site.api(key) as api:
        assert api.get("/workspace").json()["role"] == "owner"
        dee_id = next(
            m["id"]
            for m in api.get("/workspace/members").json()["data"]
            if m["email"] == "dee@acme.test"
        )
    with site.api() as api:
        closed = api.post(f"/workspace/members/{dee_id}/disable").json()
        assert closed == {
            "email": "dee@acme.test",
            "sessions_ended": 1,
            "keys_revoked": 1,
            "invitations_revoked": 0,
        }
        owner_id = next(
            m["id"]
            for m in api.get("/workspace/members").json()["data"]
            if m["email"] == "owner@acme.test"
        )
        last = api.post(f"/workspace/members/{owner_id}/disable")
        assert last.status_code == 409 and "last active owner" in last.json()["message"]
    assert dee.get("/settings").status_code == 303  # signed out
    with site.api(key) as api:
        assert api.get("/workspace").status_code == 401
    browser = site.browser()
    refused = browser.post(
        "/auth/sign-in",
        data={
            "email": "dee@acme.test",
            "password": PASSWORD,
            "csrf_token": csrf_of(browser.get("/sign-in").text),
        },
    )
    assert "error=invalid" in refused.headers["location"]
    assert member_roles(site)["dee@acme.test"] == ("owner", False)
    with site.api() as api:
        assert api.post(f"/workspace/members/{dee_id}/enable").json()["active"] is True
    sign_in(site.browser(), "dee@acme.test")
    with site.api(key) as api:
        assert api.get("/workspace").status_code == 401  # stays revoked
    with site.api() as api:
        deleted = api.delete(f"/workspace/members/{dee_id}/account")
        assert deleted.status_code == 200 and deleted.json()["email"] == "dee@acme.test"
        assert api.delete(f"/workspace/members/{dee_id}/account").status_code == 404
    assert "dee@acme.test" not in member_roles(site)
    failed = browser.post(
        "/auth/sign-in",
        data={
            "email": "dee@acme.test",
            "password": PASSWORD,
            "csrf_token": csrf_of(browser.get("/sign-in").text),
        },
    )
    assert "error=invalid" in failed.headers["location"]
    dee.close()


def test_a_key_does_no_more_than_its_maker_may_now(site: Site) -> None:
    with site.api() as api:
        link = api.post(
            "/workspace/invitations", json={"email": "eve@acme.test", "role": "owner"}
        ).json()["link"]
    eve = site.browser()
    eve.post(
        link + "/accept",
        data={
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf_of(eve.get(link).text),
        },
    )
    csrf = csrf_of(eve.get("/settings").text)
    made = eve.post(
        "/settings/api-keys", data={"name": "eve's", "role": "owner", "csrf_token": csrf}
    )
    key = re.search(r'id="new-api-key">(mfk_[^<]+)<', made.text).group(1)
    with site.api(key) as api:
        child = api.post("/workspace/api-keys", json={"name": "eve's child", "role": "member"})
        assert child.status_code == 201 and child.json()["created_by"] == "eve@acme.test"
        assert child.json()["made_with_key"] == key[:12]
        eve_id = next(
            m["id"]
            for m in api.get("/workspace/members").json()["data"]
            if m["email"] == "eve@acme.test"
        )
    with site.api() as api:  # another owner demotes Eve
        assert api.patch(f"/workspace/members/{eve_id}", json={"role": "viewer"}).status_code == 200
        keys = {k["name"]: k for k in api.get("/workspace/api-keys").json()["data"]}
    assert (keys["eve's"]["role"], keys["eve's"]["effective_role"]) == ("owner", "viewer")
    assert keys["eve's"]["created_by"] == "eve@acme.test" and not keys["eve's"]["by_operator"]
    assert keys["owner"]["by_operator"] and keys["owner"]["effective_role"] == "owner"
    with site.api(key) as api:
        assert api.get("/workspace").json()["role"] == "viewer"
        assert api.get("/creators").status_code == 200
        denied = api.post("/creators", json={"name": "x"})
        assert denied.status_code == 403
        assert api.get("/workspace/api-keys").status_code == 403
    with site.api(child.json()["key"]) as api:
        assert api.get("/workspace").json()["role"] == "viewer"
    with site.api() as api:
        assert api.delete(f"/workspace/members/{eve_id}").status_code == 204
    for secret in (key, child.json()["key"]):
        with site.api(secret) as api:
            assert api.get("/workspace").status_code == 401
    eve.close()


def test_follower_samples_and_a_creators_record_over_http(site: Site, store) -> None:  # type: ignore[no-untyped-def]
    account_id = site.acme.account_ids[0]
    with store.transaction() as session:
        session.add_all(
            Follower(
                workspace_id=site.acme.workspace_id,
                account_id=account_id,
                username=f"fan{n}",
                full_name=f"Fan {n}",
                followers=n,
            )
            for n in range(4)
        )
        # acme_ana (the creator's own handle) also follows another account of the workspace.
        session.add(
            Follower(
                workspace_id=site.acme.workspace_id,
                account_id=site.acme.account_ids[2],
                username="acme_ana",
            )
        )
    with site.api() as api:
        listed = api.get("/follower-samples").json()
        counts = {s["account_id"]: s["followers"] for s in listed["data"]}
        assert counts == {account_id: 4, site.acme.account_ids[2]: 1}
        csv = api.get(f"/accounts/{account_id}/followers", params={"format": "csv"})
        assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
        assert csv.text.splitlines()[0].startswith("id,") and len(csv.text.splitlines()) == 5
        as_json = api.get(f"/accounts/{account_id}/followers", params={"format": "json"}).json()
        assert sorted(r["username"] for r in as_json) == ["fan0", "fan1", "fan2", "fan3"]
        record = api.get(f"/creators/{site.acme.creator_ids[0]}/record")
        assert record.status_code == 200 and "attachment" in record.headers["content-disposition"]
        document = record.json()
        assert document["creator"]["id"] == site.acme.creator_ids[0]
        handles = [a["handle"] for a in document["accounts"]]
        assert handles == ["acme_ana", "acme_ana_tt"]
        ana = document["accounts"][0]
        assert len(ana["snapshots"]) == 2 and len(ana["posts"]) == 2
        assert len(ana["follower_sample"]) == 4
        assert [s["of_account"] for s in document["appears_in"]["follower_samples"]] == ["acme_bo"]
        deleted = api.delete(f"/accounts/{account_id}/followers").json()
        assert deleted == {"account_id": account_id, "deleted": 4}
        assert api.get("/follower-samples").json()["count"] == 1
        assert api.get(f"/accounts/{account_id}").status_code == 200  # the account stays
    with site.api(site.acme.keys["member"]) as api:
        assert api.get("/follower-samples").status_code == 403
        assert api.delete(f"/accounts/{site.acme.account_ids[2]}/followers").status_code == 403
    # The settings page lists the rest, with its downloads and delete button.
    owner = site.browser()
    csrf = sign_in(owner, "owner@acme.test")
    page = owner.get("/settings").text
    other = site.acme.account_ids[2]
    assert f"/settings/follower-samples/{other}/export?format=csv" in page
    download = owner.get(f"/settings/follower-samples/{other}/export?format=csv")
    assert download.status_code == 200 and "acme_ana" in download.text
    gone = owner.post(f"/settings/follower-samples/{other}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 303
    assert "No follower sample is stored" in owner.get("/settings").text
    profile = owner.get(f"/creators/{site.acme.creator_ids[0]}").text
    assert f"/creators/{site.acme.creator_ids[0]}/record.json" in profile
    record = owner.get(f"/creators/{site.acme.creator_ids[0]}/record.json")
    assert record.json()["accounts"][0]["follower_sample"] == []
    owner.close()
