"""Follower samples the model reads plainly, for the labels tests: bot-like followers it flags
(no picture, no posts, following thousands) and person-like ones it does not."""

from __future__ import annotations

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator, Follower
from microfluence.kernel.workspaces import ensure_workspace


def bot(account_id: int, workspace_id: int, n: int, prefix: str = "") -> Follower:
    return Follower(
        workspace_id=workspace_id,
        account_id=account_id,
        username=f"{prefix}user{83920 + n}x{n * 7}",
        posts_count=0,
        followers=3,
        following=4000,
        has_profile_pic=False,
        is_private=False,
    )


def person(account_id: int, workspace_id: int, n: int, prefix: str = "") -> Follower:
    return Follower(
        workspace_id=workspace_id,
        account_id=account_id,
        username=f"{prefix}ann.smith.{n}",
        full_name="Ann Smith",
        biography="baker, runner, mum of two",
        posts_count=150,
        followers=400,
        following=300,
        has_profile_pic=True,
        is_private=False,
        profile_pic_url=f"https://scontent.cdninstagram.com/v/{n}.jpg",
    )


def sampled_workspace(
    store: Store, name: str = "acme", *, bots: int = 20, people: int = 20, prefix: str = ""
) -> dict[str, int]:
    """A workspace with accounts instagram:ana (``bots`` + ``people`` followers) and
    instagram:bo (10 + 10); returns their ids and the workspace's."""
    with store.transaction() as session:
        ws = ensure_workspace(session, name)
        creator = Creator(workspace_id=ws.id, name=f"{prefix}Ana")
        session.add(creator)
        session.flush()
        ana = Account(
            workspace_id=ws.id, creator_id=creator.id, platform="instagram", handle=f"{prefix}ana"
        )
        bo = Account(
            workspace_id=ws.id, creator_id=creator.id, platform="instagram", handle=f"{prefix}bo"
        )
        session.add_all([ana, bo])
        session.flush()
        session.add_all(bot(ana.id, ws.id, n, prefix) for n in range(bots))
        session.add_all(person(ana.id, ws.id, n, prefix) for n in range(people))
        session.add_all(bot(bo.id, ws.id, 100 + n, prefix) for n in range(10))
        session.add_all(person(bo.id, ws.id, 100 + n, prefix) for n in range(10))
        return {"workspace": ws.id, "ana": ana.id, "bo": bo.id}
