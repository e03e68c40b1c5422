"""Account hygiene, as service functions on both stores: the one way to add a member,
invitations, password changes, disabling and deleting accounts, keys tied to their maker."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_support import (
    PASSWORD,
    make_user,
)
from microfluence.access import account, api_keys, housekeeping, invitations, members, sessions
from microfluence.access.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
)
from microfluence.access.principal import Principal
from microfluence.access.roles import Role
from microfluence.access.tables import ApiKey, Invitation, SignInThrottle, User, WebSession
from microfluence.access.users import find_membership, get_user
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.kernel.workspaces import ensure_workspace, get_workspace


def owner_of(store, email: str, workspace: str) -> Principal:  # type: ignore[no-untyped-def]
    """The principal of ``email`` signed in to ``workspace`` (who they are on the pages)."""
    with store.transaction() as session:
        user = get_user(session, email)
        ws = get_workspace(session, workspace)
        role = find_membership(session, user_id=user.id, workspace_id=ws.id).role
        return Principal(
            workspace_id=ws.id, workspace_name=ws.name, role=Role(role), user_id=user.id
        )


def test_add_member_is_the_one_way_in_with_one_password_rule(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        with pytest.raises(InputError, match="a first password is needed"):
            members.add_member(session, workspace=ws, email="ann@example.com", role="member")
        with pytest.raises(InputError, match="at least 8"):
            members.add_member(
                session, workspace=ws, email="ann@example.com", role="member", password="short"
            )
        asked = []
        added = members.add_member(
            session,
            workspace=ws,
            email="Ann@Example.com",
            role="member",
            password=lambda: asked.append(1) or PASSWORD,
        )
        assert added.created_user and added.changed and asked == [1]
        # An existing user is not asked for a password again; never_lower keeps a higher role.
        again = members.add_member(
            session,
            workspace=ws,
            email="ann@example.com",
            role="viewer",
            password=lambda: asked.append(2) or PASSWORD,
            never_lower=True,
        )
        assert not again.created_user and not again.changed and again.membership.role == "member"
        assert asked == [1]
        raised = members.add_member(session, workspace=ws, email="ann@example.com", role="owner")
        assert raised.changed and raised.membership.role == "owner"


def test_inviting_answers_alike_for_known_and_unknown_addresses(store):
    make_user(store, "owner@acme.test", "acme", "owner")
    make_user(store, "known@elsewhere.test", "elsewhere", "owner")
    owner = owner_of(store, "owner@acme.test", "acme")
    with store.transaction() as session:
        ws = get_workspace(session, "acme")
        known = invitations.invite(
            session, actor=owner, workspace=ws, email="known@elsewhere.test", role="member"
        )
        unknown = invitations.invite(
            session, actor=owner, workspace=ws, email="nobody@nowhere.test", role="member"
        )
        for made in (known, unknown):
            assert made.token.startswith("mfi_") and len(made.token) > 40
            assert made.invitation.token_hash != made.token  # kept as a digest only
            assert made.invitation.expires_at - made.invitation.created_at == invitations.LIFETIME
        assert type(known) is type(unknown)
        # Nobody became a member.
        known_user = get_user(session, "known@elsewhere.test")
        assert find_membership(session, user_id=known_user.id, workspace_id=ws.id) is None
        assert [v.email for v in invitations.list_invitations(session, ws.id)] == [
            "nobody@nowhere.test",
            "known@elsewhere.test",
        ]
        # A member cannot be invited; a role above the owner's cannot be given (viewer actor).
        with pytest.raises(ConflictError, match="already a member"):
            invitations.invite(session, actor=owner, workspace=ws, email="owner@acme.test")
        viewer = Principal(workspace_id=ws.id, workspace_name="acme", role=Role.viewer, user_id=1)
        with pytest.raises(PermissionDeniedError):
            invitations.invite(session, actor=viewer, workspace=ws, email="x@y.test")
        # Inviting again replaces the pending invitation: the first link stops working.
        again = invitations.invite(
            session, actor=owner, workspace=ws, email="nobody@nowhere.test", role="viewer"
        )
    with store.transaction() as session:
        with pytest.raises(NotFoundError, match="revoked"):
            invitations.accept_with_password(store, unknown.token, password=PASSWORD)
        assert invitations.describe_invitation(session, again.token).status == "pending"


def test_accepting_an_invitation(store):
    make_user(store, "owner@acme.test", "acme", "owner")
    make_user(store, "known@elsewhere.test", "elsewhere", "owner")
    owner = owner_of(store, "owner@acme.test", "acme")
    with store.transaction() as session:
        ws = get_workspace(session, "acme")
        for_known = invitations.invite(
            session, actor=owner, workspace=ws, email="known@elsewhere.test", role="member"
        )
        for_new = invitations.invite(
            session, actor=owner, workspace=ws, email="new@people.test", role="viewer"
        )
        for_signed_in = invitations.invite(
            session, actor=owner, workspace=ws, email="known@elsewhere.test", role="owner"
        )
        ws_id = ws.id
    # The existing account's password is checked, rate-limited like a sign-in.
    with pytest.raises(AuthenticationError):
        invitations.accept_with_password(
            store, for_signed_in.token, password="not her password", ip="7.7.7.7"
        )
    with store.transaction() as session:
        assert session.get(SignInThrottle, "pair:known@elsewhere.test|7.7.7.7").failures == 1
        assert invitations.describe_invitation(session, for_signed_in.token).status == "pending"
        # The replaced one is revoked; the signed-in user of another address may not accept.
        assert invitations.describe_invitation(session, for_known.token).status == "revoked"
        other = get_user(session, "owner@acme.test")
        with pytest.raises(PermissionDeniedError, match="signed in as owner@acme.test"):
            invitations.accept_as_user(session, for_signed_in.token, other.id)
    with store.transaction() as session:
        known = get_user(session, "known@elsewhere.test")
        accepted = invitations.accept_as_user(session, for_signed_in.token, known.id)
        assert (accepted.workspace, accepted.role, accepted.created_user) == (
            "acme",
            "owner",
            False,
        )
    with pytest.raises(NotFoundError, match="accepted already"):
        invitations.accept_with_password(store, for_signed_in.token, password=PASSWORD)
    # A new address: the password makes the account.
    with pytest.raises(InputError, match="at least 8"):
        invitations.accept_with_password(store, for_new.token, password="short")
    made = invitations.accept_with_password(
        store, for_new.token, password="a new person's password", display_name=" Nia "
    )
    assert (made.email, made.role, made.created_user) == ("new@people.test", "viewer", True)
    _, signed_in = sessions.sign_in(
        store, email="new@people.test", password="a new person's password"
    )
    assert signed_in.principal.workspace_id == ws_id and signed_in.display_name == "Nia"
    with store.transaction() as session:
        rows = session.scalars(sa.select(Invitation).where(Invitation.workspace_id == ws_id)).all()
        accepted_by = {r.email: r.accepted_by for r in rows if r.accepted_at is not None}
        assert set(accepted_by) == {"known@elsewhere.test", "new@people.test"}
        assert all(accepted_by.values())
    with pytest.raises(NotFoundError, match="not valid"):
        invitations.accept_with_password(store, "mfi_" + "x" * 43, password=PASSWORD)


def test_two_simultaneous_acceptances_make_one_account(store):
    make_user(store, "owner@acme.test", "acme", "owner")
    owner = owner_of(store, "owner@acme.test", "acme")
    with store.transaction() as session:
        made = invitations.invite(
            session, actor=owner, workspace=get_workspace(session, "acme"), email="n@p.test"
        )
    start = threading.Barrier(4, timeout=30)

    def accept(n: int) -> str:
        start.wait()
        try:
            invitations.accept_with_password(store, made.token, password=f"password number {n}")
        except (NotFoundError, ConflictError, AuthenticationError) as exc:
            return type(exc).__name__
        return "accepted"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(accept, range(4)))
    assert outcomes.count("accepted") == 1, outcomes
    with store.transaction() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count()).select_from(User).where(User.email == "n@p.test")
            )
            == 1
        )


def test_expired_invitations_do_not_work_and_are_pruned(store):
    make_user(store, "owner@acme.test", "acme", "owner")
    owner = owner_of(store, "owner@acme.test", "acme")
    with store.transaction() as session:
        ws = get_workspace(session, "acme")
        made = invitations.invite(session, actor=owner, workspace=ws, email="late@p.test")
        made.invitation.expires_at = utcnow() - dt.timedelta(seconds=1)
    with pytest.raises(NotFoundError, match="expired"):
        invitations.accept_with_password(store, made.token, password=PASSWORD)
    with store.transaction() as session:
        assert invitations.list_invitations(session, ws.id) == []
        assert [
            v.status for v in invitations.list_invitations(session, ws.id, pending_only=False)
        ] == ["expired"]
        session.get(Invitation, made.invitation.id).expires_at = (
            utcnow() - invitations.KEEP_ENDED - dt.timedelta(days=1)
        )
    token, _ = sessions.sign_in(store, email="owner@acme.test", password=PASSWORD)
    with store.transaction() as session:
        session.execute(sa.update(WebSession).values(last_seen_at=utcnow() - dt.timedelta(days=4)))
    assert housekeeping.prune(store) == {
        "sign_in_throttles": 0,
        "web_sessions": 1,
        "invitations": 1,
    }


def test_changing_a_password(store):
    make_user(store, "ann@example.com", "acme", "owner")
    here, here_session = sessions.sign_in(store, email="ann@example.com", password=PASSWORD)
    there, _ = sessions.sign_in(store, email="ann@example.com", password=PASSWORD)
    with pytest.raises(InputError, match="at least 8"):
        account.change_password(
            store, email="ann@example.com", current_password=PASSWORD, new_password="short"
        )
    with pytest.raises(InputError, match="the same"):
        account.change_password(
            store, email="ann@example.com", current_password=PASSWORD, new_password=PASSWORD
        )
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            account.change_password(
                store,
                email="ann@example.com",
                current_password="a wrong guess",
                new_password="a new password",
                ip="8.8.8.8",
            )
    with store.transaction() as session:  # counted like sign-ins; bad new passwords were not
        assert session.get(SignInThrottle, "pair:ann@example.com|8.8.8.8").failures == 2
    changed = account.change_password(
        store,
        email="ann@example.com",
        current_password=PASSWORD,
        new_password="a new password",
        ip="8.8.8.8",
        keep_session_id=here_session.session_id,
    )
    assert changed.sessions_ended == 1
    with store.transaction() as session:
        assert sessions.resolve_session(session, here) is not None
        assert sessions.resolve_session(session, there) is None
        assert session.get(SignInThrottle, "pair:ann@example.com|8.8.8.8") is None
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, email="ann@example.com", password=PASSWORD)
    sessions.sign_in(store, email="ann@example.com", password="a new password")
    # The operator's reset needs no current password and ends every session.
    with store.transaction() as session:
        assert (
            account.reset_password(session, get_user(session, "ann@example.com"), "reset pass 1")
            == 2
        )
    with store.transaction() as session:
        assert sessions.resolve_session(session, here) is None


def test_the_change_is_rate_limited(store):
    make_user(store, "ann@example.com", "acme", "owner")
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            account.change_password(
                store,
                email="ann@example.com",
                current_password="guess guess",
                new_password="a new password",
                ip="9.9.9.9",
            )
    with pytest.raises(RateLimitedError):
        account.change_password(
            store,
            email="ann@example.com",
            current_password=PASSWORD,
            new_password="a new password",
            ip="9.9.9.9",
        )


def test_disabling_ends_sessions_and_revokes_keys_and_invitations(store):
    make_user(store, "owner@acme.test", "acme", "owner")
    make_user(store, "bo@acme.test", "acme", "owner")
    bo = owner_of(store, "bo@acme.test", "acme")
    token, _ = sessions.sign_in(store, email="bo@acme.test", password=PASSWORD)
    with store.transaction() as session:
        ws = get_workspace(session, "acme")
        key = api_keys.create_api_key(session, workspace=ws, role="member", by=bo)
        invitations.invite(session, actor=bo, workspace=ws, email="friend@p.test")
    owner = owner_of(store, "owner@acme.test", "acme")
    with store.transaction() as session:
        with pytest.raises(PermissionDeniedError, match="your own account"):
            members.disable_user(session, actor=owner, user=get_user(session, "owner@acme.test"))
        closed = members.disable_user(session, actor=owner, user=get_user(session, "bo@acme.test"))
        assert (closed.sessions_ended, closed.keys_revoked, closed.invitations_revoked) == (1, 1, 1)
    with store.transaction() as session:
        assert sessions.resolve_session(session, token) is None
        with pytest.raises(AuthenticationError, match="revoked"):
            api_keys.check_api_key(session, key.secret)
        assert invitations.list_invitations(session, ws.id) == []
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, email="bo@acme.test", password=PASSWORD)
    # The last active owner may not be disabled (not even by the operator), nor demoted.
    with store.transaction() as session, pytest.raises(ConflictError, match="last active owner"):
        members.disable_user(session, actor=None, user=get_user(session, "owner@acme.test"))
    with store.transaction() as session, pytest.raises(ConflictError, match="at least one owner"):
        members.change_role(
            session, workspace_id=ws.id, user_id=owner.user_id, role="member", actor=owner
        )
    with store.transaction() as session:
        members.enable_user(session, actor=owner, user=get_user(session, "bo@acme.test"))
    sessions.sign_in(store, email="bo@acme.test", password=PASSWORD)
    with store.transaction() as session, pytest.raises(AuthenticationError, match="revoked"):
        api_keys.check_api_key(session, key.secret)  # stays revoked


def test_who_may_manage_an_account(store):
    make_user(store, "ann@acme.test", "acme", "owner")
    make_user(store, "zed@zeta.test", "zeta", "owner")
    make_user(store, "both@p.test", "acme", "member")
    with store.transaction() as session:
        both = get_user(session, "both@p.test")
        members.add_member(
            session, workspace=get_workspace(session, "zeta"), email=both.email, role="viewer"
        )
    ann = owner_of(store, "ann@acme.test", "acme")
    with store.transaction() as session:
        both = get_user(session, "both@p.test")
        for action in (members.disable_user, members.enable_user, members.delete_user):
            with pytest.raises(PermissionDeniedError, match="workspaces you do not own"):
                action(session, actor=ann, user=both)
        # Once Ann owns zeta too, she may.
        members.add_member(
            session, workspace=get_workspace(session, "zeta"), email="ann@acme.test", role="owner"
        )
    ann = owner_of(store, "ann@acme.test", "acme")
    with store.transaction() as session:
        closed = members.delete_user(session, actor=ann, user=get_user(session, "both@p.test"))
        assert closed.email == "both@p.test"
    with store.transaction() as session, pytest.raises(NotFoundError):
        get_user(session, "both@p.test")
    # An API key of one workspace manages accounts that belong to that workspace alone.
    with store.transaction() as session:
        acme = get_workspace(session, "acme")
        members.add_member(
            session, workspace=acme, email="solo@p.test", role="viewer", password=PASSWORD
        )
        key = Principal(workspace_id=acme.id, workspace_name="acme", role=Role.owner, api_key_id=1)
        members.disable_user(session, actor=key, user=get_user(session, "solo@p.test"))
        with pytest.raises(PermissionDeniedError):
            members.disable_user(session, actor=key, user=get_user(session, "zed@zeta.test"))


def test_deleting_an_account(store):
    make_user(store, "owner@acme.test", "acme", "owner")
    make_user(store, "cy@acme.test", "acme", "owner")
    cy = owner_of(store, "cy@acme.test", "acme")
    with store.transaction() as session:
        ws = get_workspace(session, "acme")
        made = api_keys.create_api_key(session, workspace=ws, role="owner", by=cy)
    with store.transaction() as session:
        closed = members.delete_user(session, actor=None, user=get_user(session, "cy@acme.test"))
        assert closed.keys_revoked == 1
    with store.transaction() as session:
        row = session.get(ApiKey, made.key.id)
        assert row.created_by is None and row.revoked_at is not None and not row.by_operator
        with pytest.raises(AuthenticationError):
            api_keys.check_api_key(session, made.secret)
        with pytest.raises(ConflictError, match="last active owner"):
            members.delete_user(session, actor=None, user=get_user(session, "owner@acme.test"))
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, email="cy@acme.test", password=PASSWORD)


def test_a_keys_role_is_capped_by_its_makers_current_role(store):
    make_user(store, "owner@acme.test", "acme", "owner")
    make_user(store, "dee@acme.test", "acme", "owner")
    dee = owner_of(store, "dee@acme.test", "acme")
    with store.transaction() as session:
        ws = get_workspace(session, "acme")
        made = api_keys.create_api_key(session, workspace=ws, name="dee's", role="owner", by=dee)
        operator = api_keys.create_api_key(session, workspace=ws, name="ops", role="owner")
    with store.transaction() as session:
        principal, _ = api_keys.check_api_key(session, made.secret)
        assert principal.role is Role.owner
        # Made over the API with Dee's key: acts for Dee too, and no more than the key that made it.
        child = api_keys.create_api_key(
            session, workspace=ws, name="child", role="member", by=principal
        )
        assert (child.key.created_by, child.key.created_by_key_id) == (dee.user_id, made.key.id)
        assert not child.key.by_operator
    with store.transaction() as session:
        members.change_role(session, workspace_id=ws.id, user_id=dee.user_id, role="viewer")
    with store.transaction() as session:
        assert api_keys.check_api_key(session, made.secret)[0].role is Role.viewer
        assert api_keys.check_api_key(session, child.secret)[0].role is Role.viewer
        assert api_keys.check_api_key(session, operator.secret)[0].role is Role.owner
        views = {v.key.name: v for v in api_keys.describe_api_keys(session, ws.id)}
        assert views["dee's"].made_by == "dee@acme.test" and views["dee's"].key.role == "owner"
        assert views["dee's"].effective_role is Role.viewer
        assert views["child"].maker == f"dee@acme.test, with key {made.key.prefix}"
        assert views["ops"].maker == "operator (CLI)" and views["ops"].effective_role is Role.owner
        viewer_dee = owner_of(store, "dee@acme.test", "acme")
        with pytest.raises(PermissionDeniedError):
            api_keys.create_api_key(session, workspace=ws, role="member", by=viewer_dee)
    with store.transaction() as session:
        members.remove_member(session, workspace_id=ws.id, user_id=dee.user_id)
    with store.transaction() as session:
        with pytest.raises(AuthenticationError, match="revoked"):
            api_keys.check_api_key(session, made.secret)
        with pytest.raises(AuthenticationError, match="revoked|no longer works"):
            api_keys.check_api_key(session, child.secret)
    # Revoking a key revokes the keys made with it.
    with store.transaction() as session:
        parent, _ = api_keys.check_api_key(session, operator.secret)
        kid = api_keys.create_api_key(session, workspace=ws, role="owner", by=parent)
        grandkid = api_keys.create_api_key(
            session, workspace=ws, role="viewer", by=api_keys.check_api_key(session, kid.secret)[0]
        )
        assert grandkid.key.by_operator and grandkid.key.created_by_key_id == kid.key.id
        api_keys.revoke_api_key(session, workspace_id=ws.id, key=operator.key.prefix)
    with store.transaction() as session:
        for secret in (operator.secret, kid.secret, grandkid.secret):
            with pytest.raises(AuthenticationError, match="revoked"):
                api_keys.check_api_key(session, secret)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    email=st.text(max_size=60) | st.emails(),
    token=st.text(max_size=120),
    password=st.text(max_size=40),
)
def test_hostile_invitation_input_gets_clear_errors(sqlite_store, email, token, password):
    """Whatever is typed as an address, a token or a password: a clear error or a result,
    never another exception, and nothing half-written."""
    with sqlite_store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        owner = Principal(workspace_id=ws.id, workspace_name="acme", role=Role.owner)
        try:
            made = invitations.invite(session, actor=owner, workspace=ws, email=email)
            assert made.invitation.email == email.strip().lower()
        except InputError as exc:
            assert exc.field == "email"
    try:
        invitations.accept_with_password(sqlite_store, token, password=password)
        raise AssertionError("a made-up token was accepted")
    except (NotFoundError, InputError):
        pass
