"""The Instagram Graph API connector: ``business_discovery`` through the user's own connected
business (or creator) account and a user access token.

One call per handle::

    GET /{ig-user-id}?fields=business_discovery.username(HANDLE){username,name,
        followers_count,follows_count,media_count,biography,website,
        media.limit(N){id,like_count,comments_count,caption,timestamp,media_type,
        media_product_type,permalink}}

Only business and creator accounts can be read this way: a personal or missing account answers
error 110 with subcode 2207013, which is reported per handle ("cannot be read this way") while
the run goes on. Reference:
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/business_discovery

Rate limits (https://developers.facebook.com/docs/graph-api/overview/rate-limiting): every
answer carries ``X-App-Usage`` and ``X-Business-Use-Case-Usage``, the share (percent) of the
hour's allowance used; near 100 % the connector slows down (from 90 %), at 100 % it waits for
``estimated_time_to_regain_access`` minutes or stops cleanly when that is longer than
``MICROFLUENCE_CONNECTOR_MAX_WAIT``. Errors 4, 17, 32 and 613 (rate limited) are retried with
back-off; 190 (the token expired or was revoked) stops the run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from microfluence.connectors.http import (
    ApiClient,
    ConnectorError,
    CredentialRejected,
    NotReadable,
    Sleep,
    Verdict,
)
from microfluence.connectors.profiles import Profile, as_dict, as_list, as_text, to_int, to_time
from microfluence.connectors.quota import QuotaMeter
from microfluence.connectors.settings import ConnectorSettings

RATE_CODES = {4, 17, 32, 613}
TOKEN_CODE = 190
NOT_BUSINESS = (110, 2207013)
SLOW_FROM = 90.0  # percent of the allowance used
FULL = 100.0
MEDIA_TYPES = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}
_HANDLE = re.compile(r"^[A-Za-z0-9_.]{1,30}$")
MEDIA_FIELDS = (
    "id,like_count,comments_count,caption,timestamp,media_type,media_product_type,permalink"
)


def _error(body: Any) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def classify(response: httpx.Response, body: Any) -> Verdict:
    error = _error(body)
    code, subcode = error.get("code"), error.get("error_subcode")
    message = str(error.get("error_user_msg") or error.get("message") or "")[:300]
    if code in RATE_CODES:
        return Verdict(True, ConnectorError(f"Instagram rate limit (code {code}): {message}"))
    if code == TOKEN_CODE:
        return Verdict(
            False,
            CredentialRejected(
                f"Instagram refused the access token (code 190: expired or revoked): {message} "
                "— set a new one with `microfluence connect instagram --token-file F …`"
            ),
        )
    if (code, subcode) == NOT_BUSINESS:
        return Verdict(
            False,
            NotReadable(
                "cannot be read this way: not a business or creator account, or no such account "
                "(only those can be read through business_discovery)"
            ),
        )
    if code is not None:
        return Verdict(False, ConnectorError(f"Instagram error {code}: {message}"))
    return Verdict(False, None)


def usage_percent(headers: httpx.Headers) -> tuple[float, float]:
    """(the highest share of an allowance used, minutes until access returns if stated)."""
    shares: list[float] = []
    regain = 0.0
    app = _json(headers.get("x-app-usage"))
    if isinstance(app, dict):
        shares.extend(float(v) for v in app.values() if isinstance(v, int | float))
    business = _json(headers.get("x-business-use-case-usage"))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                for key in ("call_count", "total_cputime", "total_time"):
                    if isinstance(entry.get(key), int | float):
                        shares.append(float(entry[key]))
                eta = entry.get("estimated_time_to_regain_access")
                if isinstance(eta, int | float):
                    regain = max(regain, float(eta))
    return (max(shares) if shares else 0.0), regain


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def media_post(item: dict[str, Any]) -> dict[str, Any]:
    kind = MEDIA_TYPES.get(as_text(item.get("media_type"), 40) or "")
    if item.get("media_product_type") == "REELS":
        kind = "reel"
    return {
        "platform_post_id": str(item["id"])[:100],
        "url": as_text(item.get("permalink"), 1000),
        "post_type": kind,
        "posted_at": to_time(item.get("timestamp")),
        "caption": as_text(item.get("caption")),
        "likes": to_int(item.get("like_count")),  # absent when the owner hides likes
        "comments": to_int(item.get("comments_count")),
        "views": None,
    }


def discovery_profile(handle: str, found: dict[str, Any]) -> Profile:
    media = as_list(as_dict(found.get("media")).get("data"))
    account_id = found.get("id")
    return Profile(
        platform="instagram",
        handle=as_text(found.get("username"), 200) or handle,
        account={
            "external_id": str(account_id)[:100] if isinstance(account_id, str | int) else None,
            "display_name": as_text(found.get("name"), 300),
            "bio": as_text(found.get("biography")),
            "url": as_text(found.get("website"), 1000),
            "is_business": True,  # only business and creator accounts answer
        },
        followers=to_int(found.get("followers_count")),
        following=to_int(found.get("follows_count")),
        posts_count=to_int(found.get("media_count")),
        posts=[
            media_post(m)
            for m in media
            if isinstance(m, dict) and isinstance(m.get("id"), str | int) and str(m["id"])
        ],
    )


@dataclass
class Instagram:
    api: ApiClient
    meter: QuotaMeter
    business_account_id: str

    def profile(self, handle: str, media: int) -> Profile:
        name = (handle or "").strip().lstrip("@")
        if not _HANDLE.match(name):
            raise NotReadable(f"{handle!r} is not an Instagram user name")
        fields = (
            f"business_discovery.username({name}){{username,name,followers_count,"
            f"follows_count,media_count,biography,website,"
            f"media.limit({media}){{{MEDIA_FIELDS}}}}}"
        )
        self.meter.charge("business_discovery")
        body = self.api.get(f"/{self.business_account_id}", {"fields": fields})
        found = body.get("business_discovery") if isinstance(body, dict) else None
        if not isinstance(found, dict):
            raise NotReadable("cannot be read this way: the API returned no business_discovery")
        return discovery_profile(name, found)


def _pacer(api: ApiClient) -> Any:
    def on_response(response: httpx.Response) -> None:
        share, regain = usage_percent(response.headers)
        if share >= FULL:
            api.wait(max(regain * 60, api.settings.connector_backoff), "Instagram's rate limit")
        elif share >= SLOW_FROM:
            # Slow down as the hour's allowance runs out: up to 10 back-off units at 99 %.
            api.wait(api.settings.connector_backoff * (share - SLOW_FROM + 1), "near the limit")

    return on_response


def instagram_client(
    settings: ConnectorSettings,
    token: str,
    business_account_id: str,
    meter: QuotaMeter,
    sleep: Sleep | None = None,
) -> Instagram:
    api = ApiClient(
        base_url=settings.graph_api_url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        settings=settings,
        classify=classify,
    )
    if sleep is not None:
        api.sleep = sleep
    api.on_response = _pacer(api)
    return Instagram(api=api, meter=meter, business_account_id=business_account_id)
