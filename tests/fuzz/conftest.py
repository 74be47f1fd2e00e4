"""Fuzz profile: a CI-sized run in the normal suite (seconds); PUPILGUARD_FUZZ_EXAMPLES=N for a long run by hand:

    PUPILGUARD_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/fuzz -q --timeout=0 \
        -k "not upstream" --hypothesis-show-statistics

The Office property runs a third as many examples (each builds, reads and rewrites a document) unless
PUPILGUARD_FUZZ_OFFICE_EXAMPLES says how many, the end-to-end property (through a real proxy) a twentieth.
`bench/fuzz_long.py` runs both properties at 10,000 cases each and reports the time taken.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("pupilguard-fuzz", max_examples=int(os.environ.get("PUPILGUARD_FUZZ_EXAMPLES", "60")),
                          deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much,
                                                 HealthCheck.function_scoped_fixture])
