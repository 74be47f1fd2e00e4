"""What the proxy writes about a request (spool events, log) must not carry the request's own words."""
from __future__ import annotations

import json
import sqlite3
import time

UPN = "T801200115100"


def _spool_bytes(proxy) -> bytes:
    return b"".join(p.read_bytes() for p in (proxy.data_dir / "spool").iterdir() if p.is_file())


def _events(proxy) -> list[dict]:
    with sqlite3.connect(proxy.data_dir / "spool" / "events.sqlite3") as db:
        return [json.loads(body) for (body,) in db.execute("SELECT body FROM events ORDER BY seq")]


def test_a_blocked_page_address_does_not_put_prompt_words_in_the_event(proxy, upstream):
    # Perplexity (not approved in this allowlist) names its answer pages after the question:
    # /search/<slug of the question>. The refusal is recorded as an event; its `path` must not carry the slug.
    path = f"/search/write-a-support-plan-for-upn-{UPN.lower()}-who-has-adhd-AbCdEf"
    with proxy.client() as client:
        r = client.get(f"https://www.perplexity.ai{path}",
                       headers={"accept": "text/html", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"})
    assert r.status_code == 403
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(e["host"] == "www.perplexity.ai" for e in _events(proxy)):
        time.sleep(0.1)
    recorded = [e for e in _events(proxy) if e["host"] == "www.perplexity.ai"]
    assert recorded, "the refusal was not recorded"
    assert UPN.lower() not in json.dumps(recorded).lower(), f"event path holds the page's words: {recorded[-1]['path']}"
