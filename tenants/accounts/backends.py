"""Authentication backend: Django's ModelBackend, with a user's permissions read in one query.

ModelBackend asks twice (the user's own permissions, then their groups'); every dashboard page
checks permissions, so this is a query saved on every staff request.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class StaffBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.all()
            else:
                rows = Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in rows.values_list("content_type__app_label", "codename")
                .distinct()
            }
        return user_obj._perm_cache
