from tests.api.support import legal_shop, wsgi_app

__all__ = ["legal_shop", "wsgi_app"]
