"""/api/v1/templates: the workspace's message templates, checked by the sandbox's rules when
saved, and previewed for a deal without sending (docs/relationships.md, "Outreach")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from microfluence.catalog.schemas import Page
from microfluence.outreach import template_records as records
from microfluence.outreach.composing import Draft, preview
from microfluence.outreach.schemas import (
    DraftPreview,
    Preview,
    TemplateCreate,
    TemplatePublic,
    TemplateUpdate,
)
from microfluence.outreach.unsubscribe import Links, links_for
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.api.workspace import base_url
from microfluence.web.deps import ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(prefix="/templates", tags=["outreach"])
TemplateId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def message_links(request: Request, store: StoreDep) -> Links:
    """Links for messages rendered by this request, under the app's public address."""
    return links_for(store, base_url(request))


def preview_of(draft: Draft) -> Preview:
    return Preview(
        deal_id=draft.deal_id,
        creator_id=draft.creator_id,
        to=draft.to,
        subject=draft.subject,
        body=draft.body,
        skip_reason=draft.skip_reason,
    )


@router.get("", responses=READ_ERRORS)
def list_templates(db: DbSession, caller: ApiReader) -> Page[TemplatePublic]:
    """The workspace's templates, by name."""
    found = records.list_templates(db, caller.workspace_id)
    return Page(data=[TemplatePublic(**records.public(t)) for t in found], count=len(found))


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_template(db: DbSession, caller: ApiWriter, body: TemplateCreate) -> TemplatePublic:
    """Save a template; a syntax error, an unknown field or anything the sandbox refuses is
    a 422 naming the part (subject or body) and the line; a name taken is a 409."""
    made = records.add_template(
        db, caller.workspace_id, name=body.name, subject=body.subject, body=body.body
    )
    return TemplatePublic(**records.public(made))


@router.post("/preview", responses=WRITE_ERRORS)
def preview_draft(
    request: Request, db: DbSession, store: StoreDep, caller: ApiWriter, body: DraftPreview
) -> Preview:
    """Render a subject and body being edited for a deal (the pages' live preview); nothing
    is stored or sent."""
    links = message_links(request, store)
    draft = preview(
        db, caller.workspace_id, body.deal_id, links, subject=body.subject, body=body.body
    )
    return preview_of(draft)


@router.get("/{template_id}", responses=ITEM_ERRORS)
def get_template(db: DbSession, caller: ApiReader, template_id: TemplateId) -> TemplatePublic:
    return TemplatePublic(
        **records.public(records.get_template(db, caller.workspace_id, template_id))
    )


@router.patch("/{template_id}", responses=WRITE_ERRORS)
def update_template(
    db: DbSession, caller: ApiWriter, template_id: TemplateId, body: TemplateUpdate
) -> TemplatePublic:
    changed = records.update_template(
        db, caller.workspace_id, template_id, name=body.name, subject=body.subject, body=body.body
    )
    return TemplatePublic(**records.public(changed))


@router.delete("/{template_id}", status_code=204, responses=WRITE_ERRORS)
def delete_template(db: DbSession, caller: ApiWriter, template_id: TemplateId) -> Response:
    """Delete a template (409 while a sequence uses it); sent messages keep their text."""
    records.delete_template(db, caller.workspace_id, template_id)
    return Response(status_code=204)


@router.get("/{template_id}/preview", responses=ITEM_ERRORS)
def preview_template(
    request: Request,
    db: DbSession,
    store: StoreDep,
    caller: ApiReader,
    template_id: TemplateId,
    deal_id: Annotated[int, Query(ge=1, le=2**31 - 1, description="The deal to render for.")],
) -> Preview:
    """The message this template makes for a deal, without sending it: to whom, the subject
    and body, and why the creator would be skipped (no address, do-not-contact)."""
    template = records.get_template(db, caller.workspace_id, template_id)
    links = message_links(request, store)
    return preview_of(preview(db, caller.workspace_id, deal_id, links, template=template))
