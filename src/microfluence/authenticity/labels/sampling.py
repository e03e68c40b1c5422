"""Which follower to label next, and what a labeller sees of it.

The next follower is drawn uniformly at random from the followers not yet labelled (of every
stored sample of the workspace, or of one account's): drawing without replacement, each draw
uniform over what is left, makes the labelled set a simple random sample of the followers, so
rates measured on it estimate the workspace's rates without bias. The card carries no model
verdict: the labeller judges first (no anchoring); the verdict is shown only for a follower
already labelled.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Select
from sqlalchemy.orm import Session

from microfluence.authenticity.followers.audit import STORED_COLUMNS, score_followers
from microfluence.authenticity.followers.model import FollowerModel, load_shipped_model
from microfluence.authenticity.labels.calibration import STORED_TYPES
from microfluence.authenticity.labels.tables import FollowerLabel
from microfluence.kernel.errors import NotFoundError
from microfluence.kernel.store.tables import Account, Follower

PROFILE_URLS = {
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "youtube": "https://www.youtube.com/@{}",
    "facebook": "https://www.facebook.com/{}",
    "x": "https://x.com/{}",
    "snapchat": "https://www.snapchat.com/add/{}",
    "twitch": "https://www.twitch.tv/{}",
    "pinterest": "https://www.pinterest.com/{}/",
}
CARD_COLUMNS = (*STORED_COLUMNS, "profile_pic_url")  # a stored profile, and its picture


@dataclass(frozen=True)
class Verdict:
    """The model's verdict on a follower, shown once the follower is labelled."""

    fake_probability: float
    flagged: bool
    threshold: float


@dataclass(frozen=True)
class FollowerCard:
    """One follower as the labeller sees it."""

    follower_id: int
    account_id: int
    platform: str
    account: str
    username: str
    full_name: str | None
    biography: str | None
    posts_count: int | None
    followers: int | None
    following: int | None
    has_profile_pic: bool | None
    is_private: bool | None
    is_verified: bool | None
    external_url: str | None
    profile_pic_url: str | None
    profile_url: str | None
    label: str | None = None  # the stored label, for a follower labelled before
    labelled_by: str | None = None
    labelled_at: dt.datetime | None = None
    verdict: Verdict | None = None  # only with a label

    @property
    def initial(self) -> str:
        name = (self.full_name or self.username or "?").strip()
        return (name[:1] or "?").upper()

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["verdict"] = self.verdict.__dict__ if self.verdict else None
        return out


@dataclass(frozen=True)
class Progress:
    followers: int
    labelled: int

    @property
    def left(self) -> int:
        return self.followers - self.labelled


def profile_url(platform: str, username: str) -> str | None:
    pattern = PROFILE_URLS.get(platform)
    return pattern.format(quote(username, safe="._-")) if pattern else None


def _followers(workspace_id: int, account_id: int | None) -> Select:
    follower = Follower.__table__
    query = sa.select(follower.c.id).where(follower.c.workspace_id == workspace_id)
    if account_id is not None:
        query = query.where(follower.c.account_id == account_id)
    return query


def _unlabelled(workspace_id: int, account_id: int | None) -> Select:
    label = FollowerLabel.__table__
    labelled = sa.select(label.c.follower_id).where(label.c.workspace_id == workspace_id)
    return _followers(workspace_id, account_id).where(
        Follower.__table__.c.id.not_in(labelled.scalar_subquery())
    )


def progress(session: Session, workspace_id: int, account_id: int | None = None) -> Progress:
    """How many followers there are to label, and how many are labelled."""
    total = _count(session, _followers(workspace_id, account_id))
    left = _count(session, _unlabelled(workspace_id, account_id))
    return Progress(followers=total, labelled=total - left)


def _count(session: Session, query: Select) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def draw_follower(
    session: Session,
    workspace_id: int,
    *,
    account_id: int | None = None,
    model: FollowerModel | None = None,
    randbelow: Any = secrets.randbelow,
) -> FollowerCard | None:
    """A follower not yet labelled, drawn uniformly at random; None when every one is."""
    if account_id is not None:
        _account(session, workspace_id, account_id)
    unlabelled = _unlabelled(workspace_id, account_id)
    left = _count(session, unlabelled)
    if left == 0:
        return None
    offset = randbelow(left)
    follower_id = session.scalar(
        unlabelled.order_by(Follower.__table__.c.id).offset(offset).limit(1)
    )
    return follower_card(session, workspace_id, int(follower_id), model=model)


def _account(session: Session, workspace_id: int, account_id: int) -> Account:
    account = session.scalar(
        sa.select(Account).where(Account.id == account_id, Account.workspace_id == workspace_id)
    )
    if account is None:
        raise NotFoundError(f"no account {account_id} in this workspace")
    return account


def follower_card(
    session: Session, workspace_id: int, follower_id: int, *, model: FollowerModel | None = None
) -> FollowerCard:
    """The card of one follower of the workspace (NotFoundError for any other id); with the
    model's verdict when the follower is labelled."""
    follower, label, account = Follower.__table__, FollowerLabel.__table__, Account.__table__
    row = session.execute(
        sa.select(
            follower.c.id,
            follower.c.account_id,
            account.c.platform,
            account.c.handle,
            *(follower.c[c] for c in CARD_COLUMNS),
            label.c.label,
            label.c.labelled_by,
            label.c.labelled_at,
        )
        .select_from(follower)
        .join(account, account.c.id == follower.c.account_id)
        .outerjoin(
            label,
            (label.c.follower_id == follower.c.id) & (label.c.workspace_id == workspace_id),
        )
        .where(follower.c.id == follower_id, follower.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no follower {follower_id} in this workspace's samples")
    values = dict(row._mapping)
    card = FollowerCard(
        follower_id=values.pop("id"),
        account=values.pop("handle"),
        profile_url=profile_url(values["platform"], values["username"]),
        **values,
    )
    if card.label is None:
        return card
    model = model or load_shipped_model()
    scored = score_followers(_profile_frame(card), model=model)
    probability = float(scored["fake_probability"][0])
    verdict = Verdict(probability, probability >= model.threshold, model.threshold)
    return FollowerCard(**(card.__dict__ | {"verdict": verdict}))


def _profile_frame(card: FollowerCard) -> pl.DataFrame:
    return pl.DataFrame(
        {c: [getattr(card, c)] for c in STORED_COLUMNS},
        schema={c: STORED_TYPES.get(c, pl.String) for c in STORED_COLUMNS},
    )


def previous_labelled(
    session: Session, workspace_id: int, *, by: str, before: int | None = None
) -> int | None:
    """The follower ``by`` labelled last (before follower ``before``'s label): "back"."""
    label = FollowerLabel.__table__
    query = sa.select(label.c.follower_id).where(
        label.c.workspace_id == workspace_id, label.c.labelled_by == by
    )
    if before is not None:
        mark = session.execute(
            sa.select(label.c.labelled_at, label.c.id).where(
                label.c.workspace_id == workspace_id, label.c.follower_id == before
            )
        ).first()
        if mark is not None:
            at, row_id = mark
            query = query.where(
                (label.c.labelled_at < at) | ((label.c.labelled_at == at) & (label.c.id < row_id))
            )
    found = session.scalar(query.order_by(label.c.labelled_at.desc(), label.c.id.desc()).limit(1))
    return int(found) if found is not None else None
