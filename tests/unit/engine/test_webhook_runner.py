"""The webhook runner keeps going when a call fails in a way nobody planned for."""

from __future__ import annotations

import httpx

JOURNEY = """\
id: j
name: J
owner: a@shop.example
trigger: {event: Order Completed}
steps:
  - id: crm
    webhook: {url: 'https://crm.example/hook'}
    on_error: oops
  - {id: ok, send: {channel: email, template: ok}}
  - {id: end, exit: completed}
  - {id: oops, send: {channel: email, template: oops}}
"""


def test_a_fault_while_calling_fails_that_call_and_the_next_ones_are_still_made(shop):
    shop.publish(JOURNEY)
    shop.ingest(shop.order("c1"), shop.order("c2"))
    seen = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) == 1:
            raise RuntimeError("a bug somewhere below the runner")
        return httpx.Response(200, json={})

    with httpx.Client(transport=httpx.MockTransport(transport)) as http:
        made = shop.engine.run_due_calls(http=http, environ={})

    assert (made.failed, made.succeeded) == (1, 1) and len(seen) == 2
    failed = [row for row in shop.store.calls() if row.status == "failed"]
    assert "RuntimeError: a bug somewhere below the runner" in failed[0].error
    assert "fault in onboardflow" in failed[0].error
    assert sorted(shop.sent(c) for c in ("c1", "c2")) == [["ok"], ["oops"]]
