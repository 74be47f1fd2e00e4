"""The API reference page works on a school network with no CDN, under the admin's strict CSP."""
import re


def test_api_reference_is_served_locally_without_inline_script(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert not re.search(r"<script>(?!</script>)", page.text), "inline script would be blocked by the CSP"
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing from another origin
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/openapi.json").json()["paths"]["/api/v1/events"]
