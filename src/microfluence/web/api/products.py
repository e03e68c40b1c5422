"""/api/v1/products: the brand's catalogue of products it can gift to creators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from microfluence.campaigns import products
from microfluence.campaigns.product_files import import_products
from microfluence.catalog.schemas import Page
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.deps import ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(prefix="/products", tags=["products"])
ProductId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ProductsImported(BaseModel):
    added: int
    updated: int


@router.get("", responses=READ_ERRORS)
def list_products(
    db: DbSession,
    caller: ApiReader,
    active: Annotated[bool, Query(description="Only the products on offer.")] = False,
) -> Page[products.ProductPublic]:
    """The catalogue, by name."""
    rows = products.list_products(db, caller.workspace_id, active_only=active)
    return Page(data=rows, count=len(rows))


@router.post("", status_code=201, responses=WRITE_ERRORS)
def add_product(
    db: DbSession, caller: ApiWriter, body: products.ProductCreate
) -> products.ProductPublic:
    """Add a product; its SKU is unique in the workspace (409)."""
    return products.add_product(db, caller.workspace_id, body)


@router.post(
    "/import",
    responses=WRITE_ERRORS,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_file(request: Request, store: StoreDep, caller: ApiWriter) -> ProductsImported:
    """Products from a CSV body (``sku,name,value,currency,description``): SKUs already in the
    catalogue updated, new ones added — all, or none and the first bad row named by line and
    field."""
    data = await request.body()

    def run() -> ProductsImported:
        with store.transaction() as db:
            done = import_products(db, caller.workspace_id, data, "products.csv")
        return ProductsImported(added=done.added, updated=done.updated)

    return await run_in_threadpool(run)


@router.get("/{product_id}", responses=ITEM_ERRORS)
def get_product(db: DbSession, caller: ApiReader, product_id: ProductId) -> products.ProductPublic:
    return products.public(products.find_product(db, caller.workspace_id, product_id))


@router.patch("/{product_id}", responses=WRITE_ERRORS)
def update_product(
    db: DbSession, caller: ApiWriter, product_id: ProductId, body: products.ProductUpdate
) -> products.ProductPublic:
    """Change the fields sent; `active: false` takes it off the portal's offer."""
    return products.update_product(db, caller.workspace_id, product_id, body)


@router.delete("/{product_id}", status_code=204, responses=WRITE_ERRORS)
def remove_product(db: DbSession, caller: ApiWriter, product_id: ProductId) -> Response:
    """Delete the product; gifts already made of it keep its SKU, name and value."""
    products.remove_product(db, caller.workspace_id, product_id)
    return Response(status_code=204)
