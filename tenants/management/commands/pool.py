from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.errors import ProvisioningError
from tenants.services import handoff_purge, pool_size, pool_top_up


class Command(BaseCommand):
    help = "Pool of ready shops: `status`, `fill [--target N]`, `purge-handoffs`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "fill", "purge-handoffs"])
        parser.add_argument("--target", type=int, default=None,
                            help=f"Ready shops wanted (default SHOP_POOL_SIZE={settings.SHOP_POOL_SIZE})")

    def handle(self, *args, action: str, target: int | None, **opts):
        if action == "status":
            self.stdout.write(f"ready: {pool_size()}  target: {settings.SHOP_POOL_SIZE}")
        elif action == "fill":
            try:
                created = pool_top_up(target=target)
            except ProvisioningError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"created {created}; ready: {pool_size()}"))
        else:
            self.stdout.write(f"deleted {handoff_purge()} expired login hand-offs")
