"""`microfluence codes …` (a creator's discount codes, CSV, creation in a Shopify store),
`microfluence shops …` (shops and their webhook secrets) and `microfluence orders …` (order
exports, the attributed orders, attribution run again)."""

from __future__ import annotations

import io
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microfluence.access.site_secrets import site_secret
from microfluence.catalog.listing import Window
from microfluence.commerce import shops as S
from microfluence.commerce.attribution import attribute
from microfluence.commerce.order_files import import_orders
from microfluence.commerce.orders import list_orders
from microfluence.commerce.shopify_admin import push_code
from microfluence.commerce.webhooks import CUSTOMER_KEY, list_deliveries
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    err_console,
    friendly_errors,
    store_for,
    workspace_transaction,
)
from microfluence.kernel.workspaces import get_workspace
from microfluence.tracking import codes as C
from microfluence.tracking.code_files import export_codes, import_codes

codes_app = typer.Typer(help="Creators' discount codes.", no_args_is_help=True)
shops_app = typer.Typer(
    help="Shops (Shopify, WooCommerce) and their webhooks.", no_args_is_help=True
)
orders_app = typer.Typer(help="Shop orders and their attribution.", no_args_is_help=True)

CreatorOpt = Annotated[str | None, typer.Option("--creator", help="PLATFORM:HANDLE")]
CreatorIdOpt = Annotated[int | None, typer.Option("--creator-id", help="A creator's id.")]
CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="A campaign's name.")]
KindOpt = Annotated[str, typer.Option("--kind", help="percent, amount or shipping")]
ValueOpt = Annotated[str | None, typer.Option("--value", help="15 = 15 % or 15.00 off")]


def _owner(session, workspace_id: int, creator, creator_id, campaign) -> C.CodeOwner:  # type: ignore[no-untyped-def]
    if creator is None and creator_id is None:
        raise typer.BadParameter("give --creator PLATFORM:HANDLE or --creator-id N")
    return C.resolve_owner(
        session, workspace_id, creator=creator, creator_id=creator_id, campaign=campaign
    )


