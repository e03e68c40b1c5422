"""A stand-in for the platforms' authorization servers and APIs, served on 127.0.0.1: Meta's
Facebook Login and Graph API, Google's OAuth 2.0 and YouTube Analytics, TikTok's Login Kit and
Display API — the documented request and response shapes, errors included (RFC 6749
``invalid_grant``; Graph error 190 with subcode 463 for an expired token, 460 for a revoked
one; Google's 401 ``UNAUTHENTICATED``; TikTok's ``access_token_invalid``).

The app under test reaches it through MICROFLUENCE_OAUTH_API_BASE (``{base}/{host}{path}``).
It checks what the platforms check: the client and its secret, the exact registered redirect
URI, a code used once, Google's PKCE verifier, the bearer token on every API call. Every token
it issues is kept in ``issued`` so tests can look for them where they must never be.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

G = "/graph.facebook.com/v21.0"
IDENTITIES = {
    "instagram": ("17841400000000001", "alpha_ana"),
    "youtube": ("UCalphacy000000000000001", "@alpha_cy"),
    "tiktok": ("tt-open-alpha-ana", "alpha_ana_tt"),
}
CLIENTS = {"instagram": "meta-app-1", "youtube": "google-client-1", "tiktok": "tiktok-key-1"}


@dataclass
class Standin:
    secrets: dict[str, str] = field(default_factory=dict)  # client id -> client secret
    redirects: set[str] = field(default_factory=set)
    consent: str = "allow"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # value -> platform, kind, status
    issued: list[str] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    revoked: list[str] = field(default_factory=list)  # platforms asked to revoke

    def reset(self) -> None:
        for name in ("codes", "tokens", "calls", "issued", "revoked"):
            getattr(self, name).clear()
        self.consent = "allow"

    def token(self, platform: str, kind: str, prefix: str = "") -> str:
        value = prefix + secrets.token_urlsafe(24)
        self.tokens[value] = {"platform": platform, "kind": kind, "status": "ok"}
        self.issued.append(value)
        return value

    def set_status(self, platform: str, status: str, kind: str = "access") -> None:
        """Every live token of ``platform`` (of ``kind``) becomes expired or revoked."""
        for info in self.tokens.values():
            if info["platform"] == platform and info["kind"] == kind and info["status"] == "ok":
                info["status"] = status


def _challenge(verifier: str) -> str:
    raw = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip()


def make_app(s: Standin) -> FastAPI:  # noqa: C901, PLR0915 - one stand-in, three platforms
    app = FastAPI()

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        s.calls.append((request.method, request.url.path))
        assert "access_token" not in request.url.query  # tokens never travel in a URL
        return await call_next(request)

    def authorize(platform: str, request: Request) -> Response:
        q = request.query_params
        client = q.get("client_key" if platform == "tiktok" else "client_id")
        uri, state = q.get("redirect_uri", ""), q.get("state", "")
        if client not in s.secrets or uri not in s.redirects or q.get("response_type") != "code":
            return PlainTextResponse("redirect_uri_mismatch or unknown client", status_code=400)
        if s.consent == "deny":
            extra = {"error_reason": "user_denied"} if platform == "instagram" else {}
            query = {"error": "access_denied", "error_description": "The user denied", **extra}
            return RedirectResponse(f"{uri}?{urlencode(query | {'state': state})}", 302)
        code = secrets.token_urlsafe(16)
        s.codes[code] = {
            "platform": platform,
            "client": client,
            "redirect_uri": uri,
            "challenge": q.get("code_challenge"),
            "used": False,
        }
        return RedirectResponse(f"{uri}?{urlencode({'code': code, 'state': state})}", 302)

    def take_code(platform: str, form: Any, client: str | None) -> dict[str, Any] | None:
        code = s.codes.get(form.get("code", ""))
        if code is None or code["used"] or code["platform"] != platform:
            return None
        code["used"] = True
        if code["client"] != client or code["redirect_uri"] != form.get("redirect_uri"):
            return None
        if code["challenge"] and _challenge(form.get("code_verifier", "")) != code["challenge"]:
            return None
        return code

    def client_ok(client: str | None, secret: str | None) -> bool:
        return client in s.secrets and s.secrets[client] == secret

    # --- Meta ------------------------------------------------------------------------------
    def graph_error(code: int, message: str, subcode: int | None = None) -> JSONResponse:
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Ax"}
        if subcode:
            error["error_subcode"] = subcode
        return JSONResponse({"error": error}, status_code=400)

    def graph_user(request: Request) -> JSONResponse | None:
        info = s.tokens.get(_bearer(request))
        if info is None or info["platform"] != "instagram":
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        if info["status"] == "expired":
            return graph_error(190, "Error validating access token: Session has expired", 463)
        if info["status"] == "revoked":
            return graph_error(190, "Error validating access token: user changed password", 460)
        return None

    @app.get("/www.facebook.com/v21.0/dialog/oauth")
    def meta_dialog(request: Request) -> Response:
        return authorize("instagram", request)

    @app.post(G + "/oauth/access_token")
    async def meta_token(request: Request) -> Response:
        form = await request.form()
        if not client_ok(form.get("client_id"), form.get("client_secret")):
            return graph_error(101, "Error validating application. Invalid application ID.")
        if form.get("grant_type") == "fb_exchange_token":
            short = s.tokens.get(form.get("fb_exchange_token", ""))
            if short is None or short["status"] != "ok":
                return graph_error(190, "Invalid OAuth access token")
            token = s.token("instagram", "access", "EAAl")
            return JSONResponse(
                {"access_token": token, "token_type": "bearer", "expires_in": 5183944}
            )
        if take_code("instagram", form, form.get("client_id")) is None:
            return graph_error(100, "This authorization code has been used.", 36009)
        token = s.token("instagram", "access", "EAAs")
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": 3600})

    @app.get(G + "/me/accounts")
    def meta_pages(request: Request) -> Response:
        if (problem := graph_user(request)) is not None:
            return problem
        ig, name = IDENTITIES["instagram"]
        return JSONResponse(
            {
                "data": [
                    {"name": "A page without Instagram", "id": "101"},
                    {
                        "name": "Ana",
                        "id": "102",
                        "instagram_business_account": {"id": ig, "username": name},
                    },
                ],
                "paging": {"cursors": {"before": "a", "after": "b"}},
            }
        )

    @app.delete(G + "/me/permissions")
    def meta_revoke(request: Request) -> Response:
        if (problem := graph_user(request)) is not None:
            return problem
        s.tokens[_bearer(request)]["status"] = "revoked"
        s.revoked.append("instagram")
        return JSONResponse({"success": True})

    @app.get(G + "/{node}/insights")
    def meta_insights(node: str, request: Request) -> Response:
        if (problem := graph_user(request)) is not None:
            return problem
        q = request.query_params
        if node.startswith("1790"):  # a story
            data = [
                {
                    "name": m,
                    "period": "lifetime",
                    "values": [{"value": v}],
                    "id": f"{node}/insights/{m}/lifetime",
                }
                for m, v in (("reach", 321), ("replies", 4), ("shares", 2))
            ]
            return JSONResponse({"data": data})
        if q.get("metric") == "follower_demographics":
            values = {
                "country": [("FR", 540), ("BE", 120), ("CH", 40)],
                "age": [("18-24", 300), ("25-34", 350), ("35-44", 50)],
                "gender": [("F", 520), ("M", 170), ("U", 10)],
            }[q["breakdown"]]
            results = [{"dimension_values": [k], "value": v} for k, v in values]
            series = {
                "name": "follower_demographics",
                "period": "lifetime",
                "title": "Follower demographics",
                "total_value": {
                    "breakdowns": [{"dimension_keys": [q["breakdown"]], "results": results}]
                },
                "id": f"{node}/insights/follower_demographics/lifetime",
            }
            return JSONResponse({"data": [series]})
        data = []
        for index, metric in enumerate(q.get("metric", "").split(",")):
            values = [
                {"value": 100 * (index + 1) + day, "end_time": f"2026-11-2{day}T08:00:00+0000"}
                for day in (4, 5)
            ]
            data.append(
                {
                    "name": metric,
                    "period": "day",
                    "values": values,
                    "title": metric,
                    "id": f"{node}/insights/{metric}/day",
                }
            )
        return JSONResponse({"data": data, "paging": {"previous": "p", "next": "n"}})

    @app.get(G + "/{node}/stories")
    def meta_stories(node: str, request: Request) -> Response:
        if (problem := graph_user(request)) is not None:
            return problem
        return JSONResponse(
            {"data": [{"id": "17900000000000001", "timestamp": "2026-11-25T10:00:00+0000"}]}
        )

    @app.get(G + "/{node}")
    def meta_node(node: str, request: Request) -> Response:
        if (problem := graph_user(request)) is not None:
            return problem
        ig, name = IDENTITIES["instagram"]
        if node != ig:
            return graph_error(100, "Unsupported get request.", 33)
        return JSONResponse({"followers_count": 1234, "username": name, "id": ig})

    # --- Google ----------------------------------------------------------------------------
    def google_user(request: Request) -> JSONResponse | None:
        info = s.tokens.get(_bearer(request))
        if info is None or info["platform"] != "youtube" or info["status"] != "ok":
            error = {
                "code": 401,
                "message": "Request had invalid authentication credentials. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
                "errors": [
                    {"message": "Invalid Credentials", "domain": "global", "reason": "authError"}
                ],
                "status": "UNAUTHENTICATED",
            }
            return JSONResponse({"error": error}, status_code=401)
        return None

    def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description}, status_code=status)

    @app.get("/accounts.google.com/o/oauth2/v2/auth")
    def google_auth(request: Request) -> Response:
        return authorize("youtube", request)

    @app.post("/oauth2.googleapis.com/token")
    async def google_token(request: Request) -> Response:
        form = await request.form()
        if not client_ok(form.get("client_id"), form.get("client_secret")):
            return oauth_error("invalid_client", "Unauthorized", 401)
        if form.get("grant_type") == "refresh_token":
            info = s.tokens.get(form.get("refresh_token", ""))
            if info is None or info["status"] != "ok":
                return oauth_error("invalid_grant", "Token has been expired or revoked.")
            token = s.token("youtube", "access", "ya29.")
            return JSONResponse(
                {
                    "access_token": token,
                    "expires_in": 3599,
                    "scope": "yt-analytics.readonly",
                    "token_type": "Bearer",
                }
            )
        if form.get("grant_type") != "authorization_code":
            return oauth_error("unsupported_grant_type", "Invalid grant_type")
        if take_code("youtube", form, form.get("client_id")) is None:
            return oauth_error("invalid_grant", "Bad Request")
        return JSONResponse(
            {
                "access_token": s.token("youtube", "access", "ya29."),
                "expires_in": 3599,
                "refresh_token": s.token("youtube", "refresh", "1//"),
                "scope": "https://www.googleapis.com/auth/yt-analytics.readonly",
                "token_type": "Bearer",
            }
        )

    @app.post("/oauth2.googleapis.com/revoke")
    async def google_revoke(request: Request) -> Response:
        form = await request.form()
        info = s.tokens.get(form.get("token", ""))
        if info is None:
            return oauth_error("invalid_token", "Token expired or revoked")
        s.set_status("youtube", "revoked", "access")
        info["status"] = "revoked"
        s.revoked.append("youtube")
        return JSONResponse({})

    @app.get("/www.googleapis.com/youtube/v3/channels")
    def youtube_channels(request: Request) -> Response:
        if (problem := google_user(request)) is not None:
            return problem
        channel, handle = IDENTITIES["youtube"]
        item = {
            "kind": "youtube#channel",
            "etag": "e",
            "id": channel,
            "snippet": {"title": "Cy", "customUrl": handle},
        }
        return JSONResponse({"kind": "youtube#channelListResponse", "etag": "e", "items": [item]})

    @app.get("/youtubeanalytics.googleapis.com/v2/reports")
    def youtube_reports(request: Request) -> Response:
        if (problem := google_user(request)) is not None:
            return problem
        q = request.query_params
        dims = q.get("dimensions")
        if dims == "ageGroup,gender":
            headers = [
                ("ageGroup", "DIMENSION", "STRING"),
                ("gender", "DIMENSION", "STRING"),
                ("viewerPercentage", "METRIC", "FLOAT"),
            ]
            rows = [
                ["age18-24", "female", 30.5],
                ["age18-24", "male", 19.5],
                ["age25-34", "female", 35.0],
                ["age25-34", "male", 15.0],
            ]
        elif dims == "country":
            headers = [("country", "DIMENSION", "STRING"), ("views", "METRIC", "INTEGER")]
            rows = [["FR", 9000], ["CA", 1200]]
        else:
            headers = [(m, "METRIC", "INTEGER") for m in q.get("metrics", "").split(",")]
            rows = [[52000, 180000, 420]]
        column_headers = [{"name": n, "columnType": c, "dataType": d} for n, c, d in headers]
        return JSONResponse(
            {"kind": "youtubeAnalytics#resultTable", "columnHeaders": column_headers, "rows": rows}
        )

    # --- TikTok ----------------------------------------------------------------------------
    def tiktok_error(code: str, message: str, status: int) -> JSONResponse:
        return JSONResponse(
            {"data": {}, "error": {"code": code, "message": message, "log_id": "L1"}},
            status_code=status,
        )

    def tiktok_user(request: Request) -> JSONResponse | None:
        info = s.tokens.get(_bearer(request))
        if info is None or info["platform"] != "tiktok" or info["status"] != "ok":
            return tiktok_error(
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
                401,
            )
        return None

    @app.get("/www.tiktok.com/v2/auth/authorize/")
    def tiktok_auth(request: Request) -> Response:
        return authorize("tiktok", request)

    @app.post("/open.tiktokapis.com/v2/oauth/token/")
    async def tiktok_token(request: Request) -> Response:
        form = await request.form()
        if not client_ok(form.get("client_key"), form.get("client_secret")):
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "Client key or secret is incorrect.",
                    "log_id": "L2",
                },
                status_code=401,
            )
        if form.get("grant_type") == "refresh_token":
            info = s.tokens.get(form.get("refresh_token", ""))
            if info is None or info["status"] != "ok":
                return oauth_error("invalid_grant", "Refresh token is invalid or expired.")
            info["status"] = "revoked"  # TikTok may rotate the refresh token
        elif take_code("tiktok", form, form.get("client_key")) is None:
            return oauth_error("invalid_grant", "Authorization code is expired.")
        open_id, _handle = IDENTITIES["tiktok"]
        return JSONResponse(
            {
                "access_token": s.token("tiktok", "access", "act."),
                "expires_in": 86400,
                "open_id": open_id,
                "refresh_expires_in": 31536000,
                "refresh_token": s.token("tiktok", "refresh", "rft."),
                "scope": "user.info.basic,user.info.stats,video.list",
                "token_type": "Bearer",
            }
        )

    @app.post("/open.tiktokapis.com/v2/oauth/revoke/")
    async def tiktok_revoke(request: Request) -> Response:
        form = await request.form()
        if not client_ok(form.get("client_key"), form.get("client_secret")):
            return oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
        info = s.tokens.get(form.get("token", ""))
        if info is not None:
            info["status"] = "revoked"
        s.set_status("tiktok", "revoked", "access")
        s.revoked.append("tiktok")
        return Response(status_code=200)

    @app.get("/open.tiktokapis.com/v2/user/info/")
    def tiktok_info(request: Request) -> Response:
        if (problem := tiktok_user(request)) is not None:
            return problem
        open_id, handle = IDENTITIES["tiktok"]
        user = {
            "open_id": open_id,
            "username": handle,
            "display_name": "Ana",
            "follower_count": 50210,
            "following_count": 80,
            "likes_count": 900000,
            "video_count": 3,
        }
        wanted = request.query_params.get("fields", "").split(",")
        return JSONResponse(
            {
                "data": {"user": {k: v for k, v in user.items() if k in wanted}},
                "error": {"code": "ok", "message": "", "log_id": "L3"},
            }
        )

    @app.post("/open.tiktokapis.com/v2/video/list/")
    async def tiktok_videos(request: Request) -> Response:
        if (problem := tiktok_user(request)) is not None:
            return problem
        body = await request.json()
        videos = [
            {
                "id": "7300000000000000001",
                "create_time": 1764000000,
                "view_count": 12000,
                "like_count": 900,
                "comment_count": 30,
                "share_count": 12,
            },
            {
                "id": "7300000000000000002",
                "create_time": 1763900000,
                "view_count": 8000,
                "like_count": 500,
                "comment_count": 10,
                "share_count": 3,
            },
            {
                "id": "7300000000000000003",
                "create_time": 1763800000,
                "view_count": 3000,
                "like_count": 100,
                "comment_count": 2,
                "share_count": 0,
            },
        ]
        first = "cursor" not in body
        data = {
            "videos": videos[:2] if first else videos[2:],
            "cursor": 1763850000000 if first else 0,
            "has_more": first,
        }
        return JSONResponse({"data": data, "error": {"code": "ok", "message": "", "log_id": "L4"}})

    return app
