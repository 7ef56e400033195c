"""Staff roles are auth Groups in each shop's schema, with permissions from code.

Each app declares what its roles may do on its AppConfig::

    role_permissions = {"sales": ["sales.confirm_order"], "manager": ["sales.cancel_order"]}

`roles_sync()` gathers those declarations and makes the groups match. It runs when a shop is
provisioned and after every migrate of a schema, so a new permission reaches every shop on deploy.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.utils.translation import gettext_lazy as _

OWNER = "owner"
MANAGER = "manager"
SALES = "sales"
WAREHOUSE = "warehouse"
ACCOUNTANT = "accountant"

ROLE_CHOICES = [
    (OWNER, _("Owner")),
    (MANAGER, _("Manager")),
    (SALES, _("Sales")),
    (WAREHOUSE, _("Warehouse")),
    (ACCOUNTANT, _("Accountant")),
]
ROLES = [code for code, _label in ROLE_CHOICES]
ROLE_LABELS = dict(ROLE_CHOICES)
ROLE_DESCRIPTIONS = {
    OWNER: _("Everything, including staff, plan and shop settings."),
    MANAGER: _("Runs the shop day to day: catalog, sales, cancellations, reports."),
    SALES: _("Customers, quotes and orders."),
    WAREHOUSE: _("Stock and shipping."),
    ACCOUNTANT: _("Invoices, payments and exports."),
}


def declared_permissions() -> dict[str, set[str]]:
    """role -> {"app_label.codename"} from every installed app's `role_permissions`."""
    declared: dict[str, set[str]] = {role: set() for role in ROLES}
    for config in apps.get_app_configs():
        for role, perms in getattr(config, "role_permissions", {}).items():
            declared[role].update(perms)
    return declared


def roles_sync() -> None:
    """Create the role groups in the current schema and give them exactly their permissions.
    The owner gets every permission of the schema."""
    declared = declared_permissions()
    all_perms = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        if role == OWNER:
            wanted = set(all_perms.values())
        else:
            wanted = {all_perms[p] for p in declared[role] if p in all_perms}
        current = set(group.permissions.values_list("pk", flat=True))
        if wanted != current:
            group.permissions.set(wanted)


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    # post_migrate fires once per app; permissions of every app exist only after the last one.
    last = list(apps.get_app_configs())[-1]
    if sender.label != last.label:
        return
    if connection.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return  # platform admins have no shop roles
    # This receiver runs before django.contrib.auth's (accounts is installed first), so the
    # last app's own permissions do not exist yet: make them first (it is idempotent).
    create_permissions(sender, verbosity=0, using=using, apps=kwargs.get("apps", apps))
    roles_sync()
