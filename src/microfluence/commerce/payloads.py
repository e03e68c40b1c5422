"""Shop payloads read into one shape: :class:`OrderRecord` and :class:`RefundRecord`.

Shopify (REST Admin API ``Order`` and ``Refund`` resources, as webhooks send them —
shopify.dev/docs/api/admin-rest/latest/resources/order, …/refund):

* gross = ``total_line_items_price`` (the line items before discounts); discounts =
  ``total_discounts``; net = ``subtotal_price`` ("after discounts but before shipping, duties,
  taxes, and tips"); total = ``total_price``; codes = ``discount_codes[].code``; landing URL =
  ``landing_site``; referrer = ``referring_site``; customer = ``email`` or ``customer.email``;
* a refund's amount is the merchandise it gives back before taxes: the sum of
  ``refund_line_items[].subtotal``; a refund without line items (an amount refunded by hand)
  counts its successful ``transactions[]`` of kind ``refund``.

WooCommerce (REST API v3 ``order``, woocommerce.github.io/woocommerce-rest-api-docs/#orders):
gross = Σ ``line_items[].subtotal``; net = Σ ``line_items[].total``; discounts =
``discount_total``; total = ``total``; codes = ``coupon_lines[].code``; the landing URL and
referrer from WooCommerce's order attribution (8.5+), ``meta_data`` keys
``_wc_order_attribution_session_entry`` and ``_wc_order_attribution_referrer``; refunds =
``refunds[]`` (``total`` is negative; its absolute value counts).

Times are converted to naive UTC. A payload that lacks an id, or has a money field that is not a
number, is an InputError naming the field.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from microfluence.kernel.errors import InputError

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY_MAX = Decimal("1e12")


@dataclass
class RefundRecord:
    external_id: str
    order_external_id: str
    refunded_at: dt.datetime
    amount: Decimal


@dataclass
class OrderRecord:
    external_id: str
    ordered_at: dt.datetime
    currency: str
    name: str | None = None
    gross: Decimal = ZERO
    discounts: Decimal = ZERO
    net: Decimal = ZERO
    total: Decimal = ZERO
    financial_status: str | None = None
    codes: list[str] = field(default_factory=list)
    landing_url: str | None = None
    referrer: str | None = None
    email: str | None = None
    refunds: list[RefundRecord] = field(default_factory=list)
    updated_at: dt.datetime | None = None  # the shop's last change of the order

    @property
    def referrer_host(self) -> str | None:
        return referrer_host(self.referrer)


def referrer_host(url: str | None) -> str | None:
    """``https://www.RetailMeNot.com/x`` → ``retailmenot.com`` (lower case, no ``www.``)."""
    if not url:
        return None
    text = url.strip()
    if "//" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host.removeprefix("www.")[:255] if host else None


def load_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the body is not JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise InputError("the body is not a JSON object", field="body")
    return data


def money(value: object, name: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(f"not an amount: {str(value)[:40]!r}", field=name) from None
    if not number.is_finite() or abs(number) >= MONEY_MAX:
        raise InputError(f"not an amount: {str(value)[:40]!r}", field=name)
    return number.quantize(CENT)


def when(value: object, name: str, *, assume_utc: bool = True) -> dt.datetime:
    if not isinstance(value, str) or not value:
        raise InputError("a time is needed (ISO 8601)", field=name)
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"not a time: {value[:40]!r}", field=name) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def maybe_when(value: object, name: str) -> dt.datetime | None:
    return when(value, name) if isinstance(value, str) and value else None


def ident(value: object, name: str) -> str:
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise InputError("an id is needed", field=name)
    text = str(value).strip()
    if len(text) > 64:
        raise InputError("the id is longer than 64 characters", field=name)
    return text


def _text(value: object, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str | int) and str(value) else None


def _codes(items: object, key: str) -> list[str]:
    if not isinstance(items, list):
        return []
    found = [str(i.get(key, "")).strip().upper() for i in items if isinstance(i, dict)]
    return list(dict.fromkeys(c[:64] for c in found if c))


def _currency(value: object) -> str:
    text = str(value or "").strip().upper()
    if len(text) != 3 or not text.isalpha():
        raise InputError("a currency is 3 letters (ISO 4217)", field="currency")
    return text


