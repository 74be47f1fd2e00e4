"""The proxy: mitmproxy with pupilguard's addons, as a school's web proxy for AI traffic.

* `proxy.addons`: the mitmproxy addons, one a module, and `default_addons`, which builds them in hook order;
* `proxy.commands`: the `pupilguard` subcommands (`proxy`, `doctor`, `trial`, `pac`);
* `proxy.adapters`: reading and rewriting the bodies of each AI tool's requests;
* the modules here: what the addons work with - the catalogue, settings, scan and OCR workers, event spool,
  notices, placeholder restoration, metrics. They never import an addon or a command.
"""
