from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict:
    shop = getattr(request, "tenant", None)
    is_shop = shop is not None and shop.schema_name != settings.PUBLIC_SCHEMA_NAME
    return {
        "BASE_DOMAIN": settings.BASE_DOMAIN,
        "PLATFORM_NAME": "Shopfleet",
        "current_shop": shop if is_shop else None,
    }
