from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """People: platform admins in the public schema; a shop's staff and customers in its schema.

    Installed in both SHARED_APPS and TENANT_APPS, so every schema has its own users table:
    a shop's staff exist only in that shop.
    """

    name = "tenants.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    # Permissions this app's roles get (see tenants/accounts/roles.py); the owner gets all.
    role_permissions = {
        "manager": ["accounts.view_staff"],
    }

    def ready(self) -> None:
        # Imported here: models are not loaded when this module is imported.
        from tenants.accounts.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="accounts.roles_sync")
