"""Schemathesis over the whole OpenAPI document of `create_app`, in-process and offline: on every operation,
with an admin key, generated requests never get a 5xx, and every answer is one the document describes
(status, content type, body schema, headers). Seeded and bounded, so it runs the same each time in < 60 s."""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from onboardflow.api import create_app
from onboardflow.engine.clock import VirtualClock
from onboardflow.store.sql import SqlStore

from .conftest import ADMIN, T0
from .conftest import settings as app_settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
SECRETS = {"shopify_webhook_secret": "shpss_" + "s" * 32, "woocommerce_webhook_secret": "wc-" + "w" * 32,
           "helpdesk_secret": "whsec_" + "aGVscGRlc2stc2VjcmV0LWZvci1mdXp6LXRlc3Rz",
           "zendesk_webhook_secret": "zd-" + "z" * 32}


# built at import: schemathesis's fixture loader does not work with this pytest (9.2); the folder goes
# when the interpreter ends
_FOLDER = tempfile.TemporaryDirectory(prefix="onboardflow-fuzz-")
_APP = create_app(store=SqlStore.open(f"sqlite:///{_FOLDER.name}/fuzz.db"), settings=app_settings(**SECRETS),
                  clock=VirtualClock(T0))
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_as_documented(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, checks=CHECKS)
