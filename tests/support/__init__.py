"""The test harness, shared by every test folder. Fixture modules are registered once, in tests/conftest.py;
plain helpers are imported from here by name (a test module never imports another test module).

| module | what it holds |
|---|---|
| `proxy` | fixtures: a test CA, the HTTPS fake AI upstream, real `pupilguard proxy` processes, a fake admin ingest |
| `admin` | fixtures: the admin app on SQLite and PostgreSQL, clients, accounts per role, proxy tokens, signing in |
| `stored_events` | events as a proxy sent them, stored; the decisions casework tests need |
| `detectors` | fixtures: the engine with and without the test roster; `engine_for_roster` for a roster of your own |
| `browser` | Debian's Chromium through Playwright, and the admin app served by uvicorn |
| `net` | free loopback ports |
| `mail` | fixtures: a certificate for 127.0.0.1; a real SMTP server (STARTTLS + AUTH) |
| `pictures` | class lists drawn as images, and OCR read-back of what survived |
| `files` | Word, Excel, PNG and PDF files built in memory |
| `chat_site` | a fake chat web site with a strict CSP, for the in-page notice |
| `json_paths` | which JSON paths a rewrite changed |
"""
