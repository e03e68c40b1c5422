"""Creating a creator's code in a Shopify store, through the Admin GraphQL API's
``discountCodeBasicCreate`` mutation (shopify.dev/docs/api/admin-graphql/2025-01/mutations/
discountCodeBasicCreate) — the documented way since the REST price-rule endpoints became legacy
(shopify.dev/docs/api/admin-rest, "The REST Admin API is a legacy API as of October 1, 2024").

The request is ``POST https://{shop domain}/admin/api/{version}/graphql.json`` with the custom
app's ``X-Shopify-Access-Token``. Limits are honoured as documented
(shopify.dev/docs/api/usage/rate-limits): an HTTP 429 waits for its ``Retry-After`` seconds; a
``THROTTLED`` GraphQL error waits until the cost bucket has refilled enough
(``(requestedQueryCost − currentlyAvailable) / restoreRate``). Both are retried a few times,
never waiting more than ``max_wait`` seconds in all. A 422, a refused token (401, 403) and the
mutation's ``userErrors`` become an InputError that says what Shopify said. The shop's id of the
new discount (``gid://shopify/DiscountCodeNode/…``) is stored with the code.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from microfluence.commerce.shops import SHOPIFY_DOMAIN, find_shop
from microfluence.commerce.tables import ShopDiscountCode
from microfluence.kernel.errors import ConflictError, InputError, StoreError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.tracking.codes import find_code

API_VERSION = "2025-01"
ATTEMPTS = 5
TIMEOUT = 20.0
MUTATION = """
mutation discountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode {
      id
      codeDiscount { ... on DiscountCodeBasic { title codes(first: 1) { nodes { code } } } }
    }
    userErrors { field code message }
  }
}
""".strip()


class ShopApiError(StoreError):
    """The shop could not be reached, or kept refusing for its limits."""

    code = "shop_unavailable"


def discount_input(code: Any, starts_at: dt.datetime) -> dict[str, Any]:
    """``DiscountCodeBasicInput`` for one of our codes."""
    if code.kind == "shipping":
        raise InputError(
            "free-shipping codes are made with discountCodeFreeShippingCreate: not supported yet",
            field="kind",
        )
    value: dict[str, Any]
    if code.kind == "percent":
        value = {"percentage": float(code.value) / 100}
    else:
        value = {"discountAmount": {"amount": str(code.value), "appliesOnEachItem": False}}
    body: dict[str, Any] = {
        "title": f"{code.code} (microfluence)",
        "code": code.code,
        "startsAt": starts_at.replace(microsecond=0).isoformat() + "Z",
        "customerSelection": {"all": True},
        "customerGets": {"value": value, "items": {"all": True}},
        "appliesOncePerCustomer": bool(code.single_use),
    }
    if code.single_use:
        body["usageLimit"] = 1
    return body


def _errors_text(errors: Any) -> str:
    if isinstance(errors, dict):
        return "; ".join(
            f"{k}: {', '.join(map(str, v if isinstance(v, list) else [v]))}"
            for k, v in errors.items()
        )
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return str(errors)


def _throttle_wait(data: dict[str, Any]) -> float | None:
    errors = data.get("errors") or []
    if not any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    ):
        return None
    cost = (data.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    need = float(cost.get("requestedQueryCost") or 10) - float(
        status.get("currentlyAvailable") or 0
    )
    return max(need, 0) / float(status.get("restoreRate") or 50) or 1.0


def call(
    endpoint: str,
    token: str,
    variables: dict[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
    max_wait: float = 30.0,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """Run the mutation; the ``discountCodeBasicCreate`` payload. Retries 429 and THROTTLED."""
    waited = 0.0
    http = client or httpx.Client(timeout=TIMEOUT)
    try:
        for _ in range(ATTEMPTS):
            try:
                response = http.post(
                    endpoint,
                    json={"query": MUTATION, "variables": variables},
                    headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise ShopApiError(f"the shop could not be reached: {exc}") from None
            wait = _wait_for(response)
            if wait is None:
                return _payload(response)
            if waited + wait > max_wait:
                break
            sleep(wait)
            waited += wait
    finally:
        if client is None:
            http.close()
    raise ShopApiError(f"the shop kept asking to slow down ({waited:g} s waited): try again later")


def _wait_for(response: httpx.Response) -> float | None:
    """Seconds to wait before retrying, or None when the answer is final."""
    if response.status_code == 429:
        try:
            return max(float(response.headers.get("Retry-After", "2")), 0.0)
        except ValueError:
            return 2.0
    if response.status_code == 200:
        try:
            return _throttle_wait(response.json())
        except ValueError:
            return None
    return None


def _payload(response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        data = {"errors": response.text[:300]}
    if status in (401, 403):
        raise InputError(
            f"the shop refused the access token ({status}): {_errors_text(data.get('errors'))}",
            field="access_token",
        )
    if status == 422:
        raise InputError(
            f"the shop refused the code (422): {_errors_text(data.get('errors'))}", field="code"
        )
    if status != 200:
        raise ShopApiError(f"the shop answered {status}: {_errors_text(data.get('errors'))}")
    if data.get("errors"):
        raise InputError(
            f"the shop refused the request: {_errors_text(data['errors'])}", field="code"
        )
    result = (data.get("data") or {}).get("discountCodeBasicCreate") or {}
    user_errors = result.get("userErrors") or []
    if user_errors:
        first = user_errors[0]
        where = ".".join(str(f) for f in first.get("field") or []) or "code"
        raise InputError(f"the shop refused the code: {_errors_text(user_errors)}", field=where)
    node = result.get("codeDiscountNode") or {}
    if not node.get("id"):
        raise ShopApiError("the shop's answer has no discount id")
    return result


def endpoint_for(domain: str, version: str = API_VERSION) -> str:
    return f"https://{domain}/admin/api/{version}/graphql.json"


def push_code(
    store: Store,
    workspace_id: int,
    shop_name: str,
    code_text: str,
    *,
    endpoint: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_wait: float = 30.0,
) -> ShopDiscountCode:
    """Create one of the workspace's codes in a Shopify shop and store the shop's id of it."""
    with store.transaction() as session:
        shop = find_shop(session, workspace_id, shop_name)
        code = find_code(session, workspace_id, code_text)
        if shop.platform != "shopify":
            raise InputError(
                "codes are created through the Admin API of Shopify shops only", field="shop"
            )
        if not shop.access_token:
            raise InputError(
                f"the shop {shop.name} has no Admin API access token", field="access_token"
            )
        if endpoint is None and not (shop.domain and SHOPIFY_DOMAIN.match(shop.domain)):
            raise InputError(
                f"the shop {shop.name} has no NAME.myshopify.com domain", field="domain"
            )
        done = session.scalar(
            select(ShopDiscountCode.external_id).where(
                ShopDiscountCode.shop_id == shop.id, ShopDiscountCode.code_id == code.id
            )
        )
        if done:
            raise ConflictError(f"{code.code} is in {shop.name} already ({done})")
        variables = {"basicCodeDiscount": discount_input(code, code.created_at or utcnow())}
        token, url = shop.access_token, endpoint or endpoint_for(shop.domain or "")
        shop_id, code_id = shop.id, code.id
    result = call(url, token, variables, sleep=sleep, max_wait=max_wait)
    node = result["codeDiscountNode"]
    with store.transaction() as session:
        row = ShopDiscountCode(
            workspace_id=workspace_id,
            shop_id=shop_id,
            code_id=code_id,
            external_id=str(node["id"])[:200],
            details={
                "api_version": API_VERSION,
                "title": (node.get("codeDiscount") or {}).get("title"),
            },
        )
        session.add(row)
        session.flush()
        session.expunge(row)
        return row
