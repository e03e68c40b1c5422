"""`microfluence campaigns|deals|products`: campaigns, the creators' deals and the products
catalogue from the command line.

The deliverables' commands (`microfluence deliverables …`) live in ``tracking/cli.py``: matching
them to posts reads tracking links and codes, a layer above this one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from microfluence.campaigns import products, values
from microfluence.campaigns.campaigns import (
    create_campaign,
    delete_campaign,
    find_campaign_by_name,
    get_campaign,
    list_campaigns,
    update_campaign,
)
from microfluence.campaigns.deals import (
    add_deal,
    find_deal_by_reference,
    list_deals,
    remove_deal,
    update_deal,
)
from microfluence.campaigns.deliverables import ROW_COLUMNS, as_row, list_deliverables
from microfluence.campaigns.product_files import import_products
from microfluence.campaigns.schemas import (
    CampaignCreate,
    CampaignPublic,
    CampaignUpdate,
    DealCreate,
    DealPublic,
    DealUpdate,
    DeliverablePublic,
    parse_model,
)
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    print_json,
    workspace_transaction,
)
from microfluence.kernel.errors import InputError

campaigns_app = typer.Typer(
    help="Campaigns: goal, dates, budget, targets, and the hashtags their posts carry.",
    no_args_is_help=True,
)
deals_app = typer.Typer(
    help="Deals: a creator in a campaign, what they are paid and what they deliver.",
    no_args_is_help=True,
)

CampaignArg = Annotated[str, typer.Argument(help="The campaign's name.")]
CreatorArg = Annotated[
    str, typer.Argument(help="PLATFORM:HANDLE of one of the creator's accounts.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Goal = Annotated[str | None, typer.Option("--goal", help=", ".join(values.GOALS) + ".")]
StartsOn = Annotated[str | None, typer.Option("--starts-on", help="First day, YYYY-MM-DD.")]
EndsOn = Annotated[str | None, typer.Option("--ends-on", help="Last day, YYYY-MM-DD.")]
Budget = Annotated[str | None, typer.Option("--budget", help="Budget, in the currency.")]
Currency = Annotated[str | None, typer.Option("--currency", help="ISO 4217 code, e.g. EUR.")]
Targets = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        help="KPI=NUMBER, repeatable (clicks=10000, roi=1.5); KPIs in docs/campaigns.md.",
    ),
]
Hashtags = Annotated[
    list[str] | None, typer.Option("--hashtag", help="A hashtag its posts carry; repeatable.")
]
Mentions = Annotated[
    list[str] | None, typer.Option("--mention", help="A handle its posts mention; repeatable.")
]
AttributionDays = Annotated[
    int | None, typer.Option("--attribution-days", help="Days a click may earn an order (30).")
]
Notes = Annotated[str | None, typer.Option("--notes", help="Free text.")]
BriefOpt = Annotated[
    str | None, typer.Option("--brief", help="The brief creators read in the portal.")
]
DoOpt = Annotated[
    list[str] | None, typer.Option("--do", help="A do of the brief; repeatable (replaces all).")
]
DontOpt = Annotated[
    list[str] | None,
    typer.Option("--dont", help="A don't of the brief; repeatable (replaces all)."),
]
DisclosureOpt = Annotated[
    str | None,
    typer.Option("--disclosure", help="The ad disclosure required, e.g. '#ad'."),
]
Fee = Annotated[str | None, typer.Option("--fee", help="Flat fee.")]
ProductValue = Annotated[str | None, typer.Option("--product-value", help="Gifted product value.")]
Shipping = Annotated[str | None, typer.Option("--shipping", help="Shipping cost of the product.")]
Commission = Annotated[
    str | None,
    typer.Option("--commission", help="Commission on attributed net revenue: 10% or 0.10."),
]
Package = Annotated[
    list[str] | None,
    typer.Option(
        "--deliverable",
        help="FORMAT=COUNT, repeatable: feed_post, reel, video, story, short (feed_post=2).",
    ),
]
Due = Annotated[
    list[str] | None,
    typer.Option("--due", help="Due date for every piece (YYYY-MM-DD) or FORMAT=DATE; repeatable."),
]


def _given(**options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


def _campaign_fields(  # noqa: PLR0913 - one per option of the commands
    goal: str | None,
    starts_on: str | None,
    ends_on: str | None,
    budget: str | None,
    currency: str | None,
    targets: list[str] | None,
    hashtags: list[str] | None,
    mentions: list[str] | None,
    attribution_days: int | None,
    notes: str | None,
) -> dict[str, Any]:
    data = _given(
        goal=goal,
        starts_on=starts_on,
        ends_on=ends_on,
        budget=budget,
        currency=currency,
        attribution_days=attribution_days,
        notes=notes,
    )
    if targets:
        data["targets"] = values.parse_key_values(targets, field="target")
    if hashtags:
        data["hashtags"] = values.parse_tags(" ".join(hashtags), field="hashtag", sign="#")
    if mentions:
        data["mentions"] = values.parse_tags(" ".join(mentions), field="mention", sign="@")
    return data


def _brief_fields(
    brief: str | None, dos: list[str] | None, donts: list[str] | None, disclosure: str | None
) -> dict[str, Any]:
    """The brief's options: only those given (a list option replaces the whole list)."""
    return _given(brief=brief, dos=dos, donts=donts, disclosure=disclosure)


