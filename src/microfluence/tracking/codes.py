"""Personal discount codes: readable, unguessable, unique within the workspace.

A generated code reads ``STEM`` + ``VALUE`` + ``-`` + ``SUFFIX`` (``SARAH15-K7Q``):

* the stem is the creator's name (or the handle given) folded to ASCII letters, at most 8;
* the value is the discount when it is a whole number (15 % or 15.00 off: ``15``);
* the suffix is drawn with :mod:`secrets` from :data:`ALPHABET`, 21 characters without the
  look-alikes (no ``0 O Q D``, ``1 I L``, ``2 Z``, ``5 S``, ``6 G``, ``8 B``), 3 characters by
  default (9,261 suffixes per stem and value), 6 for single-use batches (85,766,121).

Codes are matched by shops without regard to case, so the store keeps ``code_key``, the code in
upper case, unique per workspace (the database's constraint). A new code is inserted inside a
savepoint; if another writer took the same key first (two servers on PostgreSQL), the savepoint
is rolled back and a fresh suffix drawn: collision-free under concurrency, never a 500.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.tracking.tables import DiscountCode

# Upper-case letters and digits that are not read as one another, on a phone or said aloud.
ALPHABET = "ACEFHJKMNPRTUVWXY3479"
KINDS = ("percent", "amount", "shipping")
STEM_MAX = 8
SUFFIX_DEFAULT = 3
SUFFIX_BATCH = 6
SUFFIX_MIN, SUFFIX_MAX = 3, 12
BATCH_MAX = 10_000
ATTEMPTS = 12
CUSTOM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
CODE_HINT = "3 to 64 letters, digits, - or _, starting with a letter or digit"


class CodePublic(BaseModel):
    id: int
    code: str
    kind: str
    value: Decimal | None
    creator_id: int | None
    campaign_id: int | None
    deal_id: int | None
    single_use: bool
    batch: str | None
    created_at: UtcDateTime
    disabled_at: UtcDateTime | None


def public(code: DiscountCode) -> CodePublic:
    return CodePublic.model_validate(code, from_attributes=True)


@dataclass(frozen=True)
class CodeOwner:
    """Who a code belongs to: the creator, and the campaign and deal it counts for."""

    creator_id: int | None
    stem: str
    campaign_id: int | None = None
    deal_id: int | None = None


def stem_of(text: str | None) -> str:
    """``Sarah O'Neil`` → ``SARAH``; ``Zoë`` → ``ZOE``; ``@zoe_travels`` → ``ZOETRAVE``: the first
    word's ASCII letters (the whole text's when the first has none), upper case, at most 8."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    words = [re.sub(r"[^A-Za-z]", "", w) for w in re.split(r"[\s.]+", folded.strip("@ "))]
    first = next((w for w in words if w), "")
    return (first or "CODE")[:STEM_MAX].upper()


def value_tag(kind: str, value: Decimal | None) -> str:
    if kind == "shipping":
        return "SHIP"
    if value is None or value != value.to_integral_value():
        return ""
    return str(int(value))


def random_suffix(length: int = SUFFIX_DEFAULT) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generate(stem: str, kind: str, value: Decimal | None, length: int = SUFFIX_DEFAULT) -> str:
    return f"{stem}{value_tag(kind, value)}-{random_suffix(length)}"


def parse_kind(kind: str | None) -> str:
    k = (kind or "percent").strip().lower()
    if k not in KINDS:
        raise InputError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}", field="kind")
    return k


def parse_value(kind: str, value: object) -> Decimal | None:
    """The discount: a percentage (0 < v ≤ 100) or an amount (> 0); none for free shipping."""
    if value is None or value == "":
        if kind == "shipping":
            return None
        raise InputError("a discount value is needed (15 for 15 % or 15.00 off)", field="value")
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        raise InputError(f"not a number: {str(value)[:40]!r}", field="value") from None
    if not number.is_finite() or number <= 0 or (kind == "percent" and number > 100):
        limit = "between 0 and 100" if kind == "percent" else "above 0"
        raise InputError(f"the discount must be {limit}, got {number}", field="value")
    if number >= Decimal("1e12"):
        raise InputError("the discount is too large", field="value")
    return number.quantize(Decimal("0.01"))


