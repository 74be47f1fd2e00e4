"""One logging set-up for every pupilguard service: JSON lines on stderr (python-json-logger).

    setup_logging()        # at the start of `pupilguard proxy` and `pupilguard admin serve`

Each line is one object: time (UTC, ISO 8601), level, logger, message, then whatever the caller passed in `extra`
— and callers pass no prompt text. An exception is logged by its class only: a traceback can quote request data.
"""
from __future__ import annotations

import logging
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryFormatter

# loggers whose routine chatter (client addresses, hosts, one line per poll) stays out unless it is a problem
QUIET = ("mitmproxy", "httpx")


class JsonFormatter(_LibraryFormatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", json_default=str,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger",
                                        "exc_info": "error"})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return ei[0].__name__ if ei and ei[0] is not None else ""

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["level"] = record.levelname.lower()


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