# -- Shopify ---------------------------------------------------------------------------------


def shopify_refund(data: dict[str, Any], order_id: str | None = None) -> RefundRecord:
    lines = data.get("refund_line_items") or []
    if lines:
        amount = sum(
            (
                money(r.get("subtotal"), "refund_line_items.subtotal")
                for r in lines
                if isinstance(r, dict)
            ),
            ZERO,
        )
    else:
        amount = sum(
            (
                money(t.get("amount"), "transactions.amount")
                for t in data.get("transactions") or []
                if isinstance(t, dict)
                and t.get("kind") == "refund"
                and t.get("status") in (None, "success")
            ),
            ZERO,
        )
    return RefundRecord(
        external_id=ident(data.get("id"), "id"),
        order_external_id=order_id or ident(data.get("order_id"), "order_id"),
        refunded_at=when(data.get("created_at") or data.get("processed_at"), "created_at"),
        amount=amount,
    )


def shopify_order(data: dict[str, Any]) -> OrderRecord:
    order_id = ident(data.get("id"), "id")
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    refunds = [
        shopify_refund(r, order_id) for r in data.get("refunds") or [] if isinstance(r, dict)
    ]
    return OrderRecord(
        external_id=order_id,
        name=_text(data.get("name"), 64),
        ordered_at=when(data.get("created_at"), "created_at"),
        currency=_currency(data.get("currency")),
        gross=money(data.get("total_line_items_price"), "total_line_items_price"),
        discounts=money(data.get("total_discounts"), "total_discounts"),
        net=money(data.get("subtotal_price"), "subtotal_price"),
        total=money(data.get("total_price"), "total_price"),
        financial_status=_text(data.get("financial_status"), 40),
        codes=_codes(data.get("discount_codes"), "code"),
        landing_url=_text(data.get("landing_site"), 4000),
        referrer=_text(data.get("referring_site"), 4000),
        email=_text(data.get("email") or customer.get("email"), 320),
        refunds=refunds,
        updated_at=maybe_when(data.get("updated_at"), "updated_at"),
    )


# -- WooCommerce -----------------------------------------------------------------------------

WOO_LANDING = "_wc_order_attribution_session_entry"
WOO_REFERRER = "_wc_order_attribution_referrer"


def _meta(data: dict[str, Any], key: str) -> str | None:
    for item in data.get("meta_data") or []:
        if isinstance(item, dict) and item.get("key") == key:
            return _text(item.get("value"), 4000)
    return None


def woocommerce_order(data: dict[str, Any]) -> OrderRecord:
    order_id = ident(data.get("id"), "id")
    lines = [i for i in data.get("line_items") or [] if isinstance(i, dict)]
    created = data.get("date_created_gmt") or data.get("date_created")
    modified = data.get("date_modified_gmt") or created
    billing = data.get("billing") if isinstance(data.get("billing"), dict) else {}
    refunds = [
        RefundRecord(
            external_id=ident(r.get("id"), "refunds.id"),
            order_external_id=order_id,
            refunded_at=when(modified, "date_modified_gmt"),
            amount=abs(money(r.get("total"), "refunds.total")),
        )
        for r in data.get("refunds") or []
        if isinstance(r, dict)
    ]
    number = data.get("number")
    return OrderRecord(
        external_id=order_id,
        name=f"#{number}" if number else None,
        ordered_at=when(created, "date_created_gmt"),
        currency=_currency(data.get("currency")),
        gross=sum((money(i.get("subtotal"), "line_items.subtotal") for i in lines), ZERO),
        discounts=money(data.get("discount_total"), "discount_total"),
        net=sum((money(i.get("total"), "line_items.total") for i in lines), ZERO),
        total=money(data.get("total"), "total"),
        financial_status=_text(data.get("status"), 40),
        codes=_codes(data.get("coupon_lines"), "code"),
        landing_url=_meta(data, WOO_LANDING),
        referrer=_meta(data, WOO_REFERRER),
        email=_text(billing.get("email"), 320),
        refunds=refunds,
        updated_at=maybe_when(data.get("date_modified_gmt"), "date_modified_gmt"),
    )
