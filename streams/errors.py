"""Errors of streams: each carries a message a person can act on (same shape as the domain
apps' errors: message and field), so views and the API show them the same way."""

from __future__ import annotations


class StreamsError(Exception):
    """A streams operation refused for a reason a person can act on."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
