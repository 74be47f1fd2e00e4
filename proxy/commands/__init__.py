"""The `pupilguard` subcommands of the proxy package, one module each and named after it (`pupilguard proxy`,
`doctor`, `trial`, `pac`; pyproject's `pupilguard.commands` entry points name their `register_*` functions), with
the helpers only they use: `systemd_unit` (doctor reads the installed unit) and `demo_upstream` (the stand-in AI
service the trial runs with `python -m proxy.commands.demo_upstream`)."""