@codes_app.command("create")
@friendly_errors
def codes_create(
    creator: CreatorOpt = None,
    creator_id: CreatorIdOpt = None,
    campaign: CampaignOpt = None,
    kind: KindOpt = "percent",
    value: ValueOpt = None,
    code: Annotated[str | None, typer.Option("--code", help="A code of your own, if free.")] = None,
    suffix_length: Annotated[
        int, typer.Option("--suffix-length", help="Random characters.")
    ] = C.SUFFIX_DEFAULT,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Make a creator's code (``SARAH15-K7R``); the code is the last line printed."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        owner = _owner(session, ws.id, creator, creator_id, campaign)
        made = C.create_code(
            session, ws.id, owner, kind=kind, value=value, code=code, suffix_length=suffix_length
        )
        text = made.code
    console.print(text, highlight=False)


@codes_app.command("batch")
@friendly_errors
def codes_batch(
    count: Annotated[int, typer.Option("--count", help="How many single-use codes.")],
    batch: Annotated[str, typer.Option("--batch", help="The batch's label.")],
    creator: CreatorOpt = None,
    creator_id: CreatorIdOpt = None,
    campaign: CampaignOpt = None,
    kind: KindOpt = "percent",
    value: ValueOpt = None,
    suffix_length: Annotated[
        int, typer.Option("--suffix-length", help="Random characters.")
    ] = C.SUFFIX_BATCH,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Make COUNT single-use codes for a creator under one batch label, one per line."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        owner = _owner(session, ws.id, creator, creator_id, campaign)
        made = [
            c.code
            for c in C.create_batch(
                session,
                ws.id,
                owner,
                count=count,
                batch=batch,
                kind=kind,
                value=value,
                suffix_length=suffix_length,
            )
        ]
    console.print("\n".join(made), highlight=False)


@codes_app.command("list")
@friendly_errors
def codes_list(
    creator_id: CreatorIdOpt = None,
    batch: Annotated[str | None, typer.Option("--batch")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The workspace's codes."""
    table = Table("code", "kind", "value", "creator", "batch", "disabled")
    with workspace_transaction(database_url, workspace) as (session, ws):
        for c in C.list_codes(session, ws.id, creator_id=creator_id, batch=batch):
            table.add_row(
                c.code,
                c.kind,
                str(c.value or ""),
                str(c.creator_id or ""),
                c.batch or "",
                "yes" if c.disabled_at else "",
            )
    console.print(table)


@codes_app.command("export")
@friendly_errors
def codes_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
    batch: Annotated[str | None, typer.Option("--batch")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The codes as CSV (columns in docs/commerce.md), for a shop's bulk import."""
    out = io.StringIO()
    with workspace_transaction(database_url, workspace) as (session, ws):
        rows = export_codes(session, ws.id, out, batch=batch)
    if output is None:
        sys.stdout.write(out.getvalue())
    else:
        output.write_text(out.getvalue(), encoding="utf-8")
        err_console.print(f"exported {rows} codes to {output}")


@codes_app.command("import")
@friendly_errors
def codes_import(
    file: Annotated[Path, typer.Argument(help="A CSV file with a 'code' column.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add the codes of a CSV file: all of them, or none and the bad row named."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        count = import_codes(session, ws.id, file, str(file))
    console.print(f"imported {count} codes")


@codes_app.command("disable")
@friendly_errors
def codes_disable(
    code: Annotated[str, typer.Argument(help="The code, any case.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Stop a code counting for new orders."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        C.disable_code(session, ws.id, code)
    console.print(f"disabled {code.upper()}")


@codes_app.command("push")
@friendly_errors
def codes_push(
    code: Annotated[str, typer.Argument(help="The code, any case.")],
    shop: Annotated[str, typer.Option("--shop", help="A Shopify shop's name.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create the code in a Shopify store through its Admin API; prints the shop's id of it."""
    store = store_for(database_url)
    try:
        with store.transaction() as session:
            ws_id = get_workspace(session, workspace).id
        row = push_code(store, ws_id, shop, code)
    finally:
        store.dispose()
    console.print(row.external_id, highlight=False)


# -- shops ----------------------------------------------------------------------------------

ShopArg = Annotated[str, typer.Argument(help="The shop's name.")]


@shops_app.command("create")
@friendly_errors
def shops_create(
    name: ShopArg,
    platform: Annotated[str, typer.Option("--platform", help="shopify or woocommerce")],
    domain: Annotated[str | None, typer.Option("--domain", help="acme.myshopify.com")] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="MICROFLUENCE_SHOP_SECRET",
            help="Shopify: the app's client secret. Empty: a new one.",
        ),
    ] = None,
    access_token: Annotated[
        str | None,
        typer.Option(
            "--access-token",
            envvar="MICROFLUENCE_SHOP_TOKEN",
            help="Shopify Admin API access token.",
        ),
    ] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add a shop; prints its webhook path and (once) its secret."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = S.create_shop(
            session,
            ws.id,
            platform=platform,
            name=name,
            domain=domain,
            secret=secret,
            access_token=access_token,
        )
    console.print(f"webhook URL: https://<your server>{made.shop.webhook_path}", highlight=False)
    console.print(f"secret (shown once): {made.secret}", highlight=False)


@shops_app.command("list")
@friendly_errors
def shops_list(workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None) -> None:
    """The shops (never their secrets)."""
    table = Table("name", "platform", "domain", "webhook path", "orders", "rotating")
    with workspace_transaction(database_url, workspace) as (session, ws):
        for s in S.list_shops(session, ws.id):
            table.add_row(
                s.name,
                s.platform,
                s.domain or "",
                s.webhook_path,
                str(s.orders),
                "yes" if s.rotating else "",
            )
    console.print(table)


@shops_app.command("rotate-secret")
@friendly_errors
def shops_rotate(
    name: ShopArg,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret", envvar="MICROFLUENCE_SHOP_SECRET", help="The new secret. Empty: a new one."
        ),
    ] = None,
    end: Annotated[
        bool, typer.Option("--end", help="End the rotation: refuse the previous secret.")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Start a secret rotation (both secrets accepted), or end it with --end."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        shop = S.find_shop(session, ws.id, name)
        if end:
            S.end_rotation(session, ws.id, shop.id)
            console.print("the previous secret is no longer accepted")
            return
        made = S.rotate_secret(session, ws.id, shop.id, secret)
    console.print(f"new secret (shown once): {made.secret}", highlight=False)


@shops_app.command("set-token")
@friendly_errors
def shops_token(
    name: ShopArg,
    access_token: Annotated[
        str,
        typer.Option("--access-token", envvar="MICROFLUENCE_SHOP_TOKEN", help="Empty: remove it."),
    ],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set a Shopify shop's Admin API access token (to create codes in it)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        S.set_access_token(session, ws.id, S.find_shop(session, ws.id, name).id, access_token)
    console.print("token saved")


@shops_app.command("deliveries")
@friendly_errors
def shops_deliveries(
    name: ShopArg, workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """The shop's last 50 webhook deliveries."""
    table = Table("received", "topic", "status", "repeats", "error")
    with workspace_transaction(database_url, workspace) as (session, ws):
        for d in list_deliveries(session, ws.id, S.find_shop(session, ws.id, name).id):
            table.add_row(
                str(d.received_at), d.topic, d.status, str(d.repeats), (d.error or "")[:80]
            )
    console.print(table)


@shops_app.command("delete")
@friendly_errors
def shops_delete(
    name: ShopArg, workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Delete a shop with its orders, refunds and deliveries."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        S.delete_shop(session, ws.id, S.find_shop(session, ws.id, name).id)
    console.print(f"deleted {name}")


# -- orders ---------------------------------------------------------------------------------


@orders_app.command("import")
@friendly_errors
def orders_import(
    file: Annotated[Path, typer.Argument(help="A Shopify order export (CSV).")],
    shop: Annotated[str, typer.Option("--shop", help="The shop's name.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Import a shop's order export; importing it again changes nothing."""
    store = store_for(database_url)
    try:
        key = site_secret(store, CUSTOMER_KEY)
        with store.transaction() as session:
            ws = get_workspace(session, workspace)
            count, summary = import_orders(
                session, S.find_shop(session, ws.id, shop), file, key, str(file)
            )
    finally:
        store.dispose()
    console.print(
        f"imported {count} orders: {summary.by_code} by code, {summary.by_click} by click, "
        f"{summary.unattributed} not attributed, {summary.leaked} flagged as leaks"
    )


@orders_app.command("list")
@friendly_errors
def orders_list(
    leak: Annotated[bool, typer.Option("--leaks", help="Only orders flagged as leaks.")] = False,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The newest orders and what each was attributed to."""
    table = Table("order", "time", "net", "refunded", "method", "creator", "leak")
    with workspace_transaction(database_url, workspace) as (session, ws):
        page = list_orders(session, ws.id, Window(limit=limit), leak=True if leak else None)
    for o in page.data:
        table.add_row(
            o.name or o.external_id,
            str(o.ordered_at),
            f"{o.net} {o.currency}",
            str(o.refunded or Decimal(0)),
            o.method,
            str(o.creator_id or ""),
            o.leak_reason or "",
        )
    console.print(table)


@orders_app.command("attribute")
@friendly_errors
def orders_attribute(
    workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Attribute every order again (after new clicks, codes or refunds)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        s = attribute(session, ws.id)
    console.print(
        f"{s.orders} orders: {s.by_code} by code, {s.by_click} by click, "
        f"{s.unattributed} not attributed, {s.leaked} leaks"
    )
