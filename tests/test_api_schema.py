"""Schemathesis against the OpenAPI schema: generated requests (valid and invalid) to every
operation never make the server fail, and answers match what the schema documents."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
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