def parse_custom(code: str) -> str:
    text = (code or "").strip()
    if not CUSTOM.match(text):
        raise InputError(f"{text[:70]!r} is not a code: {CODE_HINT}", field="code", value=code)
    return text


def parse_suffix_length(length: int) -> int:
    if not SUFFIX_MIN <= length <= SUFFIX_MAX:
        raise InputError(
            f"the random part is {SUFFIX_MIN} to {SUFFIX_MAX} characters", field="suffix_length"
        )
    return length


# -- who a code is for -----------------------------------------------------------------------


def _campaign_id(session: Session, workspace_id: int, campaign: str | None) -> int | None:
    if not campaign:
        return None
    found = session.scalar(
        select(Campaign.id).where(Campaign.workspace_id == workspace_id, Campaign.name == campaign)
    )
    if found is None:
        raise NotFoundError(f"no campaign {campaign!r} in this workspace")
    return found


def resolve_owner(
    session: Session,
    workspace_id: int,
    *,
    creator: str | None = None,
    creator_id: int | None = None,
    campaign: str | None = None,
) -> CodeOwner:
    """The owner named by ``PLATFORM:HANDLE`` (its handle is the stem) or a creator id (its
    name is), in this workspace; with a campaign, the creator's deal in it when there is one."""
    stem_source: str | None = None
    if creator:
        account = find_account_by_reference(session, workspace_id, creator)
        creator_id, stem_source = account.creator_id, account.handle
    if creator_id is not None:
        row = session.execute(
            select(Creator.id, Creator.name).where(
                Creator.workspace_id == workspace_id, Creator.id == creator_id
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no creator with id {creator_id}")
        if not creator:
            stem_source = row.name
    campaign_id = _campaign_id(session, workspace_id, campaign)
    deal_id = None
    if campaign_id is not None and creator_id is not None:
        deal_id = session.scalar(
            select(Deal.id).where(Deal.campaign_id == campaign_id, Deal.creator_id == creator_id)
        )
    return CodeOwner(creator_id, stem_of(stem_source), campaign_id, deal_id)


# -- creating --------------------------------------------------------------------------------


def taken_keys(session: Session, workspace_id: int, keys: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        taken.update(
            session.scalars(
                select(DiscountCode.code_key).where(
                    DiscountCode.workspace_id == workspace_id, DiscountCode.code_key.in_(chunk)
                )
            )
        )
    return taken


def _row(workspace_id: int, owner: CodeOwner, code: str, kind: str, value: Decimal | None) -> dict:
    return {
        "workspace_id": workspace_id,
        "code": code,
        "code_key": code.upper(),
        "creator_id": owner.creator_id,
        "campaign_id": owner.campaign_id,
        "deal_id": owner.deal_id,
        "kind": kind,
        "value": value,
        "single_use": False,
        "batch": None,
        "created_at": utcnow(),
    }


def insert_codes(session: Session, rows: list[dict]) -> bool:
    """Insert inside a savepoint; False (and nothing written) if a key was taken meanwhile."""
    try:
        with session.begin_nested():
            session.execute(insert(DiscountCode), rows)
    except IntegrityError:
        return False
    return True


def create_code(
    session: Session,
    workspace_id: int,
    owner: CodeOwner,
    *,
    kind: str = "percent",
    value: object = None,
    code: str | None = None,
    suffix_length: int = SUFFIX_DEFAULT,
) -> DiscountCode:
    """One code for ``owner``: ``code`` as given if it is free (ConflictError if not), else a
    generated one, drawn again until free."""
    kind = parse_kind(kind)
    amount = parse_value(kind, value)
    suffix_length = parse_suffix_length(suffix_length)
    if code is not None:
        custom = parse_custom(code)
        if taken_keys(session, workspace_id, [custom.upper()]) or not insert_codes(
            session, [_row(workspace_id, owner, custom, kind, amount)]
        ):
            raise ConflictError(f"the code {custom.upper()} is already taken in this workspace")
        return _by_key(session, workspace_id, custom.upper())
    for _ in range(ATTEMPTS):
        candidate = generate(owner.stem, kind, amount, suffix_length)
        if taken_keys(session, workspace_id, [candidate]):
            continue
        if insert_codes(session, [_row(workspace_id, owner, candidate, kind, amount)]):
            return _by_key(session, workspace_id, candidate)
    raise ConflictError(
        f"no free code for {owner.stem} after {ATTEMPTS} draws: use a longer random part"
    )


def _by_key(session: Session, workspace_id: int, key: str) -> DiscountCode:
    found = session.scalar(
        select(DiscountCode).where(
            DiscountCode.workspace_id == workspace_id, DiscountCode.code_key == key
        )
    )
    assert found is not None
    return found


def create_batch(
    session: Session,
    workspace_id: int,
    owner: CodeOwner,
    *,
    count: int,
    batch: str,
    kind: str = "percent",
    value: object = None,
    suffix_length: int = SUFFIX_BATCH,
) -> list[DiscountCode]:
    """``count`` single-use codes for ``owner`` under one batch label, all inserted or none."""
    kind = parse_kind(kind)
    amount = parse_value(kind, value)
    suffix_length = parse_suffix_length(suffix_length)
    if not 1 <= count <= BATCH_MAX:
        raise InputError(f"a batch holds 1 to {BATCH_MAX} codes", field="count")
    label = (batch or "").strip()
    if not label or len(label) > 64:
        raise InputError("a batch needs a label of 1 to 64 characters", field="batch")
    if session.scalar(
        select(func.count())
        .select_from(DiscountCode)
        .where(DiscountCode.workspace_id == workspace_id, DiscountCode.batch == label)
    ):
        raise ConflictError(f"the batch {label!r} exists already in this workspace")
    for _ in range(ATTEMPTS):
        candidates = {generate(owner.stem, kind, amount, suffix_length) for _ in range(count * 2)}
        free = sorted(set(candidates) - taken_keys(session, workspace_id, sorted(candidates)))
        if len(free) < count:
            continue
        chosen = [free[i] for i in sorted(secrets.SystemRandom().sample(range(len(free)), count))]
        rows = [
            {**_row(workspace_id, owner, c, kind, amount), "single_use": True, "batch": label}
            for c in chosen
        ]
        if insert_codes(session, rows):
            return list_codes(session, workspace_id, batch=label)
    raise ConflictError(f"no {count} free codes for {owner.stem}: use a longer random part")


# -- reading and disabling -------------------------------------------------------------------


def list_codes(
    session: Session,
    workspace_id: int,
    *,
    creator_id: int | None = None,
    campaign_id: int | None = None,
    batch: str | None = None,
    include_disabled: bool = True,
) -> list[DiscountCode]:
    query = select(DiscountCode).where(DiscountCode.workspace_id == workspace_id)
    if creator_id is not None:
        query = query.where(DiscountCode.creator_id == creator_id)
    if campaign_id is not None:
        query = query.where(DiscountCode.campaign_id == campaign_id)
    if batch is not None:
        query = query.where(DiscountCode.batch == batch)
    if not include_disabled:
        query = query.where(DiscountCode.disabled_at.is_(None))
    return list(session.scalars(query.order_by(DiscountCode.code_key)))


def find_code(session: Session, workspace_id: int, code: str) -> DiscountCode:
    found = session.scalar(
        select(DiscountCode).where(
            DiscountCode.workspace_id == workspace_id,
            DiscountCode.code_key == (code or "").strip().upper(),
        )
    )
    if found is None:
        raise NotFoundError(f"no code {(code or '').strip()[:64]!r} in this workspace")
    return found


def get_code(session: Session, workspace_id: int, code_id: int) -> DiscountCode:
    found = session.scalar(
        select(DiscountCode).where(
            DiscountCode.workspace_id == workspace_id, DiscountCode.id == code_id
        )
    )
    if found is None:
        raise NotFoundError(f"no code with id {code_id}")
    return found


def disable_code(
    session: Session, workspace_id: int, code: str, when: dt.datetime | None = None
) -> DiscountCode:
    """Stop counting new uses of a code (it still attributes the orders it already earned)."""
    found = find_code(session, workspace_id, code)
    if found.disabled_at is None:
        session.execute(
            update(DiscountCode)
            .where(DiscountCode.id == found.id)
            .values(disabled_at=when or utcnow())
        )
        session.refresh(found)
    return found
