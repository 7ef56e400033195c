from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Platform: shops and plans"

    def ready(self) -> None:
        post_migrate.connect(_ensure_public, sender=self, dispatch_uid="tenants.ensure_public")


def _ensure_public(sender, **kwargs) -> None:
    # Imported here: services import models, which are not ready when apps.py is imported.
    from django.conf import settings
    from django.db import connection

    from tenants.services import platform_ensure_public

    if connection.schema_name == settings.PUBLIC_SCHEMA_NAME:
        platform_ensure_public()