def _when(value: Any) -> str:
    return "–" if value is None else str(value)


def print_campaign(campaign: CampaignPublic) -> None:
    money = f"{campaign.budget} {campaign.currency}" if campaign.budget is not None else "–"
    console.print(
        f"[bold]{campaign.name}[/] (id {campaign.id}) · {campaign.status} · goal {campaign.goal}"
        f" · {_when(campaign.starts_on)} → {_when(campaign.ends_on)} · budget {money}",
        highlight=False,
    )
    tags = " ".join([*("#" + t for t in campaign.hashtags), *("@" + m for m in campaign.mentions)])
    targets = ", ".join(f"{k} {v:g}" for k, v in campaign.targets.items())
    console.print(f"tags: {tags or '–'} · targets: {targets or '–'}", highlight=False)
    p = campaign.pieces
    console.print(
        f"{campaign.deals} deal(s); deliverables: {p.pending} pending, {p.matched} matched, "
        f"{p.confirmed} confirmed",
        highlight=False,
    )


def print_deals(deals: list[DealPublic], currency: str) -> None:
    table = Table("id", "creator", "account", "fee", "product", "shipping", "commission")
    table.add_column("package")
    table.add_column("pending / matched / confirmed")
    for d in deals:
        table.add_row(
            str(d.id),
            d.creator_name or "",
            d.account or "",
            f"{d.flat_fee:.2f} {currency}",
            f"{d.product_value:.2f}",
            f"{d.shipping_cost:.2f}",
            f"{(d.commission_rate * 100).normalize():f} %",
            " ".join(f"{k}={v}" for k, v in d.package.items()),
            f"{d.pieces.pending} / {d.pieces.matched} / {d.pieces.confirmed}",
        )
    console.print(table)


def print_deliverables(pieces: list[DeliverablePublic]) -> None:
    table = Table(*ROW_COLUMNS)
    for piece in pieces:
        table.add_row(*as_row(piece))
    console.print(table)


# --- campaigns ------------------------------------------------------------------------------


