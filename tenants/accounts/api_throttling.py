"""Rate limits of the shop API (settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]).

- Staff: per API token (each integration has its own budget), or per user on a session; a
  sustained rate and a burst rate (`staff`, `staff_burst`).
- Anonymous: per client address (`anon`, `anon_burst`): the schema and its docs, and every
  request whose credentials are missing or wrong (`throttle_failed_authentication`), so keys
  cannot be guessed at full speed.

Counters live in the default cache, whose keys go through django_tenants.cache.make_key: each
shop has its own counters, even for the same user id or address. A 429 answers
`{"detail": ...}` with `Retry-After` (seconds). The rates are read at each request from
settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (environment variables API_RATE_*), not
frozen at import as DRF's own classes do, so they can change without a code change.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from tenants.accounts.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class StaffRateThrottle(_SettingsRateThrottle):
    scope = "staff"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated:
            return None
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        else:
            ident = f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class StaffBurstRateThrottle(StaffRateThrottle):
    scope = "staff_burst"


class AnonymousRateThrottle(_SettingsRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AnonymousBurstRateThrottle(AnonymousRateThrottle):
    scope = "anon_burst"


def throttle_failed_authentication(exc: exceptions.APIException,
                                   context: dict[str, Any]) -> exceptions.Throttled | None:
    """Count a refused authentication against the view's anonymous rates; once a rate is
    spent, the answer is a 429 instead of the 401. (DRF checks throttles only after the
    permissions, so an unauthenticated request would otherwise never be counted.)"""
    view, request = context.get("view"), context.get("request")
    if view is None or request is None:
        return None
    waits = [throttle.wait() for throttle in view.get_throttles()
             if isinstance(throttle, AnonymousRateThrottle)
             and not throttle.allow_request(request, view)]
    if not waits:
        return None
    known = [wait for wait in waits if wait is not None]
    return exceptions.Throttled(wait=max(known) if known else None)
