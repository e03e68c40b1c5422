"""The library face: microfluence from a notebook or a script.

The fourth face beside the CLI, the REST API and the pages, and as thin as they are: every
method calls the service function the matching command calls, and returns what it returns
(an ``ImportReport``, a ``ScoreSummary``, a ``VettingReport``…) or a Polars frame. Users reach
it through the names exported by ``microfluence`` itself (``microfluence.open_workspace``);
everything else in the package is private by convention and may change between versions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select

from microfluence.authenticity.followers.audit import FollowerAudit, audit_follower_file
from microfluence.authenticity.labels.files import LabelImport, import_labels_file
from microfluence.authenticity.labels.status import LabelStatus, label_status
from microfluence.authenticity.vetting.html import write_report
from microfluence.authenticity.vetting.report import (
    VettingReport,
    parse_account_reference,
    vet_account,
)
from microfluence.campaigns.campaigns import create_campaign, find_campaign_by_name, list_campaigns
from microfluence.campaigns.deals import add_deal, find_deal_by_reference
from microfluence.campaigns.deliverables import list_deliverables
from microfluence.campaigns.product_files import ProductImport, import_products
from microfluence.campaigns.products import (
    ProductCreate,
    ProductPublic,
    add_product,
    list_products,
)
from microfluence.campaigns.schemas import (
    CampaignCreate,
    CampaignPublic,
    DealCreate,
    DealPublic,
    MatchSummary,
    parse_model,
)
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.catalog.listing import MAX_LIMIT, Window
from microfluence.connectors import credentials as connector_credentials
from microfluence.connectors.credentials import CredentialInfo
from microfluence.connectors.fetching import FetchOutcome, fetch_accounts, search_youtube
from microfluence.connectors.oauth import flow as oauth_flow
from microfluence.connectors.oauth import grants as oauth_grants
from microfluence.connectors.oauth import insights as oauth_insights
from microfluence.connectors.refresh import RefreshResult, refresh_workspace
from microfluence.connectors.status import Connection as PlatformConnection
from microfluence.connectors.status import connections as platform_connections
from microfluence.discovery import niches as discovery_niches
from microfluence.discovery import saved, shortlists
from microfluence.discovery.niches import AccountNiches, NicheRun
from microfluence.discovery.quality import refresh_quality
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.saved import SavedInfo
from microfluence.discovery.search import SearchPage
from microfluence.discovery.search import search as run_search
from microfluence.discovery.shortlists import AddResult, ShortlistDetail, ShortlistInfo
from microfluence.discovery.vectors import recompute_vectors
from microfluence.export.privacy import creator_record
from microfluence.export.tables import (
    EXPORT_FORMATS,
    creators_query,
    export_creators,
    export_posts,
    posts_query,
)
from microfluence.ingest.followers import import_followers
from microfluence.ingest.instagram.importer import import_instagram
from microfluence.ingest.report import ImportReport
from microfluence.ingest.tables.creators import import_creators
from microfluence.ingest.tables.posts import import_posts
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store, open_store
from microfluence.kernel.workspaces import ensure_workspace, get_workspace
from microfluence.measurement import emv
from microfluence.measurement.payouts import payouts, write_payouts
from microfluence.measurement.report import campaign_days, report_by_name
from microfluence.measurement.schemas import CampaignReport
from microfluence.measurement.sources import Period
from microfluence.metrics.cluster import spark_options
from microfluence.metrics.service import ScoreSummary, compute_metrics
from microfluence.outreach import template_records as outreach_records
from microfluence.outreach.composing import preview as outreach_preview
from microfluence.outreach.runner import run_outreach, send_campaign
from microfluence.outreach.targets import campaign_of, deal_ids_for
from microfluence.outreach.unsubscribe import links_for
from microfluence.planning.learn import DRAWS as LEARN_DRAWS
from microfluence.planning.learn import creator_posteriors
from microfluence.planning.learn import report_by_names as learn_by_names
from microfluence.planning.learn_schemas import LearnReport
from microfluence.planning.learn_split import DEFAULT_EXPLORE, DEFAULT_MAX_MULTIPLE
from microfluence.planning.planner import make_plan
from microfluence.planning.prices import AccountPrices, account_prices
from microfluence.planning.schemas import PlanDeals, PlanResult, plan_request
from microfluence.planning.todeals import plan_to_deals
from microfluence.relationships import pipeline as deal_pipeline
from microfluence.relationships import records as relation_records
from microfluence.relationships import reminder_settings, tasks
from microfluence.relationships.audit import AuditEntry, audit_log, command_line_actor
from microfluence.relationships.contact import lift_do_not_contact
from microfluence.relationships.gifting import (
    GiftCreate,
    GiftPublic,
    GiftUpdate,
    add_gift,
    deal_of_gift,
    list_gifts,
    update_gift,
)
from microfluence.relationships.history import DealHistory, deals_with_results
from microfluence.relationships.partners import set_partner
from microfluence.relationships.pipeline_stats import pipeline_stats
from microfluence.relationships.portal import PortalLinkMade, create_portal_link
from microfluence.relationships.privacy import ErasureReport, erase_creator
from microfluence.relationships.prospects import add_prospects
from microfluence.relationships.records import RecordSummary, RelationRecord
from microfluence.relationships.reminders import Reminders, reminders
from microfluence.relationships.schemas import Board, Event, MoveResult, ProspectsResult, Stats
from microfluence.relationships.submissions import (
    Review,
    SubmissionPublic,
    list_submissions,
    review,
)
from microfluence.relationships.task_schemas import TaskCreate, TaskPublic, TaskUpdate
from microfluence.tracking.counts import click_counts
from microfluence.tracking.deliverables import match_deliverables
from microfluence.tracking.links import (
    LinkCreate,
    LinkPublic,
    create_link,
    list_links,
    public_base,
)

PathLike = str | os.PathLike[str]
ColumnMap = Mapping[str, str] | Sequence[str] | None  # FIELD -> COLUMN, or "FIELD=COLUMN" texts


def open_workspace(name: str, database_url: str | None = None, *, create: bool = True) -> Workspace:
    """Open workspace ``name`` in the store at ``database_url``.

    The default store is the one every command uses (``MICROFLUENCE_DATABASE_URL``, else a
    SQLite file in your data directory), brought up to the current schema. The workspace is
    created when missing, as the importers do; ``create=False`` raises ``NotFoundError``
    instead, so a typo in a notebook does not silently start an empty workspace.
    """
    store = open_store(database_url)
    try:
        with store.transaction() as session:
            workspace = ensure_workspace(session, name) if create else get_workspace(session, name)
            name = workspace.name
    except BaseException:
        store.dispose()
        raise
    return Workspace(name, store)


def audit_followers(
    path: PathLike,
    output: PathLike | None = None,
    *,
    method: str = "acc",
    confidence: float = 0.95,
) -> FollowerAudit:
    """Score a follower file with the shipped model (no store needed): each follower's fake
    probability (written to ``output`` when given) and the sample's corrected fake share."""
    return audit_follower_file(path, output, method=method, confidence=confidence)


