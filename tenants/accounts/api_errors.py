"""The shop API's error bodies, whatever the resource (see docs/api.md, "Errors").

- 400: `{"errors": {"<field>": ["message", ...]}}`; `non_field_errors` for the whole request,
  dotted keys for nested input (`lines.1.quantity`).
- 401, 403, 404, 405, 406, 415, 429: `{"detail": "message"}` (429 also has `Retry-After`).
- A workflow action refused by the object's state (409) or the user's role (403) adds what the
  client needs to decide what to do next: `{"errors": {"status": [...]}, "state": ..., "allowed":
  [...]}` (built by the apps: sales.api.common, streams.api.milestones).

`api_exception_handler` is the API's default (settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]);
each app's handler maps its own domain errors, then falls back to it. It lives here, at the
bottom of the dependency order, so catalog, sales, billing and streams can all use it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from tenants.accounts.api_throttling import throttle_failed_authentication

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors (a quote's lines) as flat keys, `lines.1.quantity`, so every
    400 keeps the documented shape `{field: [messages]}`; a bare list or message goes under
    `non_field_errors`."""
    flat: dict[str, list[str]] = {}

    def add(key: str, messages: list[str]) -> None:
        flat.setdefault(key or NON_FIELD, []).extend(messages)

    if isinstance(errors, dict):
        for key, value in errors.items():
            name = prefix if key == NON_FIELD and prefix else ".".join(
                p for p in (prefix, str(key)) if p)
            for sub, messages in flatten_errors(value, name).items():
                add(sub, messages)
    elif isinstance(errors, list) and any(isinstance(e, (dict, list)) for e in errors):
        for index, item in enumerate(errors):
            if item:
                for sub, messages in flatten_errors(
                        item, f"{prefix}.{index}" if prefix else str(index)).items():
                    add(sub, messages)
    elif isinstance(errors, list):
        add(prefix, [str(e) for e in errors])
    else:
        add(prefix, [str(errors)])
    return flat


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's answer (which also sets `Retry-After` on a 429), with every 400 as
    `{"errors": {field: [messages]}}`, even when the body could not be parsed at all."""
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # Failed and missing credentials count against the anonymous rate (token guessing).
        exc = throttle_failed_authentication(exc, context) or exc
    response = exception_handler(exc, context)
    if response is None or response.status_code != status.HTTP_400_BAD_REQUEST:
        return response
    data = response.data
    if not isinstance(exc, exceptions.ValidationError):  # e.g. a body that is not valid JSON
        data = [data.get("detail", data)] if isinstance(data, dict) else data
    response.data = {"errors": flatten_errors(data)}
    return response


# --- documentation of the bodies (used by tenants.accounts.api_schema) ----------------------

class ErrorsSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("Messages per field (`lines.1.quantity` for nested input); "
                               "`non_field_errors` for the whole request."))


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=gettext_lazy("What went wrong, in words."))
