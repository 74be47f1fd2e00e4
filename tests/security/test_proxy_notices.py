"""The in-page notice machinery must not hand the AI service anything of pupilguard's own."""
from __future__ import annotations


def test_pupilguard_browser_cookie_is_not_forwarded_to_the_ai_service(proxy, upstream):
    # The notice board's per-browser id is pupilguard's; the AI provider has no use for it and should not get a
    # second stable identifier for the member of staff.
    bid = "A" * 32
    with proxy.client() as client:
        client.get("https://chatgpt.com/", headers={"cookie": f"__Host-pupilguard-bid={bid}; theirs=1"})
    [received] = upstream.requests_to("/")
    assert "theirs=1" in received.headers.get("cookie", "")
    assert bid not in received.headers.get("cookie", ""), "pupilguard's browser id was sent to the AI service"