@campaigns_app.command("create")
@friendly_errors
def campaigns_create(  # noqa: PLR0913 - one parameter per option
    name: CampaignArg,
    goal: Goal = None,
    starts_on: StartsOn = None,
    ends_on: EndsOn = None,
    budget: Budget = None,
    currency: Currency = None,
    target: Targets = None,
    hashtag: Hashtags = None,
    mention: Mentions = None,
    attribution_days: AttributionDays = None,
    notes: Notes = None,
    brief: BriefOpt = None,
    do: DoOpt = None,
    dont: DontOpt = None,
    disclosure: DisclosureOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a campaign (a draft until it is made active)."""
    fields = _campaign_fields(
        goal,
        starts_on,
        ends_on,
        budget,
        currency,
        target,
        hashtag,
        mention,
        attribution_days,
        notes,
    )
    fields |= _brief_fields(brief, do, dont, disclosure)
    data = parse_model(CampaignCreate, {"name": name, **fields})
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = create_campaign(session, ws.id, data)
    print_json(made) if as_json else print_campaign(made)


@campaigns_app.command("list")
@friendly_errors
def campaigns_list(
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List the workspace's campaigns."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        campaigns = list_campaigns(session, ws.id, status=status)
    if as_json:
        print_json(campaigns)
        return
    table = Table("id", "name", "status", "goal", "starts", "ends", "budget", "deals", "pieces")
    for c in campaigns:
        budget = f"{c.budget} {c.currency}" if c.budget is not None else "–"
        pieces = f"{c.pieces.matched + c.pieces.confirmed}/{sum(c.pieces.model_dump().values())}"
        table.add_row(
            str(c.id),
            c.name,
            c.status,
            c.goal,
            _when(c.starts_on),
            _when(c.ends_on),
            budget,
            str(c.deals),
            pieces,
        )
    console.print(table)


@campaigns_app.command("show")
@friendly_errors
def campaigns_show(
    name: CampaignArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """A campaign with its deals and deliverables."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        campaign = find_campaign_by_name(session, ws.id, name)
        shown = get_campaign(session, ws.id, campaign.id)
        deals = list_deals(session, ws.id, campaign.id)
        pieces = list_deliverables(session, ws.id, campaign.id)
    if as_json:
        print_json(
            {
                **shown.model_dump(mode="json"),
                "deal_list": [d.model_dump(mode="json") for d in deals],
                "deliverables": [p.model_dump(mode="json") for p in pieces],
            }
        )
        return
    print_campaign(shown)
    print_deals(deals, shown.currency)
    print_deliverables(pieces)


@campaigns_app.command("update")
@friendly_errors
def campaigns_update(  # noqa: PLR0913 - one parameter per option
    name: CampaignArg,
    new_name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="draft → active ↔ paused → ended.")
    ] = None,
    goal: Goal = None,
    starts_on: StartsOn = None,
    ends_on: EndsOn = None,
    budget: Budget = None,
    currency: Currency = None,
    target: Targets = None,
    hashtag: Hashtags = None,
    mention: Mentions = None,
    attribution_days: AttributionDays = None,
    notes: Notes = None,
    brief: BriefOpt = None,
    do: DoOpt = None,
    dont: DontOpt = None,
    disclosure: DisclosureOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Change a campaign: only the options given. --hashtag, --mention, --target, --do and
    --dont replace the lists they name."""
    fields = _campaign_fields(
        goal,
        starts_on,
        ends_on,
        budget,
        currency,
        target,
        hashtag,
        mention,
        attribution_days,
        notes,
    )
    fields |= _brief_fields(brief, do, dont, disclosure)
    data = parse_model(CampaignUpdate, {**_given(name=new_name, status=status), **fields})
    with workspace_transaction(database_url, workspace) as (session, ws):
        campaign = find_campaign_by_name(session, ws.id, name)
        changed = update_campaign(session, ws.id, campaign.id, data)
    print_json(changed) if as_json else print_campaign(changed)


@campaigns_app.command("delete")
@friendly_errors
def campaigns_delete(
    name: CampaignArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Delete a campaign with its deals and deliverables."""
    if not yes:
        typer.confirm(f"Delete campaign {name!r} with its deals and deliverables?", abort=True)
    with workspace_transaction(database_url, workspace) as (session, ws):
        delete_campaign(session, ws.id, find_campaign_by_name(session, ws.id, name).id)
    console.print(f"deleted campaign [bold]{name}[/]")


# --- deals ----------------------------------------------------------------------------------


def _deal_fields(  # noqa: PLR0913 - one per option of the commands
    fee: str | None,
    product_value: str | None,
    shipping: str | None,
    commission: str | None,
    deliverable: list[str] | None,
    due: list[str] | None,
    notes: str | None,
) -> dict[str, Any]:
    data = _given(
        flat_fee=fee,
        product_value=product_value,
        shipping_cost=shipping,
        commission_rate=commission,
        notes=notes,
    )
    if deliverable:
        data["package"] = values.parse_package(" ".join(deliverable), field="deliverable")
    if due:
        data["due"] = values.parse_due(due, field="due")
    return data


