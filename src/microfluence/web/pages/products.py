"""The products page, ``/products``: the catalogue creators pick their gifts from, with forms
to add, change, take off the offer, remove and import products (the campaigns' product
services; members change, viewers read)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from microfluence.campaigns import products
from microfluence.campaigns.product_files import MAX_ROWS, import_products
from microfluence.campaigns.schemas import parse_model
from microfluence.catalog.schemas import ID_MAX
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter, StoreDep
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Short = Annotated[str, Form(max_length=300)]
Text = Annotated[str, Form(max_length=20_000)]


@router.get("/products")
def products_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    added: Annotated[int | None, Query(ge=0, le=10**6)] = None,
    updated: Annotated[int | None, Query(ge=0, le=10**6)] = None,
) -> HTMLResponse:
    return render(
        request,
        db,
        "products.html",
        title="Products",
        products=products.list_products(db, caller.workspace_id),
        added=added,
        updated=updated,
        max_rows=MAX_ROWS,
    )


def _fields(**fields: str) -> dict[str, Any]:
    return {k: v.strip() for k, v in fields.items() if v and v.strip()}


@router.post("/products", dependencies=[CsrfChecked])
def add_product(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    sku: Short,
    name: Short,
    value: Short,
    currency: Short = "USD",
    description: Text = "",
) -> RedirectResponse:
    data = _fields(sku=sku, name=name, value=value, currency=currency, description=description)
    products.add_product(db, caller.workspace_id, parse_model(products.ProductCreate, data))
    return RedirectResponse("/products", status_code=303)


@router.post("/products/{product_id}/edit", dependencies=[CsrfChecked])
def edit_product(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    product_id: Id,
    name: Short,
    value: Short,
    currency: Short = "USD",
    description: Text = "",
    active: Annotated[str, Form(max_length=5)] = "",
) -> RedirectResponse:
    """The whole row is sent: a blank description clears it, an unticked box takes the product
    off the offer."""
    data: dict[str, Any] = {
        "name": name,
        "value": value,
        "currency": currency,
        "description": description.strip() or None,
        "active": active == "on",
    }
    products.update_product(
        db, caller.workspace_id, product_id, parse_model(products.ProductUpdate, data)
    )
    return RedirectResponse("/products", status_code=303)


@router.post("/products/{product_id}/remove", dependencies=[CsrfChecked])
def remove_product(db: DbSession, caller: PageWriter, product_id: Id) -> RedirectResponse:
    products.remove_product(db, caller.workspace_id, product_id)
    return RedirectResponse("/products", status_code=303)


@router.post("/products/import", dependencies=[CsrfChecked])
async def import_file(
    store: StoreDep, caller: PageWriter, file: Annotated[UploadFile, File()]
) -> RedirectResponse:
    data = await file.read()
    name = (file.filename or "products.csv")[:200]

    def run() -> Any:
        with store.transaction() as db:
            return import_products(db, caller.workspace_id, data, name)

    done = await run_in_threadpool(run)
    return RedirectResponse(f"/products?added={done.added}&updated={done.updated}", status_code=303)
