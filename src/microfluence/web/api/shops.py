"""/api/v1/shops: the workspace's shops (owners manage them: they hold secrets), their webhook
deliveries and order exports; /api/v1/orders: the orders, as attributed; /api/v1/attribution."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from microfluence.access.site_secrets import site_secret
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page, UtcDateTime
from microfluence.commerce import shops as S
from microfluence.commerce.attribution import AttributionSummary, attribute
from microfluence.commerce.order_files import import_orders
from microfluence.commerce.orders import OrderPublic, get_order, list_orders
from microfluence.commerce.webhooks import CUSTOMER_KEY, list_deliveries
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, _window
from microfluence.web.deps import ApiOwner, ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(tags=["shops and orders"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
OptId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class ShopIn(BaseModel):
    platform: str = Field(max_length=20, description="shopify or woocommerce")
    name: str = Field(max_length=100)
    domain: str | None = Field(None, max_length=255, description="acme.myshopify.com")
    secret: str | None = Field(
        None,
        max_length=200,
        description="Shopify: the app's client secret (Shopify signs webhooks with it). "
        "Empty: a new random secret, to paste into WooCommerce.",
    )
    access_token: str | None = Field(None, max_length=200, description="Shopify Admin API token")
    currency: str | None = Field(None, max_length=3)


class SecretIn(BaseModel):
    secret: str | None = Field(None, max_length=200, description="Empty: a new random one.")


class TokenIn(BaseModel):
    access_token: str | None = Field(None, max_length=200)


class DeliveryPublic(BaseModel):
    id: int
    delivery_id: str
    topic: str
    status: str
    received_at: UtcDateTime
    processed_at: UtcDateTime | None
    repeats: int
    error: str | None


class ImportedOrders(BaseModel):
    orders: int
    attribution: AttributionSummary


@router.get("/shops", responses=READ_ERRORS)
def list_shops(db: DbSession, caller: ApiReader) -> Page[S.ShopPublic]:
    """The shops (never their secrets or tokens)."""
    rows = S.list_shops(db, caller.workspace_id)
    return Page(data=rows, count=len(rows))


@router.post("/shops", status_code=201, responses=WRITE_ERRORS)
def create_shop(db: DbSession, caller: ApiOwner, body: ShopIn) -> S.ShopSecret:
    """A shop; the answer holds its webhook secret, shown this once."""
    return S.create_shop(db, caller.workspace_id, **body.model_dump())


@router.get("/shops/{shop_id}", responses=ITEM_ERRORS)
def get_shop(db: DbSession, caller: ApiReader, shop_id: Id) -> S.ShopPublic:
    return S.public(S.get_shop(db, caller.workspace_id, shop_id))


@router.delete("/shops/{shop_id}", status_code=204, responses=ITEM_ERRORS)
def delete_shop(db: DbSession, caller: ApiOwner, shop_id: Id) -> None:
    """The shop with its orders, refunds and deliveries."""
    S.delete_shop(db, caller.workspace_id, shop_id)


@router.post("/shops/{shop_id}/secret", responses=WRITE_ERRORS)
def rotate_secret(db: DbSession, caller: ApiOwner, shop_id: Id, body: SecretIn) -> S.ShopSecret:
    """A new webhook secret (shown once); the old one is accepted until the rotation ends."""
    return S.rotate_secret(db, caller.workspace_id, shop_id, body.secret)


@router.delete("/shops/{shop_id}/previous-secret", responses=ITEM_ERRORS)
def end_rotation(db: DbSession, caller: ApiOwner, shop_id: Id) -> S.ShopPublic:
    """Stop accepting the previous secret."""
    return S.end_rotation(db, caller.workspace_id, shop_id)


@router.put("/shops/{shop_id}/access-token", responses=WRITE_ERRORS)
def set_access_token(db: DbSession, caller: ApiOwner, shop_id: Id, body: TokenIn) -> S.ShopPublic:
    """Set (or, empty, remove) the Shopify Admin API access token."""
    return S.set_access_token(db, caller.workspace_id, shop_id, body.access_token)


@router.get("/shops/{shop_id}/deliveries", responses=ITEM_ERRORS)
def deliveries(db: DbSession, caller: ApiReader, shop_id: Id) -> Page[DeliveryPublic]:
    """The shop's last 50 webhook deliveries."""
    S.get_shop(db, caller.workspace_id, shop_id)
    rows = list_deliveries(db, caller.workspace_id, shop_id)
    data = [DeliveryPublic.model_validate(r, from_attributes=True) for r in rows]
    return Page(data=data, count=len(data))


@router.post(
    "/shops/{shop_id}/orders/import",
    status_code=201,
    responses=WRITE_ERRORS,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_order_file(
    request: Request, store: StoreDep, caller: ApiWriter, shop_id: Id
) -> ImportedOrders:
    """A Shopify order export (CSV body), into the shop; re-importing changes nothing."""
    data = await request.body()

    def run() -> ImportedOrders:
        key = site_secret(store, CUSTOMER_KEY)
        with store.transaction() as db:
            shop = S.get_shop(db, caller.workspace_id, shop_id)
            count, summary = import_orders(db, shop, io.BytesIO(data), key, "orders.csv")
        return ImportedOrders(orders=count, attribution=summary)

    return await run_in_threadpool(run)


@router.get("/orders", responses=READ_ERRORS)
def orders(
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    shop_id: OptId = None,
    creator_id: OptId = None,
    campaign_id: OptId = None,
    method: Annotated[str | None, Query(pattern="^(code|click|none)$")] = None,
    leak: bool | None = None,
) -> Page[OrderPublic]:
    """The orders, newest first, with what each was attributed to."""
    return list_orders(
        db,
        caller.workspace_id,
        window,
        shop_id=shop_id,
        creator_id=creator_id,
        campaign_id=campaign_id,
        method=method,
        leak=leak,
    )


@router.get("/orders/{order_id}", responses=ITEM_ERRORS)
def order(
    db: DbSession, caller: ApiReader, order_id: Annotated[int, Path(ge=1, le=2**62)]
) -> OrderPublic:
    return get_order(db, caller.workspace_id, order_id)


@router.post("/attribution", responses=WRITE_ERRORS)
def reattribute(db: DbSession, caller: ApiWriter) -> AttributionSummary:
    """Attribute every order of the workspace again (after new clicks, codes or campaign
    windows); the same inputs give the same result."""
    return attribute(db, caller.workspace_id)
