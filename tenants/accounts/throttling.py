"""Rate limits of sign-in, sign-up and password reset, per email and per client address.

Counted in the default cache, whose keys carry the schema (django-tenants' `make_key`): each
shop, and the platform, has its own counters, so one shop's visitors never use up another's
allowance. Limits come from settings.AUTH_RATE_LIMITS (environment overridable): `attempts`
within `seconds`; once reached, that email or address waits `seconds` (the cool-down).

- Sign-in: failed attempts are counted per email and per address. Once either is locked out,
  every attempt for that email (from any address) or from that address is refused before the
  password is checked. Emails are counted whether or not an account has them, and the refusal
  reads the same, so a lockout says nothing about who has an account. A successful sign-in
  clears the email's count.
- Sign-up and password reset requests: each one counts, per email and per address.

A refusal is an HTTP 429 with the form re-rendered and the reason at the top; nothing else
happens (no account, no email, no password check).

The client address is REMOTE_ADDR, or with proxies in front (REST_FRAMEWORK["NUM_PROXIES"], set
from API_NUM_PROXIES: one setting for the API's throttles and these) the address the proxies
recorded in X-Forwarded-For; what a client writes there itself is never trusted.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

RETRY_AFTER = "Retry-After"


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused, and for how many more seconds."""

    message: str
    retry_after: int


def _digest(value: str) -> str:
    # Keys stay short and free of characters some cache backends refuse.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _subjects(action: str, request: HttpRequest, email: str | None) -> list[tuple[str, str]]:
    """(limit name, counter key) for the address and, if given, the email."""
    subjects = [(f"{action}_ip", f"throttle:{action}:ip:{_digest(client_address(request))}")]
    if email:
        subjects.append((f"{action}_email",
                         f"throttle:{action}:email:{_digest(email.strip().lower())}"))
    return subjects


def client_address(request: HttpRequest) -> str:
    """The client's address, read as the API's throttles read it: REMOTE_ADDR, or behind
    `NUM_PROXIES` proxies (API_NUM_PROXIES) the address the outermost one saw, counted from
    the right of X-Forwarded-For (what the client wrote itself, on the left, is never used)."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _limit(name: str) -> tuple[int, int]:
    attempts, seconds = settings.AUTH_RATE_LIMITS[name]
    return attempts, seconds


def _locked_for(keys: list[str]) -> int:
    """Seconds left on the longest lockout among `keys` (0: none)."""
    now = time.time()
    deadlines = cache.get_many([f"{key}:locked" for key in keys]).values()
    return max((math.ceil(deadline - now) for deadline in deadlines if deadline > now), default=0)


def _count(name: str, key: str) -> None:
    """Counts one more for `key`; reaching the limit starts the lockout."""
    attempts, seconds = _limit(name)
    cache.add(key, 0, seconds)  # the first one opens the window
    try:
        count = cache.incr(key)
    except ValueError:  # the window closed between add and incr
        cache.add(key, 1, seconds)
        count = 1
    if count >= attempts:
        cache.set(f"{key}:locked", time.time() + seconds, seconds)
        cache.delete(key)


def _wait(seconds: int) -> str:
    if seconds >= 3600:
        hours = math.ceil(seconds / 3600)
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _refusal(action: str, seconds: int) -> Refusal:
    wait = _wait(seconds)
    messages = {
        "login": _("Too many failed sign-in attempts. For your security, signing in is paused "
                   "for %(wait)s. Try again later, or reset your password."),
        "signup": _("Too many sign-ups from here. Try again in %(wait)s."),
        "reset": _("Too many password reset requests. Try again in %(wait)s; if an email "
                   "already reached you, its link still works."),
    }
    return Refusal(message=messages[action] % {"wait": wait}, retry_after=seconds)


# ---------------------------------------------------------------------------------------------
# Sign-in: failures counted, successes clear the email's count
# ---------------------------------------------------------------------------------------------
def login_refusal(request: HttpRequest, *, email: str | None) -> Refusal | None:
    """Refused before any password is checked while the email or the address is locked out."""
    seconds = _locked_for([key for _name, key in _subjects("login", request, email)])
    return _refusal("login", seconds) if seconds else None


def login_failed(request: HttpRequest, *, email: str | None) -> None:
    for name, key in _subjects("login", request, email):
        _count(name, key)


def login_succeeded(request: HttpRequest, *, email: str) -> None:
    """The email's failures are forgotten (not the address's: others may be guessing)."""
    cache.delete_many([key for name, key in _subjects("login", request, email)
                       if name == "login_email"])


# ---------------------------------------------------------------------------------------------
# Sign-up and password reset: every request counts
# ---------------------------------------------------------------------------------------------
def attempt(request: HttpRequest, *, action: str, email: str | None) -> Refusal | None:
    """Counts one `action` ("signup" or "reset") for the address and the email, or returns
    a Refusal while either is locked out (then the caller must not go on). The attempt that
    reaches a limit still goes through: `attempts` are allowed per window."""
    subjects = _subjects(action, request, email)
    seconds = _locked_for([key for _name, key in subjects])
    if seconds:
        return _refusal(action, seconds)
    for name, key in subjects:
        _count(name, key)
    return None


def refused(response: HttpResponse, refusal: Refusal) -> HttpResponse:
    """The page re-rendered with the reason: 429, and when to come back."""
    response.status_code = 429
    response[RETRY_AFTER] = str(refusal.retry_after)
    return response


# ---------------------------------------------------------------------------------------------
# Django's auth views, throttled
# ---------------------------------------------------------------------------------------------
class ThrottledLoginView(auth_views.LoginView):
    """Sign-in page answering 429 when the form was refused by the throttle (see
    tenants.accounts.forms.ThrottledAuthenticationForm, which counts and checks)."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        refusal = getattr(form, "refusal", None)
        return refused(response, refusal) if refusal else response


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Password reset requests, limited per email and per address; beyond, the form comes
    back with the reason (429) and no email is sent."""

    def form_valid(self, form):
        refusal = attempt(self.request, action="reset", email=form.cleaned_data["email"])
        if refusal is None:
            return super().form_valid(form)
        form.add_error(None, refusal.message)
        return refused(self.form_invalid(form), refusal)
