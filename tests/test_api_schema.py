"""Schemathesis against the OpenAPI schema: generated requests (valid and invalid) to every
operation never make the server fail, and answers match what the schema documents."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_support import make_tenant
from microfluence.web.app import create_app

MAX_EXAMPLES = 25  # per operation: enough to find crashes, bounded for CI


def _openapi() -> dict:
    """The schema, from an app over a throwaway store (collection happens before fixtures)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(f"sqlite:///{Path(folder) / 'schema.sqlite'}")
        document = app.openapi()
        app.state.store.dispose()
    return document


schema = schemathesis.openapi.from_dict(_openapi())


@pytest.fixture
def live(sqlite_store):  # type: ignore[no-untyped-def]
    """The app over a store with one workspace's data, and an owner's key (every route open)."""
    tenant = make_tenant(sqlite_store, "acme")
    app = create_app(sqlite_store.url)
    yield app, {"Authorization": f"Bearer {tenant.keys['owner']}"}
    app.state.jobs.shutdown()
    app.state.store.dispose()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors_and_documented_answers(case, live):  # type: ignore[no-untyped-def]
    app, headers = live
    response = case.call(app=app, headers=headers)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


# --- the pages: hypothesis over every page's path and query parameters ------------------------

VALUES = st.one_of(
    # Just past the integers the stores hold (32-bit ids, 64-bit counts).
    st.sampled_from([2**31, 2**63, 10**15 + 1, 10**20, 10**40]).map(str),
    st.sampled_from(
        ["", "-", "0", "1", "%00", "../..", "-followers", "name", "12k", "1.5M", "nan", "1e308"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=40),
)


def _page_routes() -> list[APIRoute]:
    """Every page a browser GETs (the pages' routers hold their routes directly)."""
    from microfluence.web.pages import ROUTERS

    return [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods
    ]


PAGE_ROUTES = _page_routes()


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A signed-in owner's browser on the app over a workspace with a little data."""
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from api_support import make_user
    from microfluence.access import passwords
    from microfluence.kernel.store import open_store
    from pages_support import sign_in

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('pages') / 'store.sqlite'}")
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    original, passwords._hasher = passwords._hasher, cheap
    try:
        make_tenant(store, "acme")
        make_user(store, "owner@acme.io", "acme", "owner")
        app = create_app(store.url)
        with TestClient(app, raise_server_exceptions=False) as client:
            sign_in(client, "owner@acme.io")
            yield client
    finally:
        passwords._hasher = original
        store.dispose()


def test_every_page_is_fuzzed():
    paths = {route.path for route in PAGE_ROUTES}
    assert {"/creators", "/creators/{creator_id}", "/accounts/{account_id}/vetting"} <= paths


BOUNDARIES = [str(2**31), str(2**63), str(10**20), "-1", "1e308", "\x00", "ż" * 5000]


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", quote(value, safe=""), path)


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda r: r.path)
def test_no_page_answers_500_to_any_parameters(signed_in, route):
    """Each parameter alone at the integers' edges and with odd text, then hypothesis."""
    names = [param.alias for param in route.dependant.query_params]
    for value in BOUNDARIES:
        requests = [(_fill(route.path, value), {})] if route.dependant.path_params else []
        requests += [(_fill(route.path, "1"), {name: value}) for name in names]
        for path, query in requests:
            answer = signed_in.get(path, params=query, headers={"Accept": "text/html"})
            assert answer.status_code < 500, (path, query, answer.text[:300])

    @settings(max_examples=8, deadline=None, derandomize=True)
    @given(data=st.data())
    def check(data):  # type: ignore[no-untyped-def]
        path = route.path
        for param in route.dependant.path_params:
            value = data.draw(VALUES.filter(lambda v: v and "/" not in v and v not in (".", "..")))
            path = path.replace("{" + param.name + "}", quote(value, safe=""))
        query = {
            param.alias: value
            for param in route.dependant.query_params
            if (value := data.draw(st.none() | VALUES)) is not None
        }
        answer = signed_in.get(path, params=query, headers={"Accept": "text/html"})
        assert answer.status_code < 500, (path, query, answer.text[:500])

    check()
