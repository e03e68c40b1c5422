"""Public webhook routes for shops: ``POST /hooks/shopify/{shop_public_id}`` and
``POST /hooks/woocommerce/{shop_public_id}``. No API key: the body's HMAC signature is the
proof (commerce.webhooks). The body is read raw (its size capped by web.limits), checked and
stored, and the answer (200) goes at once; the order is processed on the job queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from microfluence.commerce.webhooks import receive
from microfluence.jobs.webhooks import submit
from microfluence.web.api.common import responses

router = APIRouter(tags=["webhooks"])
PublicId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
HOOK_ERRORS = responses(401, 413, 422)


class HookAnswer(BaseModel):
    status: str  # stored, duplicate, ignored, ping


async def _hook(request: Request, platform: str, public_id: str) -> HookAnswer:
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    store = request.app.state.store
    received = await run_in_threadpool(receive, store, platform, public_id, headers, body)
    if received.delivery_id is not None:
        await run_in_threadpool(submit, store, request.app.state.jobs, received.delivery_id)
    return HookAnswer(status=received.status)


@router.post("/hooks/shopify/{shop_public_id}", responses=HOOK_ERRORS)
async def shopify_webhook(request: Request, shop_public_id: PublicId) -> HookAnswer:
    """Shopify's orders/create, orders/updated, orders/paid and refunds/create webhooks, signed
    with ``X-Shopify-Hmac-Sha256``; de-duplicated by ``X-Shopify-Webhook-Id``."""
    return await _hook(request, "shopify", shop_public_id)


@router.post("/hooks/woocommerce/{shop_public_id}", responses=HOOK_ERRORS)
async def woocommerce_webhook(request: Request, shop_public_id: PublicId) -> HookAnswer:
    """WooCommerce's order.created and order.updated webhooks, signed with
    ``X-WC-Webhook-Signature``; de-duplicated by ``X-WC-Webhook-Delivery-ID``; its ping
    answered."""
    return await _hook(request, "woocommerce", shop_public_id)
