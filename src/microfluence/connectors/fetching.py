"""Fetching accounts from a platform's API into the workspace: the one service behind
`microfluence fetch`, ``POST /api/v1/connectors/{platform}/fetch`` and the refreshes.

Each handle is read in turn; one that cannot be read (no such channel, a personal Instagram
account) is reported and the run goes on; when the run must stop (quota spent, rate limited
for long, credentials refused) it stops cleanly. Either way what was fetched is written in one
import run (connectors.profiles) and the workspace is re-scored, the same path as
`microfluence score` (metrics.service.compute_metrics)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from microfluence.connectors.credentials import check_platform, get_credential, open_secret
from microfluence.connectors.http import ConnectorError, NotReadable, Sleep, StopRun
from microfluence.connectors.instagram import Instagram, instagram_client
from microfluence.connectors.profiles import Profile, write_profiles
from microfluence.connectors.quota import YOUTUBE_COSTS, QuotaMeter, budget_of
from microfluence.connectors.settings import connector_settings
from microfluence.connectors.youtube import YouTube, unique, youtube_client
from microfluence.ingest.report import ImportReport
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.workspaces import get_workspace
from microfluence.metrics.service import compute_metrics

log = logging.getLogger("microfluence.connectors")

MAX_TARGETS = 500
SEARCH_COST = YOUTUBE_COSTS["search.list"]
# (done, total, handle just read)
Progress = Callable[[int, int, str], None]
Connector = YouTube | Instagram


@dataclass
class FetchOutcome:
    """What a fetch did: handles read, those that could not be, and why it stopped early."""

    platform: str
    fetched: list[str] = field(default_factory=list)
    not_readable: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None
    not_tried: list[str] = field(default_factory=list)
    units: int = 0
    unavailable_posts: int = 0
    report: ImportReport | None = None
    scored: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "fetched": self.fetched,
            "not_readable": self.not_readable,
            "stopped": self.stopped,
            "not_tried": self.not_tried,
            "units": self.units,
            "unavailable_posts": self.unavailable_posts,
            "import_id": self.report.import_id if self.report else None,
            "created": self.report.created if self.report else {},
            "updated": self.report.updated if self.report else {},
            "scored": self.scored,
        }


@contextmanager
def connector(
    store: Store, workspace_id: int, platform: str, sleep: Sleep | None = None
) -> Iterator[Connector]:
    """The platform's client with the workspace's credentials and quota meter."""
    settings = connector_settings()
    with store.session() as session:
        row = get_credential(session, workspace_id, platform)
        secret = open_secret(row)
        meter = QuotaMeter(store, workspace_id, row.id, platform, budget_of(row))
        account = row.business_account_id
    if platform == "youtube":
        client: Connector = youtube_client(settings, secret, meter, sleep)
    else:
        client = instagram_client(settings, secret, str(account), meter, sleep)
    try:
        yield client
    finally:
        client.api.close()


def read_profile(client: Connector, target: str) -> Profile:
    settings = connector_settings()
    if isinstance(client, YouTube):
        return client.profile(target, settings.youtube_recent_videos)
    return client.profile(target, settings.instagram_recent_media)


def read_all(
    client: Connector,
    targets: list[str],
    outcome: FetchOutcome,
    progress: Progress | None = None,
) -> list[Profile]:
    """Read ``targets`` in turn into ``outcome``; stops at the first :class:`StopRun`."""
    profiles: list[Profile] = []
    for index, target in enumerate(targets):
        try:
            profile = read_profile(client, target)
        except NotReadable as exc:
            outcome.not_readable[target] = exc.message
        except StopRun as exc:
            outcome.stopped = exc.message
            outcome.not_tried = targets[index:]
            break
        except ConnectorError as exc:
            outcome.not_readable[target] = exc.message
        else:
            profiles.append(profile)
            outcome.fetched.append(profile.handle)
            outcome.unavailable_posts += profile.unavailable_posts
        if progress is not None:
            progress(index + 1, len(targets), target)
    return profiles


def _unique_profiles(profiles: list[Profile]) -> list[Profile]:
    by_handle = {p.handle.lower(): p for p in profiles}
    return list(by_handle.values())


def save(
    store: Store, workspace: str, outcome: FetchOutcome, profiles: list[Profile], rescore: bool
) -> None:
    """Write what was fetched (one import run) and re-score the workspace."""
    if not profiles:
        return
    outcome.report = write_profiles(store, workspace, outcome.platform, _unique_profiles(profiles))
    if rescore:
        compute_metrics(store, workspace)
        outcome.scored = True


def check_targets(targets: list[str]) -> list[str]:
    cleaned = unique(t.strip() for t in targets)
    if not cleaned:
        raise InputError("name at least one handle or channel to fetch", field="handles")
    if len(cleaned) > MAX_TARGETS:
        raise InputError(f"at most {MAX_TARGETS} handles a fetch", field="handles")
    return cleaned


def fetch_accounts(
    store: Store,
    workspace: str,
    platform: str,
    targets: list[str],
    *,
    progress: Progress | None = None,
    rescore: bool = True,
    sleep: Sleep | None = None,
) -> FetchOutcome:
    """Fetch ``targets`` (YouTube: channel ids, @handles or user:names; Instagram: user
    names) from ``platform`` into ``workspace``."""
    platform = check_platform(platform)
    targets = check_targets(targets)
    with store.session() as session:
        workspace_id = get_workspace(session, workspace).id
    outcome = FetchOutcome(platform=platform)
    with connector(store, workspace_id, platform, sleep) as client:
        try:
            profiles = read_all(client, targets, outcome, progress)
        finally:
            outcome.units = client.meter.spent
    save(store, workspace, outcome, profiles, rescore)
    return outcome


def search_youtube(
    store: Store,
    workspace: str,
    keyword: str,
    *,
    limit: int = 10,
    confirm: bool = False,
    progress: Progress | None = None,
    rescore: bool = True,
    sleep: Sleep | None = None,
) -> FetchOutcome:
    """Find channels by ``keyword`` with ``search.list`` and fetch them. The search alone costs
    100 units: it is refused unless ``confirm`` says the caller accepts that."""
    text = (keyword or "").strip()
    if not text or len(text) > 200:  # noqa: PLR2004 - a search box's length
        raise InputError("the search needs a keyword of 1 to 200 characters", field="keyword")
    if not 1 <= limit <= 50:  # noqa: PLR2004 - search.list's maxResults
        raise InputError("the search returns 1 to 50 channels", field="limit")
    if not confirm:
        raise InputError(
            f"a YouTube search costs {SEARCH_COST} quota units (plus about "
            f"{2 + connector_settings().youtube_recent_videos // 50} per channel fetched): "
            'confirm it (--yes, or "confirm": true)',
            field="confirm",
        )
    with store.session() as session:
        workspace_id = get_workspace(session, workspace).id
    outcome = FetchOutcome(platform="youtube")
    with connector(store, workspace_id, "youtube", sleep) as client:
        assert isinstance(client, YouTube)
        try:
            ids = client.search_channels(text, limit)
            profiles = read_all(client, ids, outcome, progress)
        except StopRun as exc:
            outcome.stopped = exc.message
            profiles = []
        finally:
            outcome.units = client.meter.spent
    save(store, workspace, outcome, profiles, rescore)
    return outcome
