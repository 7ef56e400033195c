from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from tenants.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    # The admin is mounted on the platform host only, where these are platform admins. Deleting
    # one would make Django collect its rows in every app, and the shops' apps (streams, sales,
    # billing...) have no tables in the public schema: the page crashed. Deactivate instead
    # (untick "active"); the audit log keeps who did what.
    def has_delete_permission(self, request, obj=None) -> bool:
        return False
