"""The REST API, version 1: every route answers for the workspace of the caller's API key."""

from __future__ import annotations

from fastapi import APIRouter

from microfluence.web.api import (
    accounts,
    campaigns,
    codes,
    creators,
    discovery,
    exports,
    gifting,
    imports,
    invitations,
    jobs,
    labels,
    links,
    measurement,
    niches,
    outreach,
    pipeline,
    planning,
    posts,
    privacy,
    products,
    relations,
    reminders,
    schedules,
    shops,
    templates,
    vetting,
    workspace,
)

router = APIRouter(prefix="/api/v1")
for module in (
    workspace,
    invitations,
    creators,
    accounts,
    posts,
    imports,
    jobs,
    schedules,
    exports,
    vetting,
    labels,
    privacy,
    campaigns,
    links,
    codes,
    shops,
    measurement,
    pipeline,
    reminders,
    templates,
    outreach,
    relations,
    products,
    gifting,
    niches,
    discovery,
    planning,
):
    router.include_router(module.router)
