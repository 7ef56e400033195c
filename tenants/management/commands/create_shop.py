from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from tenants.errors import ProvisioningError, SignupError
from tenants.models import Plan
from tenants.services import shop_open


class Command(BaseCommand):
    help = "Open a shop from the command line (platform admin CLI)."

    def add_arguments(self, parser):
        parser.add_argument("subdomain")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--password", help="Owner password (prompted if omitted, unless --no-password)")
        parser.add_argument("--no-password", action="store_true",
                            help="Create the owner without a password (they reset it by email)")
        parser.add_argument("--plan", help="Plan code (default plan if omitted)")
        parser.add_argument("--locale", choices=["en", "fr"], default="fr")

    def handle(self, *args, **opts):
        plan = None
        if opts["plan"]:
            plan = Plan.objects.filter(code=opts["plan"]).first()
            if plan is None:
                codes = ", ".join(Plan.objects.values_list("code", flat=True))
                raise CommandError(f"Unknown plan {opts['plan']!r}. Plans: {codes}")
        password = None
        if not opts["no_password"]:
            password = opts["password"] or getpass.getpass("Owner password: ")
        try:
            opened = shop_open(
                name=opts["name"], subdomain=opts["subdomain"], owner_email=opts["owner_email"],
                owner_password=password, plan=plan, locale=opts["locale"],
                action="shop.created",
            )
        except SignupError as exc:
            raise CommandError(f"{exc.field or 'shop'}: {exc.message}") from exc
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Opened {opened.shop.name} at {opened.domain.domain} "
            f"(schema {opened.shop.schema_name}, {'from pool' if opened.from_pool else 'created now'})"
        ))
