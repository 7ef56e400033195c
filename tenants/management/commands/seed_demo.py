from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.models import Domain
from tenants.services import shop_open

DEMO_SUBDOMAIN = "demo"
DEMO_PASSWORD = "demo-password-2026"
DEMO_OWNER = "owner@demo.example"
PLATFORM_ADMIN = "admin@platform.example"


class Command(BaseCommand):
    help = "Create (or refresh) the demo shop and a platform admin, and print their logins."

    def handle(self, *args, **opts):
        if not settings.DEBUG:
            self.stderr.write(self.style.WARNING("DEBUG is off: the demo logins below are public."))
        host = f"{DEMO_SUBDOMAIN}.{settings.BASE_DOMAIN}"
        domain = Domain.objects.select_related("tenant").filter(domain=host).first()
        if domain is None:
            opened = shop_open(
                name="Demo Shop", subdomain=DEMO_SUBDOMAIN, owner_email=DEMO_OWNER,
                owner_password=DEMO_PASSWORD, locale="en", action="shop.created",
            )
            shop = opened.shop
        else:
            shop = domain.tenant
        with schema_context(shop.schema_name), transaction.atomic():
            owner = User.objects.get(email=DEMO_OWNER)
            owner.set_password(DEMO_PASSWORD)
            owner.full_name = owner.full_name or "Demo Owner"
            owner.save()
            # Each app adds its demo data (AppConfig.demo_seed): catalog, then sales, billing...
            for config in apps.get_app_configs():
                if getattr(config, "demo_seed", None):
                    created = import_string(config.demo_seed)()
                    if created:
                        self.stdout.write(f"  {config.label}: {created} demo records")
        admin = User.objects.filter(email=PLATFORM_ADMIN).first()
        if admin is None:
            User.objects.create_superuser(PLATFORM_ADMIN, DEMO_PASSWORD, full_name="Platform Admin")
        else:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Shop staff login:     {DEMO_OWNER} / {DEMO_PASSWORD}  on {host}")
        self.stdout.write(f"  Platform admin login: {PLATFORM_ADMIN} / {DEMO_PASSWORD}  on "
                          f"{settings.BASE_DOMAIN}/console/")
        for config in apps.get_app_configs():
            for line in getattr(config, "demo_logins", []):
                self.stdout.write(f"  {line}")
