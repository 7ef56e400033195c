from __future__ import annotations

from django.http import HttpRequest


def shop_url(request: HttpRequest, host: str, path: str = "/") -> str:
    """An absolute URL on a shop's host, same scheme and port as the current request
    (so it works on http://<sub>.localhost:8000 in development and https in production)."""
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    netloc = host if port in (default, "", None) else f"{host}:{port}"
    return f"{request.scheme}://{netloc}{path}"
