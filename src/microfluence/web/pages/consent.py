"""The Content-Security-Policy of the pages whose forms lead to a platform's consent page (the
creator portal, a connect link): the pages' own policy, with ``form-action`` also allowing the
platforms' authorization origins — browsers apply ``form-action`` to the redirect that follows
a form, so the 303 to Facebook, Google or TikTok would otherwise be blocked."""

from __future__ import annotations

from urllib.parse import urlsplit

from microfluence.connectors.oauth.platforms import PLATFORMS, routed
from microfluence.web.headers import PAGE_CSP


def consent_csp() -> str:
    origins = sorted(
        {
            f"{parts.scheme}://{parts.netloc}"
            for parts in (urlsplit(routed(p.authorize_url)) for p in PLATFORMS.values())
        }
    )
    return PAGE_CSP.replace("form-action 'self'", " ".join(("form-action 'self'", *origins)))