class Workspace:
    """One workspace of one store: import into it, score it, vet its accounts, read it back.

    Close it (or use it in a ``with`` block) to release the store's connections.
    """

    def __init__(self, name: str, store: Store) -> None:
        self.name = name
        self._store = store

    def __repr__(self) -> str:
        return f"Workspace({self.name!r}, store={self._store.dialect})"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the store's connections; the workspace cannot be used after."""
        self._store.dispose()

    # -- importing: the importers of `microfluence import …` ----------------------------------
    def import_creators(
        self,
        path: PathLike,
        *,
        platform: str | None = None,
        mapping: ColumnMap = None,
        skip_invalid: bool = False,
        rejects: PathLike | None = None,
        captured_at: dt.datetime | None = None,
        rate_scale: str = "auto",
    ) -> ImportReport:
        """Import a creators table (CSV, TSV, JSON Lines, Parquet), as `import creators`."""
        return import_creators(
            self._store,
            self.name,
            path,
            platform=platform,
            mapping=mapping,
            skip_invalid=skip_invalid,
            rejects_path=rejects,
            captured_at=captured_at,
            rate_scale=rate_scale,
        )

    def import_posts(
        self,
        path: PathLike,
        *,
        platform: str | None = None,
        mapping: ColumnMap = None,
        skip_invalid: bool = False,
        rejects: PathLike | None = None,
    ) -> ImportReport:
        """Import a posts table (scraper output), as `microfluence import posts`."""
        return import_posts(
            self._store,
            self.name,
            path,
            platform=platform,
            mapping=mapping,
            skip_invalid=skip_invalid,
            rejects_path=rejects,
        )

    def import_instagram(
        self,
        *paths: PathLike,
        skip_invalid: bool = False,
        rejects: PathLike | None = None,
        captured_at: dt.datetime | None = None,
    ) -> ImportReport:
        """Import Instagram JSON files or folders of them, as `microfluence import instagram`."""
        if not paths:
            raise InputError("give at least one Instagram JSON file or folder", field="paths")
        return import_instagram(
            self._store,
            self.name,
            [os.fspath(p) for p in paths],
            skip_invalid=skip_invalid,
            rejects_path=rejects,
            captured_at=captured_at,
        )

    def import_followers(
        self,
        path: PathLike,
        *,
        account: str,
        skip_invalid: bool = False,
        rejects: PathLike | None = None,
        sampled_at: dt.datetime | None = None,
    ) -> ImportReport:
        """Import a follower sample of ``account`` (PLATFORM:HANDLE), as `import followers`."""
        return import_followers(
            self._store,
            self.name,
            path,
            account=account,
            skip_invalid=skip_invalid,
            rejects_path=rejects,
            sampled_at=sampled_at,
        )

    # -- computing ------------------------------------------------------------------------------
    def score(
        self,
        *,
        engine: str = "duckdb",
        spark_master: str | None = None,
        spark_conf: Mapping[str, str] | None = None,
        spark_staging: str | None = None,
    ) -> ScoreSummary:
        """Recompute tiers, engagement, growth and cohorts, as `microfluence score`; on
        ``engine="spark"``, optionally on a cluster (``spark_master``, extra ``spark_conf``,
        ``spark_staging``: as `--spark-master`, `--spark-conf`, `--spark-staging`)."""
        options = None
        if engine == "spark":
            pairs = [f"{k}={v}" for k, v in (spark_conf or {}).items()]
            options = spark_options(spark_master, pairs, spark_staging)
        elif spark_master or spark_conf or spark_staging:
            raise InputError("the Spark options go with engine='spark'", field="engine")
        return compute_metrics(self._store, self.name, engine=engine, spark_options=options)

    def vet(
        self,
        account: str,
        *,
        html: PathLike | None = None,
        brand_safety: Mapping[str, Any] | None = None,
    ) -> VettingReport:
        """The Audience Quality Score of ``account`` (PLATFORM:HANDLE) with its evidence, as
        `microfluence vet`; ``html`` also writes the standalone report there."""
        platform, handle = parse_account_reference(account)
        report = vet_account(
            self._store, self.name, platform, handle, brand_safety_overrides=brand_safety
        )
        if html is not None:
            write_report(report, Path(html))
        return report

    def import_labels(self, path: PathLike, *, by: str = "library") -> LabelImport:
        """Label followers of the stored samples from a ``username,label[,account]`` file, as
        `microfluence labels import`; all or nothing, a bad row named by its line."""
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            return import_labels_file(session, workspace_id, path, by=by)

    def label_status(self) -> LabelStatus:
        """What the workspace's labels say, as `microfluence labels status`: the model's
        measured accuracy, the re-estimated error rates, every fake share before and after."""
        with self._store.session() as session:
            return label_status(session, get_workspace(session, self.name).id)

    # -- campaigns: the services of `microfluence campaigns|deals|deliverables` ---------------
    def create_campaign(self, name: str, **fields: Any) -> CampaignPublic:
        """Create a campaign, as `campaigns create`; ``fields`` are those of docs/campaigns.md
        (``goal``, ``starts_on``, ``ends_on``, ``budget``, ``currency``, ``targets``,
        ``hashtags``, ``mentions``, ``attribution_days``, ``notes``)."""
        data = parse_model(CampaignCreate, {"name": name, **fields})
        with self._store.transaction() as session:
            return create_campaign(session, get_workspace(session, self.name).id, data)

    def campaigns(self) -> list[CampaignPublic]:
        """The workspace's campaigns, as `campaigns list`."""
        with self._store.session() as session:
            return list_campaigns(session, get_workspace(session, self.name).id)

    def add_deal(self, campaign: str, creator: str, **fields: Any) -> DealPublic:
        """Add the creator of account ``creator`` (PLATFORM:HANDLE) to campaign ``campaign``
        (its name), as `deals add`: ``flat_fee``, ``product_value``, ``shipping_cost``,
        ``commission_rate`` ("10%" or 0.10), ``package`` ({"feed_post": 2}), ``due``, ``notes``."""
        data = parse_model(DealCreate, {"creator": creator, **fields})
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return add_deal(session, workspace_id, found.id, data)

    def match_deliverables(self, campaign: str) -> MatchSummary:
        """Match the campaign's pending deliverables to posts, as `deliverables match`."""
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return match_deliverables(session, workspace_id, found.id)

    def deliverables(self, campaign: str) -> pl.DataFrame:
        """One row per deliverable of the campaign, as `deliverables list --json` gives them."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            pieces = list_deliverables(session, workspace_id, found.id)
        schema = {
            "id": pl.Int64,
            "deal_id": pl.Int64,
            "creator_id": pl.Int64,
            "creator_name": pl.String,
            "account": pl.String,
            "format": pl.String,
            "due_on": pl.Date,
            "status": pl.String,
            "post_id": pl.Int64,
            "post_url": pl.String,
            "posted_at": pl.Datetime("us", "UTC"),
            "matched_by": pl.String,
            "matched_at": pl.Datetime("us", "UTC"),
            "match_reason": pl.String,
            "rejected_post_ids": pl.List(pl.Int64),
        }
        return pl.DataFrame([p.model_dump() for p in pieces], schema=schema, orient="row")

    # -- the pipeline: the services of `microfluence pipeline` (docs/relationships.md) ---------
    def pipeline(self, campaign: str) -> Board:
        """The campaign's deals by stage, as `pipeline show`; ``.cards`` lists them all."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return deal_pipeline.board(session, workspace_id, found.id)

    def add_prospects(
        self, campaign: str, creators: Sequence[str], *, by: str = "library"
    ) -> ProspectsResult:
        """Add the creators of these accounts (PLATFORM:HANDLE) to the campaign as prospects, as
        `pipeline add`; those already in it come back in ``.already``."""
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return add_prospects(
                session, workspace_id, found.id, creators=creators, actor=by, source="library"
            )

    def move_deals(
        self, campaign: str, creators: Sequence[str], stage: str, *, by: str = "library"
    ) -> MoveResult:
        """Move the deals of these creators (PLATFORM:HANDLE) to ``stage``, all or none, as
        `pipeline move`; recorded as done by ``by``."""
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return deal_pipeline.move(
                session, workspace_id, found.id, stage, creators=creators, actor=by
            )

    def deal_history(self, campaign: str, creator: str) -> list[Event]:
        """The history of the creator's deal in the campaign, as `pipeline history`."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            deal = find_deal_by_reference(session, workspace_id, found.id, creator)
            return deal_pipeline.history(session, workspace_id, found.id, deal.id)

    def pipeline_stats(self, campaign: str) -> Stats:
        """Deals per stage, time in stage and conversion, as `pipeline stats`."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return pipeline_stats(session, workspace_id, found.id)

    # -- products, gifts and the creator portal (docs/relationships.md) ----------------------
    def add_product(self, sku: str, name: str, value: Any, **fields: Any) -> ProductPublic:
        """Add a product to the catalogue, as `products add` (``currency``, ``description``)."""
        data = parse_model(ProductCreate, {"sku": sku, "name": name, "value": value, **fields})
        with self._store.transaction() as session:
            return add_product(session, get_workspace(session, self.name).id, data)

    def products(self, *, active_only: bool = False) -> list[ProductPublic]:
        """The catalogue, as `products list`."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            return list_products(session, workspace_id, active_only=active_only)

    def import_products(self, path: PathLike) -> ProductImport:
        """Add or update products from a CSV file, as `products import`."""
        source = Path(path)
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            return import_products(session, workspace_id, source, str(source))

    def _deal_id(self, session: Any, campaign: str, creator: str) -> tuple[int, int]:
        workspace_id = get_workspace(session, self.name).id
        found = find_campaign_by_name(session, workspace_id, campaign)
        return workspace_id, find_deal_by_reference(session, workspace_id, found.id, creator).id

    def add_gift(
        self, campaign: str, creator: str, *, by: str = "library", **fields: Any
    ) -> GiftPublic:
        """Add a gift to the creator's deal, as `gifts add`: ``sku`` (from the catalogue) or
        ``name`` and ``value``, ``quantity``, ``address`` (a dict of its fields)."""
        data = parse_model(GiftCreate, fields)
        with self._store.transaction() as session:
            workspace_id, deal_id = self._deal_id(session, campaign, creator)
            return add_gift(session, workspace_id, deal_id, data, actor=by)

    def gifts(self, campaign: str, creator: str) -> list[GiftPublic]:
        """The deal's gifts, as `gifts list`."""
        with self._store.session() as session:
            workspace_id, deal_id = self._deal_id(session, campaign, creator)
            return list_gifts(session, workspace_id, deal_id)

    def set_gift_status(
        self, gift_id: int, status: str, *, by: str = "library", **fields: Any
    ) -> GiftPublic:
        """Move a gift to ``status`` (``carrier``, ``tracking_number`` when it ships), as
        `gifts ship|deliver|return|cancel`."""
        data = parse_model(GiftUpdate, {"status": status, **fields})
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            deal_id = deal_of_gift(session, workspace_id, gift_id)
            return update_gift(session, workspace_id, deal_id, gift_id, data, actor=by)

    def create_portal_link(
        self,
        campaign: str,
        creator: str,
        *,
        days: int | None = None,
        base: str | None = None,
        by: str = "library",
    ) -> PortalLinkMade:
        """A link to the deal's creator portal, as `portal-links create`: ``.url`` holds it
        this once (the store keeps its hash)."""
        with self._store.transaction() as session:
            workspace_id, deal_id = self._deal_id(session, campaign, creator)
            return create_portal_link(
                session, workspace_id, deal_id, created_by=by, days=days, base=public_base(base)
            )

    def submissions(self, campaign: str, *, status: str | None = None) -> list[SubmissionPublic]:
        """The campaign's drafts and live posts submitted for review, as `submissions list`."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return list_submissions(session, workspace_id, campaign_id=found.id, status=status)

    def review_submission(
        self,
        campaign: str,
        submission_id: int,
        *,
        approve: bool,
        note: str | None = None,
        by: str = "library",
    ) -> SubmissionPublic:
        """Approve a submission or ask for changes, as `submissions review`."""
        data = Review(decision="approved" if approve else "changes_requested", note=note)
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            found = find_campaign_by_name(session, workspace_id, campaign)
            return review(session, workspace_id, found.id, submission_id, data, reviewer=by)

    # -- tracking links: the services of `microfluence links` (docs/tracking.md) --------------
    def create_link(
        self,
        creator: str,
        url: str,
        *,
        campaign: str | None = None,
        utm: Mapping[str, str] | None = None,
    ) -> LinkPublic:
        """A short link of the creator's account ``PLATFORM:HANDLE`` to ``url`` tagged with the
        UTM defaults (``utm`` overrides them), as `links create`."""
        data = LinkCreate(creator=creator, url=url, campaign=campaign, utm=dict(utm or {}))
        with self._store.transaction() as session:
            return create_link(session, get_workspace(session, self.name).id, data)

    def links(self) -> list[LinkPublic]:
        """Every short link, newest first, with its clicks, unique clicks and bot clicks."""
        with self._store.transaction() as session:
            return list_links(session, get_workspace(session, self.name).id)

    def click_counts(self, *, by: str = "link", daily: bool = False) -> pl.DataFrame:
        """Clicks, unique clicks and bot clicks per ``link``, ``creator`` or ``campaign`` (and
        per UTC ``day`` with ``daily``) → one row per group."""
        with self._store.transaction() as session:
            return click_counts(session, get_workspace(session, self.name).id, by=by, daily=daily)

    # -- measurement: the services of `microfluence report` (docs/measurement.md) -------------
    def campaign_report(
        self,
        campaign: str,
        *,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> CampaignReport:
        """The KPIs of campaign ``campaign`` (its name) per creator, in total, per day and
        against its targets, over the UTC days ``start`` … ``end`` (all by default), as
        `report campaign --json` gives them."""
        period = Period.parse(start, end)
        with self._store.session() as session:
            return report_by_name(session, get_workspace(session, self.name), campaign, period)

    def campaign_days(
        self,
        campaign: str,
        *,
        by_creator: bool = False,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> pl.DataFrame:
        """The campaign's KPIs per UTC day (and per deal with ``by_creator``): clicks, orders,
        revenue, conversion rate… — the time series of the report, as a frame."""
        period = Period.parse(start, end)
        with self._store.session() as session:
            workspace = get_workspace(session, self.name)
            found = find_campaign_by_name(session, workspace.id, campaign)
            return campaign_days(session, workspace, found.id, period, by_deal=by_creator)

    def payouts(
        self,
        *,
        start: str | dt.date,
        end: str | dt.date,
        campaign: str | None = None,
        output: PathLike | None = None,
    ) -> pl.DataFrame:
        """Commission and fees owed per creator for the UTC days ``start`` … ``end`` (one row
        per creator and currency), as `report payouts`; ``output`` also writes the CSV."""
        period = Period.parse(start, end)
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            campaign_id = (
                find_campaign_by_name(session, workspace_id, campaign).id if campaign else None
            )
            rows = payouts(session, workspace_id, period, campaign_id=campaign_id)
        if output is not None:
            write_payouts(rows, Path(output))
        return rows

    def emv_rates(self, rates: Mapping[str, float] | None = None) -> dict[str, float]:
        """EMV's CPM per platform; with ``rates``, first set those (a workspace setting)."""
        with self._store.transaction() as session:
            workspace = get_workspace(session, self.name)
            if rates:
                return emv.set_emv_rates(session, workspace, rates)
            return emv.emv_rates(workspace)

    # -- test-and-learn: the service of `microfluence learn` (docs/planning.md) ----------------
    def learn(
        self,
        campaigns: Sequence[str],
        *,
        budget: float | None = None,
        explore: float = DEFAULT_EXPLORE,
        max_multiple: float = DEFAULT_MAX_MULTIPLE,
        draws: int = LEARN_DRAWS,
        seed: int = 0,
    ) -> LearnReport:
        """The tested creators of the named campaigns ranked by their posteriors, with 95 %
        intervals and flags, and the next round's budget split, as `learn --json` gives them."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            return learn_by_names(
                session,
                workspace_id,
                campaigns,
                budget=budget,
                explore=explore,
                max_multiple=max_multiple,
                draws=draws,
                seed=seed,
            )

    def creator_posteriors(
        self, campaigns: Sequence[str], *, draws: int = LEARN_DRAWS, seed: int = 0
    ) -> pl.DataFrame:
        """Per account tested in the named campaigns, the posteriors the planner reads (one
        row each; columns in docs/planning.md, "What the planner reads")."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            ids = [find_campaign_by_name(session, workspace_id, c).id for c in campaigns]
            return creator_posteriors(session, workspace_id, ids, draws=draws, seed=seed)

    # -- tasks and reminders: the services of `microfluence tasks|reminders` --------------------
    def reminders(
        self,
        *,
        campaign: str | None = None,
        assignee: str | None = None,
        today: dt.date | None = None,
    ) -> Reminders:
        """What needs attention (``today``, UTC by default), as `microfluence reminders`: only
        ``campaign``'s (its name); only the tasks assigned to ``assignee``."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            campaign_id = (
                find_campaign_by_name(session, workspace_id, campaign).id if campaign else None
            )
            return reminders(
                session, workspace_id, today=today, campaign_id=campaign_id, assignee=assignee
            )

    def reminder_thresholds(
        self, values: Mapping[str, int] | None = None, *, reset: bool = False
    ) -> dict[str, int]:
        """The reminders' thresholds in days; with ``values`` (or ``reset``), first set them."""
        with self._store.transaction() as session:
            workspace = get_workspace(session, self.name)
            if values or reset:
                return reminder_settings.set_thresholds(
                    session, workspace, values or {}, reset=reset
                )
            return reminder_settings.thresholds(workspace)

    def tasks(
        self,
        *,
        status: str = "open",
        campaign: str | None = None,
        assignee: str | None = None,
        kind: str | None = None,
    ) -> list[TaskPublic]:
        """The workspace's tasks, as `tasks list`: open first, soonest due first."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            campaign_id = (
                find_campaign_by_name(session, workspace_id, campaign).id if campaign else None
            )
            return tasks.list_tasks(
                session,
                workspace_id,
                status=status,
                campaign_id=campaign_id,
                assignee=assignee,
                kind=kind,
            )

    def add_task(self, title: str, *, by: str = "library", **fields: Any) -> TaskPublic:
        """Add a task, as `tasks add`: ``kind``, ``due_on`` (a date, "2026-07-01" or "+3d"),
        ``deal_id``, ``creator_id``, ``assignee``."""
        data = parse_model(TaskCreate, {"title": title, **fields})
        with self._store.transaction() as session:
            return tasks.create_task(session, get_workspace(session, self.name).id, data, actor=by)

    def edit_task(self, task_id: int, *, by: str = "library", **fields: Any) -> TaskPublic:
        """Change a task's fields, as `tasks edit` (``None`` clears a due date or assignee)."""
        data = parse_model(TaskUpdate, fields)
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            return tasks.update_task(session, workspace_id, task_id, data, actor=by)

    def complete_task(self, task_id: int, *, by: str = "library") -> TaskPublic:
        """Mark a task done, as `tasks done`."""
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            return tasks.complete_task(session, workspace_id, task_id, actor=by)

    def reopen_task(self, task_id: int, *, by: str = "library") -> TaskPublic:
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            return tasks.reopen_task(session, workspace_id, task_id, actor=by)

    def remove_task(self, task_id: int, *, by: str = "library") -> None:
        with self._store.transaction() as session:
            tasks.delete_task(session, get_workspace(session, self.name).id, task_id, actor=by)

    # -- outreach: the services of `microfluence templates|outreach` --------------------------
    def add_template(self, name: str, *, subject: str, body: str) -> dict[str, Any]:
        """Save a message template, as `templates add` (checked by the sandbox's rules)."""
        with self._store.transaction() as session:
            workspace_id = get_workspace(session, self.name).id
            made = outreach_records.add_template(
                session, workspace_id, name=name, subject=subject, body=body
            )
            return outreach_records.public(made)

    def preview_message(self, template: str, campaign: str, creator: str) -> dict[str, Any]:
        """The message ``template`` makes for ``creator`` (PLATFORM:HANDLE) in ``campaign``,
        nothing sent: ``to``, ``subject``, ``body``, ``skip_reason``."""
        links = links_for(self._store)
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
            found = outreach_records.find_template(session, workspace_id, template)
            target = campaign_of(session, workspace_id, campaign)
            (deal_id,) = deal_ids_for(session, workspace_id, target.id, [creator])
            draft = outreach_preview(session, workspace_id, deal_id, links, template=found)
        return {k: getattr(draft, k) for k in ("to", "subject", "body", "skip_reason")}

    def send_outreach(
        self,
        template: str,
        campaign: str,
        creators: list[str] | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Send a template to a campaign's creators (all, or those named), as `outreach
        send`: the messages with any skip reason, and what was delivered."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
        return send_campaign(
            self._store,
            workspace_id,
            links_for(self._store),
            template=template,
            campaign=campaign,
            creators=creators or [],
            actor="library",
            dry_run=dry_run,
        )

    def run_outreach(self) -> dict[str, Any]:
        """Queue the due sequence steps and send what is queued, as `outreach run`."""
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
        return run_outreach(self._store, workspace_id, links_for(self._store))

    # -- relationships (docs/relationships.md) --------------------------------------------------
    def relationship(self, creator: str | int) -> RelationRecord:
        """The record kept on a creator (id or ``PLATFORM:HANDLE``); the view is logged."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            return relation_records.get_record(session, ws, cid, command_line_actor("library"))

    def update_relationship(self, creator: str | int, **changes: Any) -> RelationRecord:
        """Change ``email``, ``phone``, ``address``, ``notes``, ``tags``, ``rating`` (None
        clears one); all checked before any is written."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            actor = command_line_actor("library")
            return relation_records.update_record(session, ws, cid, changes, actor)

    def tag_creator(
        self, creator: str | int, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> RelationRecord:
        """Add and remove tags (normalised: ``#Summer Gifting`` is ``summer-gifting``)."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            actor = command_line_actor("library")
            return relation_records.tag_creator(session, ws, cid, actor, add=add, remove=remove)

    def relationships(
        self,
        *,
        tags: Sequence[str] = (),
        partner: bool | None = None,
        do_not_contact: bool | None = None,
        min_rating: int | None = None,
    ) -> list[RecordSummary]:
        """Creators with a record, with every tag of ``tags``, filtered like the command."""
        with self._store.session() as session:
            ws = get_workspace(session, self.name).id
            page = relation_records.list_records(
                session,
                ws,
                tags=tags,
                partner=partner,
                do_not_contact=do_not_contact,
                min_rating=min_rating,
                window=Window(limit=MAX_LIMIT),
            )
        return page.data

    def mark_do_not_contact(self, creator: str | int, reason: str) -> RelationRecord:
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            actor = command_line_actor("library")
            return relation_records.mark_do_not_contact(session, ws, cid, reason, actor)

    def lift_do_not_contact(self, creator: str | int, reason: str) -> RelationRecord:
        """Let the creator be contacted again (the library acts as an owner), with a reason."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            actor = command_line_actor("library")
            lift_do_not_contact(session, ws, cid, reason=reason, role="owner", actor=actor)
            return relation_records.record_view(session, ws, cid)

    def set_partner(self, creator: str | int, **perks: Any) -> RelationRecord:
        """Long-term partner status and perks: ``partner``, ``since``, ``code``, ``new_code``
        ({"kind", "value", "code"}), ``early_access``, ``note``."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            return set_partner(session, ws, cid, command_line_actor("library"), **perks)

    def relationship_deals(self, creator: str | int) -> DealHistory:
        """The creator's deals across campaigns with cost, revenue and ROI."""
        with self._store.session() as session:
            workspace = get_workspace(session, self.name)
            cid = relation_records.creator_id_of(session, workspace.id, creator)
            return deals_with_results(session, workspace, cid)

    def creator_record(self, creator: str | int) -> dict[str, Any]:
        """Everything held about a creator, as `privacy creator` writes it (the export is
        logged)."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            return creator_record(session, ws, cid, command_line_actor("library"))

    def erase_creator(self, creator: str | int, *, reason: str) -> ErasureReport:
        """Erase the creator's personal data on request; deals and KPIs are kept."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            return erase_creator(session, ws, cid, command_line_actor("library"), reason=reason)

    def contact_audit(
        self, *, creator: str | int | None = None, action: str | None = None
    ) -> list[AuditEntry]:
        """Who viewed or changed contact data, newest first (the latest 500)."""
        with self._store.session() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator) if creator else None
            page = audit_log(
                session, ws, creator_id=cid, action=action, window=Window(limit=MAX_LIMIT)
            )
        return page.data

    # -- reading back ---------------------------------------------------------------------------
    def creators(self) -> pl.DataFrame:
        """One row per account: every stored field, its creator's, the latest snapshot and the
        last `score` run's tiers and metrics — the rows `microfluence export creators` writes."""
        return self._frame(creators_query)

    def posts(self) -> pl.DataFrame:
        """One row per post with its account's platform and handle, as `export posts` writes."""
        return self._frame(posts_query)

    def export(self, what: str, path: PathLike, *, format: str = "csv") -> int:
        """Write ``creators`` or ``posts`` to ``path`` (csv, json or jsonl); the rows written."""
        run = {"creators": export_creators, "posts": export_posts}.get(what)
        if run is None:
            raise InputError(f"export 'creators' or 'posts', not {what!r}", field="what")
        if format not in EXPORT_FORMATS:
            raise InputError(
                f"unknown format {format!r}; use one of {', '.join(EXPORT_FORMATS)}",
                field="format",
            )
        rows, _ = run(self._store, self.name, format, Path(path))
        return rows

    # -- niches (docs/discovery.md) -----------------------------------------------------------
    def recompute_niches(self, *, everything: bool = False) -> NicheRun:
        """Score the accounts whose posts or profile changed (all with ``everything``), as
        `microfluence niches`; the account vectors of semantic search follow."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            run = discovery_niches.recompute_niches(session, ws, everything=everything)
            recompute_vectors(session, ws, everything=everything)
            return run

    def niches(self, account: str) -> AccountNiches:
        """An account's (PLATFORM:HANDLE) niches, as `microfluence niches show`."""
        with self._store.session() as session:
            ws = get_workspace(session, self.name).id
            found = find_account_by_reference(session, ws, account)
            return discovery_niches.get_niches(session, ws, found.id)

    def set_niches(
        self, account: str, niches: Sequence[str], *, by: str = "library"
    ) -> AccountNiches:
        """Correct an account's niches by hand (``[]`` removes the correction), as
        `microfluence niches set`; a re-run never overwrites it."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            found = find_account_by_reference(session, ws, account)
            return discovery_niches.set_niches(session, ws, found.id, niches, by=by)

    # -- discovery: search, shortlists, saved searches (docs/discovery.md) --------------------
    def search(self, q: str | None = None, **filters: Any) -> SearchPage:
        """Accounts by words and filters, best first, each with ``why``, as `microfluence
        search`; ``filters`` are SearchQuery's (``niche``, ``tier``, ``country``, ``min_er``,
        ``min_quality``, ``weights``: a Weights or a dict, ``limit`` …) → SearchPage."""
        query = SearchQuery.from_dict({"q": q, **filters})
        with self._store.session() as session:
            return run_search(session, get_workspace(session, self.name).id, query)

    def prices(self, account: str) -> AccountPrices:
        """The price range of every format of ``PLATFORM:HANDLE``, as `microfluence prices`."""
        with self._store.session() as session:
            return account_prices(session, get_workspace(session, self.name).id, account)

    def plan(self, budget: float, objective: str = "revenue", **constraints: Any) -> PlanResult:
        """A budget plan with its alternatives, as `microfluence plan`; ``constraints`` are
        PlanRequest's (``max_creators``, ``niches={"beauty": {"min": 2}}``, ``min_aqs`` …)."""
        request = plan_request(budget=budget, objective=objective, **constraints)
        with self._store.session() as session:
            return make_plan(session, get_workspace(session, self.name), request)

    def plan_to_deals(
        self, plan: PlanResult, *, campaign: str | None = None, campaign_id: int | None = None
    ) -> int:
        """The plan's creators become deals of a new campaign named ``campaign`` (or of the
        campaign ``campaign_id``), all or none → the campaign's id."""
        items = [
            {"account": i.account, "format": i.format, "fee": i.price.mean} for i in plan.plan.items
        ]
        data = PlanDeals(campaign_id=campaign_id, campaign_name=campaign, items=items)
        with self._store.transaction() as session:
            return plan_to_deals(session, get_workspace(session, self.name).id, data)[0]

    def refresh_search_quality(self) -> int:
        """Store every account's Audience Quality Score for search, as `searches refresh`."""
        return refresh_quality(self._store, self.name)

    def shortlists(self) -> list[ShortlistInfo]:
        """The workspace's shortlists, as `shortlists list`."""
        with self._store.session() as session:
            return shortlists.list_shortlists(session, get_workspace(session, self.name).id)

    def create_shortlist(self, name: str, *, description: str | None = None) -> ShortlistInfo:
        """A new, empty shortlist, as `shortlists create`."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            return shortlists.create_shortlist(
                session, ws, name, description=description, actor="library"
            )

    def shortlist(self, shortlist_id: int) -> ShortlistDetail:
        """A shortlist with its creators and notes, as `shortlists show`."""
        with self._store.session() as session:
            ws = get_workspace(session, self.name).id
            return shortlists.get_shortlist(session, ws, shortlist_id)

    def add_to_shortlist(
        self,
        shortlist_id: int,
        accounts: Sequence[str] = (),
        *,
        account_ids: Sequence[int] = (),
        note: str | None = None,
    ) -> AddResult:
        """Add creators by PLATFORM:HANDLE or by account id (search results), all or none."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            return shortlists.add_entries(
                session,
                ws,
                shortlist_id,
                references=accounts,
                account_ids=account_ids,
                note=note,
                actor="library",
            )

    def export_shortlist(self, shortlist_id: int, path: PathLike) -> None:
        """Write the shortlist as CSV (formula cells neutralised), as `shortlists export`."""
        with self._store.session() as session:
            ws = get_workspace(session, self.name).id
            text = shortlists.export_csv(session, ws, shortlist_id)
        Path(path).write_text(text, encoding="utf-8")

    def shortlist_to_campaign(self, shortlist_id: int, campaign: str) -> ProspectsResult:
        """Every creator of the shortlist becomes a prospect of the campaign (by name)."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            target = find_campaign_by_name(session, ws, campaign).id
            return shortlists.to_campaign(session, ws, shortlist_id, target, actor="library")

    def save_search(self, name: str, q: str | None = None, **filters: Any) -> SavedInfo:
        """Save a search's parameters under ``name``, as `searches save`."""
        query = SearchQuery.from_dict({"q": q, **filters})
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            return saved.save_search(session, ws, name, query, actor="library")

    def run_saved_search(self, name: str) -> SearchPage:
        """Run a saved search again, as `searches run`."""
        with self._store.session() as session:
            return saved.run_saved(session, get_workspace(session, self.name).id, name)

    def connect_link(
        self, creator: str | int, platform: str, *, days: int = 7, base: str | None = None
    ) -> oauth_flow.InviteMade:
        """A link for the creator (id or ``PLATFORM:HANDLE``) to connect their account on
        ``platform`` (docs/connectors.md), as `microfluence authorisations link`; shown once."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            cid = relation_records.creator_id_of(session, ws, creator)
            return oauth_flow.create_invite(
                session, ws, cid, platform, by="library", days=days, base=public_base(base)
            )

    def authorisations(self) -> list[oauth_grants.AuthorisationPublic]:
        """The creators' authorisations with their status, never their tokens."""
        with self._store.session() as session:
            return oauth_grants.list_authorisations(session, get_workspace(session, self.name).id)

    def fetch_insights(self, authorisation_id: int) -> oauth_insights.FetchResult:
        """Read what the authorisation allows now; a refused grant is in ``.error``, with the
        authorisation marked expired or revoked."""
        with self._store.transaction() as session:
            ws = get_workspace(session, self.name).id
            return oauth_insights.fetch_insights(session, ws, authorisation_id)

    def account_insights(self, account: str) -> oauth_insights.AccountInsightsPublic:
        """An account's (PLATFORM:HANDLE) first-party numbers and whether they are verified."""
        with self._store.session() as session:
            ws = get_workspace(session, self.name).id
            found = find_account_by_reference(session, ws, account)
            return oauth_insights.account_insights(session, ws, found.id)

    # -- platform connectors (docs/connectors.md) ------------------------------------------

    def connect(
        self,
        platform: str,
        secret: str,
        *,
        business_account_id: str | None = None,
        daily_budget: int | None = None,
    ) -> CredentialInfo:
        """Set the workspace's credentials for ``youtube`` (an API key) or ``instagram`` (a
        user access token and ``business_account_id``), sealed; as `microfluence connect`."""
        with self._store.transaction() as session:
            ws = ensure_workspace(session, self.name).id
            return connector_credentials.set_credential(
                session,
                ws,
                platform,
                secret,
                business_account_id=business_account_id,
                daily_budget=daily_budget,
            )

    def connections(self) -> list[PlatformConnection]:
        """Each platform's connection: masked credentials, quota used today, the budget."""
        with self._store.session() as session:
            return platform_connections(session, get_workspace(session, self.name).id)

    def fetch(self, platform: str, handles: Sequence[str], *, rescore: bool = True) -> FetchOutcome:
        """Fetch accounts from ``platform``'s API into the workspace, as `microfluence fetch`."""
        return fetch_accounts(self._store, self.name, platform, list(handles), rescore=rescore)

    def search_youtube(
        self, keyword: str, *, limit: int = 10, confirm: bool = False
    ) -> FetchOutcome:
        """Find channels by keyword and fetch them; 100 quota units, so ``confirm=True``."""
        return search_youtube(self._store, self.name, keyword, limit=limit, confirm=confirm)

    def refresh(self, *, rescore: bool = True) -> RefreshResult:
        """Refresh the followed accounts (or continue an unfinished refresh), as
        `microfluence refresh`."""
        return refresh_workspace(self._store, self.name, rescore=rescore)

    def _frame(self, query_for: Callable[[Connection, int], Select]) -> pl.DataFrame:
        with self._store.session() as session:
            workspace_id = get_workspace(session, self.name).id
        with self._store.engine.connect() as conn:
            result = conn.execute(query_for(conn, workspace_id))
            names = list(result.keys())
            rows = result.all()
        if not rows:
            return pl.DataFrame(schema=names)
        return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
