"""Calls to the platforms' APIs: JSON over HTTPS, retried with exponential back-off and full
jitter on 429 and 5xx answers and on the platforms' rate-limit errors, honouring Retry-After.

Secrets travel in headers (``X-goog-api-key``; ``Authorization: Bearer``), never in a URL, so
no request log (httpx logs each URL) and no error message can hold one.

Back-off: the n-th retry waits a random time in [0, base · 2ⁿ] ("full jitter", AWS
Architecture Blog, "Exponential Backoff And Jitter", 2015), or what Retry-After asks if longer;
a wait longer than ``connector_max_wait`` stops the run cleanly instead."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from microfluence.connectors.settings import ConnectorSettings
from microfluence.kernel.errors import MicrofluenceError

log = logging.getLogger("microfluence.connectors")

TOO_MANY = 429
SERVER_ERROR = 500


class ConnectorError(MicrofluenceError):
    """A platform refused a call for a reason that retrying will not fix."""

    code = "connector_error"

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class StopRun(ConnectorError):  # noqa: N818 - a signal to stop, not a fault of the input
    """The run cannot go on today (quota spent, rate limited for long, credentials refused):
    what was fetched so far is kept and reported."""

    code = "connector_stopped"


class QuotaExhausted(StopRun):
    code = "quota_exhausted"


class RateLimited(StopRun):
    code = "rate_limited"


class CredentialRejected(StopRun):
    code = "credentials_rejected"


class NotReadable(ConnectorError):
    """This one handle cannot be read (no such channel, a personal account…): the run goes on."""

    code = "not_readable"


@dataclass(frozen=True)
class Verdict:
    """How a platform's error answer is to be handled: ``retry`` (a rate limit or a hiccup), or
    ``error`` to raise."""

    retry: bool
    error: ConnectorError | None = None


Classify = Callable[[httpx.Response, Any], Verdict]
Sleep = Callable[[float], None]


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@dataclass
class ApiClient:
    """One platform's API: a base URL, the secret's header, and the retry policy."""

    base_url: str
    headers: Mapping[str, str]
    settings: ConnectorSettings
    classify: Classify
    sleep: Sleep = time.sleep
    on_response: Callable[[httpx.Response], None] | None = None
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers=dict(self.headers),
            timeout=self.settings.connector_timeout,
            transport=self.transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def wait(self, seconds: float, why: str) -> None:
        """Sleep ``seconds`` for a rate limit to lift, or stop the run if that is too long."""
        if seconds > self.settings.connector_max_wait:
            raise RateLimited(
                f"{why}: it lifts in about {round(seconds / 60)} min, longer than "
                f"MICROFLUENCE_CONNECTOR_MAX_WAIT; run again later"
            )
        if seconds > 0:
            self.sleep(seconds)

    def get(self, path: str, params: Mapping[str, Any]) -> Any:
        """The JSON answer of ``GET path``; retries rate limits and 5xx, raises the rest."""
        retries = self.settings.connector_retries
        for attempt in range(retries + 1):
            try:
                response = self._client.get(path, params=dict(params))
            except httpx.TransportError as exc:
                verdict = Verdict(retry=True, error=ConnectorError(f"cannot reach the API: {exc}"))
                response = None
            else:
                if self.on_response is not None:
                    self.on_response(response)
                if response.is_success:
                    body = _body(response)
                    if body is None:
                        raise ConnectorError("the API answered with something that is not JSON")
                    return body
                verdict = self._verdict(response)
            if not verdict.retry:
                raise verdict.error or ConnectorError("the API refused the call")
            if attempt == retries:
                break
            delay = random.uniform(0, self.settings.connector_backoff * 2**attempt)  # noqa: S311
            if response is not None:
                delay = max(delay, _retry_after(response))
            log.info("%s: retry %d of %d in %.1f s", path, attempt + 1, retries, delay)
            self.wait(delay, "the API is rate limiting")
        error = verdict.error
        if isinstance(error, StopRun):
            raise error
        raise RateLimited(
            f"the API still refused after {retries} retries"
            + (f" ({error.message})" if error is not None else "")
        )

    def _verdict(self, response: httpx.Response) -> Verdict:
        verdict = self.classify(response, _body(response))
        if verdict.error is None and not verdict.retry:
            if response.status_code == TOO_MANY or response.status_code >= SERVER_ERROR:
                return Verdict(
                    retry=True,
                    error=ConnectorError(
                        f"HTTP {response.status_code}", status=response.status_code
                    ),
                )
            return Verdict(
                retry=False,
                error=ConnectorError(
                    f"the API answered HTTP {response.status_code}", status=response.status_code
                ),
            )
        return verdict
