"""Webhook signatures: base64 of the HMAC-SHA256 of the raw request body, keyed with the shop's
shared secret — Shopify's ``X-Shopify-Hmac-Sha256`` (shopify.dev/docs/apps/build/webhooks/
subscribe/https, "Verify the webhook") and WooCommerce's ``X-WC-Webhook-Signature``
(``WC_Webhook::generate_signature``: ``base64_encode(hash_hmac('sha256', $payload, $secret,
true))``).

The body is checked exactly as received, before it is parsed: re-serialised JSON would not match.
Each expected signature is compared with :func:`hmac.compare_digest` (constant time), with every
secret the shop accepts now (the new one and, during a rotation, the previous one), all of them
compared whatever the first gave.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

MAX_HEADER = 200  # a base64 SHA-256 is 44 characters


def sign(body: bytes, secret: str) -> str:
    """What the platform sends for ``body`` signed with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, header: str | None, secrets: Iterable[str | None]) -> bool:
    """True when ``header`` is the signature of ``body`` with one of ``secrets``."""
    if not header or len(header) > MAX_HEADER:
        return False
    given = header.strip().encode("ascii", "replace")
    matched = False
    for secret in secrets:
        if secret:
            matched |= hmac.compare_digest(sign(body, secret).encode("ascii"), given)
    return matched
