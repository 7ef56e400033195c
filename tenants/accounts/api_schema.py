"""The OpenAPI schema's error responses, documented once for every operation
(settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

Each view documents its success and its own refusals (a 409 with `state` and `allowed`...);
what every operation can answer anyway is added here, so no operation can forget it: 400 when
it takes a body or query parameters, 401 and 403 unless anyone may call it, 404 when it names
an object in its path or is a paginated list (`?page=` past the end), 429 when it is rate
limited. A 403 the view documents differently (a refused transition) may also be the
permission layer's `{"detail": ...}`: both shapes are documented (`anyOf`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from tenants.accounts.api_errors import DetailSerializer, ErrorsSerializer

BAD_REQUEST = _("Bad input: `errors` says what is wrong, by field; nothing changed.")
UNAUTHENTICATED = _("No credentials, or a token that is invalid or revoked: send "
                    "`Authorization: Token <key>`.")
FORBIDDEN = _("Your role does not allow this.")
NOT_FOUND = _("No such object in this shop (or no such page of the list).")
THROTTLED = _("Too many requests: wait `Retry-After` seconds.")
RETRY_AFTER = _("Seconds to wait before the next request.")


class ShopAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            self._add_error_responses(operation)
        return operation

    def _add_error_responses(self, operation: dict[str, Any]) -> None:
        parameters = operation.get("parameters", [])
        in_path = any(p.get("in") == "path" for p in parameters)
        in_query = any(p.get("in") == "query" for p in parameters)
        paginated = any(p.get("in") == "query" and p.get("name") == "page" for p in parameters)
        anyone = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        errors = self.resolve_serializer(ErrorsSerializer, "response").ref
        detail = self.resolve_serializer(DetailSerializer, "response").ref

        defaults: dict[str, tuple[dict, str]] = {}
        if "requestBody" in operation or in_query:
            defaults["400"] = (errors, BAD_REQUEST)
        if not anyone:
            defaults["401"] = (detail, UNAUTHENTICATED)
            defaults["403"] = (detail, FORBIDDEN)
        if in_path or paginated:
            defaults["404"] = (detail, NOT_FOUND)
        if self.view.get_throttles():
            defaults["429"] = (detail, THROTTLED)

        responses = operation["responses"]
        for code, (schema, description) in defaults.items():
            declared = responses.get(code)
            if declared is None:
                responses[code] = {"content": {"application/json": {"schema": schema}},
                                   "description": str(description)}
            elif "content" not in declared:  # documented in words only: add the body
                declared["content"] = {"application/json": {"schema": schema}}
            elif code == "403":
                for media in declared["content"].values():
                    if media.get("schema") not in (None, schema):
                        media["schema"] = {"anyOf": [media["schema"], schema]}
            if code == "429":
                responses[code].setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"}, "description": str(RETRY_AFTER)}
        operation["responses"] = dict(sorted(responses.items()))
