"""A minimal browser for the benchmark: real HTTP to the gunicorn server on 127.0.0.1, with the
Host header of the site it means (Python does not resolve *.localhost), and host-only cookies."""

from __future__ import annotations

import http.client
import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
PASSWORD = "Bench-signup-password-2024"


class SignupFailed(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    location: str | None
    body: bytes


class Browser:
    """One visitor: a cookie jar per host name (Django's cookies here are host-only)."""

    def __init__(self, port: int, timeout: float = 180.0):
        self.port = port
        self.timeout = timeout
        self.jars: dict[str, dict[str, str]] = {}

    def request(self, method: str, host: str, path: str, form: dict | None = None, *,
                body: str | None = None, extra_headers: dict | None = None) -> Response:
        hostname = host.split(":")[0]
        jar = self.jars.setdefault(hostname, {})
        headers = {"Host": host, "User-Agent": "shop-bench/1", "Accept-Language": "en",
                   **(extra_headers or {})}
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            for raw in resp.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(raw)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        jar.pop(name, None)
                    else:
                        jar[name] = morsel.value
            return Response(resp.status, resp.headers.get("Location"), data)
        finally:
            conn.close()


    def post_json(self, host: str, path: str, body: str, headers: dict) -> Response:
        return self.request("POST", host, path, body=body,
                            extra_headers={"Content-Type": "application/json", **headers})


def platform_host(port: int) -> str:
    return f"localhost:{port}"


def signup(port: int, *, name: str, subdomain: str, plan: str = "starter") -> dict[str, float]:
    """One signup as a browser does it. The timed part starts at the form POST and ends when
    the shop's dashboard answers 200 with the shop's name in it (hand-off followed).
    Returns the phases in milliseconds; raises SignupFailed on any unexpected answer."""
    browser = Browser(port)
    platform = platform_host(port)
    form_page = browser.request("GET", platform, "/signup/")  # untimed: the visitor reads the form
    match = CSRF_INPUT.search(form_page.body.decode())
    if form_page.status != 200 or not match:
        raise SignupFailed(f"GET /signup/ answered {form_page.status} without a CSRF token")
    form = {
        "csrfmiddlewaretoken": match.group(1),
        "name": name,
        "subdomain": subdomain,
        "email": f"owner@{subdomain}.example.com",
        "password": PASSWORD,
        "plan": plan,
    }

    t0 = time.perf_counter()
    posted = browser.request("POST", platform, "/signup/", form=form)
    t1 = time.perf_counter()
    if posted.status != 302 or not posted.location:
        snippet = posted.body.decode(errors="replace")[:600]
        raise SignupFailed(f"POST /signup/ answered {posted.status}: {snippet}")
    target = urlsplit(posted.location)
    expected = f"{subdomain}.localhost:{port}"
    if target.netloc != expected or not target.path.startswith("/accounts/handoff/"):
        raise SignupFailed(f"POST /signup/ redirected to {posted.location!r}")

    landed = browser.request("GET", target.netloc, target.path)
    t2 = time.perf_counter()
    if landed.status != 302 or not landed.location:
        raise SignupFailed(f"hand-off answered {landed.status}")
    next_path = urlsplit(urljoin(posted.location, landed.location)).path
    if next_path != "/dashboard/":
        raise SignupFailed(f"hand-off redirected to {landed.location!r} (token refused?)")

    dashboard = browser.request("GET", target.netloc, next_path)
    t3 = time.perf_counter()
    if dashboard.status != 200 or name.encode() not in dashboard.body:
        raise SignupFailed(f"dashboard answered {dashboard.status} (shop name present: "
                           f"{name.encode() in dashboard.body})")
    return {
        "total": (t3 - t0) * 1000,
        "post": (t1 - t0) * 1000,
        "handoff": (t2 - t1) * 1000,
        "dashboard": (t3 - t2) * 1000,
    }


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | str = "no answer"
    while time.monotonic() < deadline:
        try:
            resp = Browser(port, timeout=5).request("GET", platform_host(port), "/healthz")
            if resp.status == 200:
                return
            last = f"status {resp.status}"
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {timeout:.0f} s: {last}")