@deals_app.command("add")
@friendly_errors
def deals_add(  # noqa: PLR0913 - one parameter per option
    campaign: CampaignArg,
    creator: CreatorArg,
    fee: Fee = None,
    product_value: ProductValue = None,
    shipping: Shipping = None,
    commission: Commission = None,
    deliverable: Package = None,
    due: Due = None,
    notes: Notes = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add a creator to a campaign with a deal and a package of deliverables."""
    fields = _deal_fields(fee, product_value, shipping, commission, deliverable, due, notes)
    data = parse_model(DealCreate, {"creator": creator, **fields})
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        made = add_deal(session, ws.id, found.id, data)
    if as_json:
        print_json(made)
        return
    print_deals([made], found.currency)


@deals_app.command("list")
@friendly_errors
def deals_list(
    campaign: CampaignArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The campaign's deals, with their pieces pending, matched and confirmed."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        deals = list_deals(session, ws.id, found.id)
    print_json(deals) if as_json else print_deals(deals, found.currency)


@deals_app.command("update")
@friendly_errors
def deals_update(  # noqa: PLR0913 - one parameter per option
    campaign: CampaignArg,
    creator: CreatorArg,
    fee: Fee = None,
    product_value: ProductValue = None,
    shipping: Shipping = None,
    commission: Commission = None,
    deliverable: Package = None,
    due: Due = None,
    notes: Notes = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Change a deal: only the options given. --deliverable replaces the whole package (pending
    pieces are added or removed, matched ones kept); --due re-dates the pending pieces."""
    fields = _deal_fields(fee, product_value, shipping, commission, deliverable, due, notes)
    data = parse_model(DealUpdate, fields)
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        deal = find_deal_by_reference(session, ws.id, found.id, creator)
        changed = update_deal(session, ws.id, found.id, deal.id, data)
    print_json(changed) if as_json else print_deals([changed], found.currency)


@deals_app.command("remove")
@friendly_errors
def deals_remove(
    campaign: CampaignArg,
    creator: CreatorArg,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Take a creator out of a campaign, with the deal's deliverables."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        deal = find_deal_by_reference(session, ws.id, found.id, creator)
        remove_deal(session, ws.id, found.id, deal.id)
    console.print(f"removed {creator} from campaign [bold]{found.name}[/]", highlight=False)


# --- products -------------------------------------------------------------------------------

products_app = typer.Typer(
    help="Products: the catalogue creators pick their gifts from in the portal.",
    no_args_is_help=True,
)
SkuArg = Annotated[str, typer.Argument(help="The product's SKU.")]


def print_products(rows: list[products.ProductPublic]) -> None:
    table = Table("id", "sku", "name", "value", "currency", "offered", "description")
    for p in rows:
        table.add_row(
            str(p.id),
            p.sku,
            p.name,
            f"{p.value:.2f}",
            p.currency,
            "yes" if p.active else "no",
            (p.description or "")[:60],
        )
    console.print(table)


@products_app.command("list")
@friendly_errors
def products_list(
    active: Annotated[bool, typer.Option("--active", help="Only the products on offer.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List the catalogue."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        rows = products.list_products(session, ws.id, active_only=active)
    print_json(rows) if as_json else print_products(rows)


@products_app.command("add")
@friendly_errors
def products_add(  # noqa: PLR0913 - one parameter per option
    sku: SkuArg,
    name: Annotated[str, typer.Option("--name", help="What it is.")],
    value: Annotated[str, typer.Option("--value", help="Its value, e.g. 25.00.")],
    currency: Currency = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add a product (its SKU unique in the workspace)."""
    data = parse_model(
        products.ProductCreate,
        _given(sku=sku, name=name, value=value, currency=currency, description=description),
    )
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = products.add_product(session, ws.id, data)
    print_json(made) if as_json else print_products([made])


@products_app.command("update")
@friendly_errors
def products_update(  # noqa: PLR0913 - one parameter per option
    sku: SkuArg,
    new_sku: Annotated[str | None, typer.Option("--sku", help="A new SKU.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    value: Annotated[str | None, typer.Option("--value", help="A new value.")] = None,
    currency: Currency = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Offer it in the portal, or not.")
    ] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Change a product: only the options given."""
    data = parse_model(
        products.ProductUpdate,
        _given(
            sku=new_sku,
            name=name,
            value=value,
            currency=currency,
            description=description,
            active=active,
        ),
    )
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = products.find_product_by_sku(session, ws.id, sku)
        changed = products.update_product(session, ws.id, found.id, data)
    print_json(changed) if as_json else print_products([changed])


@products_app.command("remove")
@friendly_errors
def products_remove(
    sku: SkuArg,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Delete a product; gifts already made of it keep its SKU, name and value."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        products.remove_product(
            session, ws.id, products.find_product_by_sku(session, ws.id, sku).id
        )
    console.print(f"removed product [bold]{sku}[/]", highlight=False)


@products_app.command("import")
@friendly_errors
def products_import(
    path: Annotated[Path, typer.Argument(help="CSV: sku,name,value,currency,description.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add or update products from a CSV file: all, or none and the bad line named."""
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    with workspace_transaction(database_url, workspace) as (session, ws):
        done = import_products(session, ws.id, path, str(path))
    console.print(f"{done.added} product(s) added, {done.updated} updated", highlight=False)
