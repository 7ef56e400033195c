"""Structured logs: one JSON object per line, with the schema (shop) the line belongs to."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from django.db import connection


class SchemaFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "schema"):
            record.schema = getattr(connection, "schema_name", None) or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "schema": getattr(record, "schema", "-"),
            "message": record.getMessage(),
        }
        for key in ("shop", "action", "status_code", "duration_ms", "path"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
