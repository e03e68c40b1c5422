"""Access service functions: passwords, users and roles, API keys, sessions, sign-in limits."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from api_support import (
    PASSWORD,
    make_user,
)
from microfluence.access import api_keys, sessions, throttle
from microfluence.access.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
)
from microfluence.access.passwords import hash_password, verify_password
from microfluence.access.roles import Role, parse_role, require
from microfluence.access.tables import WebSession
from microfluence.access.users import (
    create_user,
    get_user,
    list_members,
    remove_membership,
    set_membership,
    workspaces_of,
)
from microfluence.kernel.errors import ConflictError, InputError
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import utcnow
from microfluence.kernel.workspaces import ensure_workspace


@pytest.mark.usefixtures("real_password_hashing")
def test_passwords_are_hashed_at_rfc_9106_costs():
    """The product's costs (the tests run with small ones: conftest.cheap_password_hashing):
    argon2id, 64 MiB, 3 passes, 4 lanes, RFC 9106's second recommended option."""
    hashed = hash_password("a long enough secret")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), hashed
    assert verify_password(hashed, "a long enough secret")


def test_passwords_are_argon2_hashes():
    hashed = hash_password("a long enough secret")
    assert hashed.startswith("$argon2id$") and "secret" not in hashed
    assert verify_password(hashed, "a long enough secret")
    assert not verify_password(hashed, "a long enough secreT")
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")
    for bad in ("short", " padded password ", "x" * 1025):
        with pytest.raises(InputError):
            hash_password(bad)


def test_roles_are_ordered():
    assert Role.owner.allows(Role.member) and Role.member.allows(Role.viewer)
    assert not Role.viewer.allows(Role.member)
    with pytest.raises(PermissionDeniedError, match="viewer may not change data"):
        require("viewer", Role.member)
    assert parse_role(" Owner ") is Role.owner
    with pytest.raises(InputError):
        parse_role("admin")


def test_users_and_memberships(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        other = ensure_workspace(session, "beta")
        ann = create_user(session, email=" Ann@Example.COM ", password=PASSWORD)
        assert ann.email == "ann@example.com"
        with pytest.raises(ConflictError):
            create_user(session, email="ann@example.com", password=PASSWORD)
        with pytest.raises(InputError):
            create_user(session, email="not-an-address", password=PASSWORD)
        set_membership(session, user=ann, workspace=ws, role="owner")
        set_membership(session, user=ann, workspace=other, role="viewer")
        assert [(w.name, r) for w, r in workspaces_of(session, ann.id)] == [
            ("acme", Role.owner),
            ("beta", Role.viewer),
        ]
        # The last owner stays an owner.
        with pytest.raises(ConflictError):
            set_membership(session, user=ann, workspace=ws, role="member")
        with pytest.raises(ConflictError):
            remove_membership(session, user=ann, workspace=ws)
        bob = create_user(session, email="bob@example.com", password=PASSWORD)
        set_membership(session, user=bob, workspace=ws, role="owner")
        set_membership(session, user=ann, workspace=ws, role="member")
        assert {(u.email, m.role) for u, m in list_members(session, ws.id)} == {
            ("ann@example.com", "member"),
            ("bob@example.com", "owner"),
        }
        assert get_user(session, "BOB@example.com").id == bob.id


def test_api_keys_are_kept_as_digests(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        made = api_keys.create_api_key(session, workspace=ws, name="ci", role="viewer")
    secret = made.secret
    assert secret.startswith(made.key.prefix + "_") and len(secret) > 50
    with store.connection() as conn:
        stored = " ".join(
            str(v) for row in conn.execute(sa.text("SELECT * FROM api_keys")) for v in row
        )
    assert secret not in stored and secret.split("_", 2)[2] not in stored
    with store.transaction() as session:
        principal = api_keys.authenticate_api_key(session, secret)
        assert (principal.workspace_name, principal.role) == ("acme", Role.viewer)
    with store.transaction() as session:
        assert api_keys.list_api_keys(session, ws.id)[0].last_used_at is not None
        with pytest.raises(AuthenticationError):
            api_keys.authenticate_api_key(session, secret + "x")
        with pytest.raises(AuthenticationError):
            api_keys.authenticate_api_key(session, "mfk_zzzzzzzz_" + secret.split("_", 2)[2])
        api_keys.revoke_api_key(session, workspace_id=ws.id, key=made.key.prefix)
    with store.transaction() as session, pytest.raises(AuthenticationError, match="revoked"):
        api_keys.authenticate_api_key(session, secret)


def test_sessions(store):
    make_user(store, "ann@example.com", "acme", "member")
    token, signed_in = sessions.sign_in(
        store, email="ANN@example.com", password=PASSWORD, ip="10.0.0.1"
    )
    assert signed_in.principal.workspace_name == "acme"
    assert signed_in.principal.role is Role.member
    with store.transaction() as session:
        rows = session.scalars(sa.select(WebSession)).all()
        assert len(rows) == 1 and token not in rows[0].token_hash
        assert sessions.resolve_session(session, token).user_id == signed_in.user_id
        assert sessions.resolve_session(session, token + "x") is None
        assert sessions.resolve_session(session, None) is None
        rows[0].expires_at = utcnow() - dt.timedelta(seconds=1)
    with store.transaction() as session:
        assert sessions.resolve_session(session, token) is None  # expired, and removed
        assert session.scalars(sa.select(WebSession)).all() == []
    token, _ = sessions.sign_in(store, email="ann@example.com", password=PASSWORD)
    with store.transaction() as session:
        sessions.sign_out(session, token)
    with store.transaction() as session:
        assert sessions.resolve_session(session, token) is None
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, email="ann@example.com", password="wrong password")
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, email="nobody@example.com", password=PASSWORD)


def test_sign_in_is_rate_limited_and_the_limit_survives_a_restart(store_url):
    store = open_store(store_url)
    make_user(store, "ann@example.com", "acme", "owner")
    for _ in range(throttle.MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            sessions.sign_in(store, email="ann@example.com", password="guess guess", ip="1.2.3.4")
    store.dispose()
    restarted = open_store(store_url)  # a new process would see the same counts
    with pytest.raises(RateLimitedError) as caught:
        sessions.sign_in(restarted, email="ann@example.com", password=PASSWORD, ip="1.2.3.4")
    assert 0 < caught.value.retry_after <= throttle.LOCKOUT.total_seconds()
    # The real user elsewhere is not locked out by someone guessing from 1.2.3.4.
    sessions.sign_in(restarted, email="ann@example.com", password=PASSWORD, ip="5.6.7.8")
    restarted.dispose()


def test_a_successful_sign_in_clears_the_failures(store):
    make_user(store, "ann@example.com", "acme", "owner")
    for _ in range(throttle.MAX_FAILURES - 1):
        with pytest.raises(AuthenticationError):
            sessions.sign_in(store, email="ann@example.com", password="guess guess", ip="9.9.9.9")
    sessions.sign_in(store, email="ann@example.com", password=PASSWORD, ip="9.9.9.9")
    for _ in range(throttle.MAX_FAILURES - 1):
        with pytest.raises(AuthenticationError):
            sessions.sign_in(store, email="ann@example.com", password="guess guess", ip="9.9.9.9")
    sessions.sign_in(store, email="ann@example.com", password=PASSWORD, ip="9.9.9.9")
