"""The sales page: the workspace's discount codes (members make and disable them), its shops
(with their webhook addresses, never their secrets) and the latest orders with what each was
attributed to. The same services as `microfluence codes|shops|orders` and the API."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from microfluence.catalog.listing import Window
from microfluence.commerce.orders import list_orders
from microfluence.commerce.shops import list_shops
from microfluence.tracking import codes as C
from microfluence.tracking.code_files import export_codes
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.rendering import render

router = APIRouter(prefix="/sales", include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=250)]
SHOWN = 500  # codes listed on the page; the CSV has them all


@router.get("")
def sales_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    orders = list_orders(db, caller.workspace_id, Window(limit=50))
    codes = C.list_codes(db, caller.workspace_id)
    return render(
        request,
        db,
        "sales.html",
        title="Sales",
        codes=codes[:SHOWN],
        code_count=len(codes),
        shops=list_shops(db, caller.workspace_id),
        orders=orders.data,
        order_count=orders.count,
        kinds=C.KINDS,
    )


@router.post("/codes", dependencies=[CsrfChecked])
def create_code(
    db: DbSession,
    caller: PageWriter,
    creator: Text,
    value: Annotated[Decimal | None, Form(ge=0, le=10**9)] = None,
    kind: Annotated[str, Form(max_length=20)] = "percent",
    campaign: Annotated[str, Form(max_length=200)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    owner = C.resolve_owner(db, caller.workspace_id, creator=creator, campaign=campaign or None)
    C.create_code(db, caller.workspace_id, owner, kind=kind, value=value, code=code or None)
    return RedirectResponse("/sales#codes", status_code=303)


@router.post("/codes/{code_id}/disable", dependencies=[CsrfChecked])
def disable_code(db: DbSession, caller: PageWriter, code_id: Id) -> RedirectResponse:
    code = C.get_code(db, caller.workspace_id, code_id)
    C.disable_code(db, caller.workspace_id, code.code)
    return RedirectResponse("/sales#codes", status_code=303)


@router.get("/codes.csv")
def codes_csv(db: DbSession, caller: PageReader) -> Response:
    out = io.StringIO()
    export_codes(db, caller.workspace_id, out)
    name = f"{caller.workspace_name}-codes.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
