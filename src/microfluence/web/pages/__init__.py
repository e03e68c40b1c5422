"""The web pages: server-rendered (Jinja2) faces over the same service functions as the CLI
and the API. ``create_app`` includes ``ROUTERS`` and renders browser errors with
``render_error``."""

from __future__ import annotations

from microfluence.web.pages import (
    account_pages,
    assets,
    campaigns,
    creators,
    dashboard,
    deal_page,
    emv_settings,
    home,
    imports,
    jobs,
    labels,
    links,
    niches,
    outreach,
    pipeline,
    planner,
    portal,
    products,
    relationship,
    reminder_thresholds,
    sales,
    search,
    session_pages,
    settings_pages,
    tasks,
    unsubscribe,
    vetting,
)
from microfluence.web.pages.errors import render_error

ROUTERS = [
    assets.router,
    session_pages.router,
    creators.router,
    vetting.router,
    imports.router,
    jobs.router,
    labels.router,
    sales.router,
    settings_pages.router,
    emv_settings.router,
    reminder_thresholds.router,
    account_pages.router,
    campaigns.router,
    dashboard.router,
    links.router,
    pipeline.router,
    home.router,
    tasks.router,
    outreach.router,
    unsubscribe.router,
    relationship.router,
    deal_page.router,
    links.router,
    portal.router,
    products.router,
    niches.router,
    search.router,
    planner.router,
]

__all__ = ["ROUTERS", "render_error"]
