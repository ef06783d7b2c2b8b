"""The API fuzzed against its own OpenAPI schema: whatever the request, no 5xx (and no
hang: every call is timed). Bounded and derandomized."""

from __future__ import annotations

import time
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")
from hypothesis import HealthCheck, settings  # noqa: E402

from convtrace.web.app import create_app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_on_the_server(case: Any) -> None:
    start = time.monotonic()
    response = case.call()
    assert response.status_code < 500, (case.body, response.text[:500])
    assert time.monotonic() - start < 10, case.body
