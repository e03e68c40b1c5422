"""The labelling page: followers of the stored samples one at a time, drawn at random, labelled
fake / real / unsure with a key (f, r, u; ← or Backspace goes back), and what the labels say —
the model's measured accuracy and the workspace's fake shares before and after calibration.

The model's verdict on a follower is shown only once it is labelled. A follower's picture is
loaded only from the hosts MICROFLUENCE_FOLLOWER_PICTURE_HOSTS allows (this page's policy then
allows them too); otherwise the card shows an initial.
"""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Annotated, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.access.roles import WRITE
from microfluence.authenticity.labels import records, sampling
from microfluence.authenticity.labels.calibration import ENOUGH_LABELS
from microfluence.authenticity.labels.status import label_status
from microfluence.catalog.followers import list_samples
from microfluence.catalog.validation import safe_link
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.web.api.labels import labeller
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter, SettingsDep
from microfluence.web.headers import page_csp
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
FollowerId = Annotated[int, Path(ge=1, le=2**62)]
OptionalId = Annotated[int | None, Query(ge=1, le=2**62)]
KEYS = {"fake": "f", "real": "r", "unsure": "u"}
SAMPLES_SHOWN = 25  # rows of the per-sample table: the most labelled first


def picture_allowed(url: str | None, sources: tuple[str, ...]) -> str | None:
    """``url`` when the page's policy lets the browser load it (an allowed https origin)."""
    link = safe_link(url)
    if not link or not sources:
        return None
    parts = urlsplit(link)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return link if any(fnmatch(origin, source.lower()) for source in sources) else None


def _account_id(choice: str) -> int | None:
    """The "Followers of" choice: "" (every sample, as the form sends it) or an account id."""
    if not choice.strip():
        return None
    if not choice.strip().isdigit():
        raise InputError("not an account id", field="account", value=choice)
    return int(choice)


def _query(**params: object) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return "/labels" + ("?" + urlencode(kept) if kept else "")


@router.get("/labels")
def labels_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    settings: SettingsDep,
    account_choice: Annotated[str, Query(alias="account", max_length=20)] = "",
    follower: OptionalId = None,
    last: OptionalId = None,
) -> HTMLResponse:
    account = _account_id(account_choice)
    samples = list_samples(db, caller.workspace_id)
    if account is not None and account not in {s.account_id for s in samples}:
        raise NotFoundError(f"no follower sample of account {account} in this workspace")
    can_label = caller.role.allows(WRITE)
    card = previous = back = None
    if can_label:
        me = labeller(db, caller)
        if follower is not None:
            card = sampling.follower_card(db, caller.workspace_id, follower)
        else:
            card = sampling.draw_follower(db, caller.workspace_id, account_id=account)
        if last is not None:
            try:
                previous = sampling.follower_card(db, caller.workspace_id, last)
            except NotFoundError:
                previous = None
        before = card.follower_id if card is not None and card.label is not None else None
        back = sampling.previous_labelled(db, caller.workspace_id, by=me, before=before)
    sources = settings.picture_sources
    return render(
        request,
        db,
        "labels.html",
        headers={"Content-Security-Policy": page_csp(sources)} if sources else None,
        title="Labels",
        samples=samples,
        account=account,
        card=card,
        picture=picture_allowed(card.profile_pic_url, sources) if card else None,
        previous=previous,
        back=_query(follower=back, account=account) if back else None,
        progress=sampling.progress(db, caller.workspace_id, account),
        status=label_status(db, caller.workspace_id, accounts=SAMPLES_SHOWN),
        can_label=can_label,
        keys=KEYS,
        enough=ENOUGH_LABELS,
        scripts=["labels.js"],
        shown=SAMPLES_SHOWN,
    )


@router.post("/labels/{follower_id}", dependencies=[CsrfChecked], response_model=None)
def label_follower(
    db: DbSession,
    caller: PageWriter,
    follower_id: FollowerId,
    label: Annotated[Literal["fake", "real", "unsure"], Form()],
    account: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> RedirectResponse:
    """A label button (or its key): store it, then on to the next follower."""
    records.label_follower(db, caller.workspace_id, follower_id, label, by=labeller(db, caller))
    return RedirectResponse(_query(account=account, last=follower_id), status_code=303)
