"""Authentication backend: Django's ModelBackend, with the signed-in user, their permissions and
their role read in one query.

ModelBackend reads the user on every request, then asks twice for permissions (the user's own,
then their groups'), and the dashboard shell asks for the role (the user menu): four queries on
every staff page, where one does. Nothing is cached across requests: the user row, the
permissions and the role are read afresh each time, so a deactivated member, a changed role or
a revoked permission takes effect on the very next request.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Concat


@cache
def _user_sql() -> str:
    """The request's user with `granted` (their permission names, own and through their
    groups) and `role_name` (their group). Written out rather than built with the ORM: this
    runs on every staff request, and building and compiling the equivalent queryset (an array
    subquery, a concatenation, a role subquery) cost several times the query itself. Table
    and column names come from the models, so the SQL follows them."""
    user = get_user_model()
    q = connection.ops.quote_name
    own = user._meta.get_field("user_permissions")  # user <-> permission
    member = user._meta.get_field("groups")  # user <-> group
    group_perms = Group._meta.get_field("permissions")  # group <-> permission
    codename = q(Permission._meta.get_field("codename").column)
    content_type = q(Permission._meta.get_field("content_type").column)
    app_label = q(ContentType._meta.get_field("app_label").column)
    group_name = q(Group._meta.get_field("name").column)
    return f"""
        SELECT u.*,
               ARRAY(SELECT ct.{app_label} || '.' || p.{codename}
                       FROM {q(Permission._meta.db_table)} p
                       JOIN {q(ContentType._meta.db_table)} ct ON ct.id = p.{content_type}
                      WHERE p.id IN (SELECT {q(own.m2m_reverse_name())} FROM {q(own.m2m_db_table())}
                                      WHERE {q(own.m2m_column_name())} = u.id
                                     UNION
                                     SELECT gp.{q(group_perms.m2m_reverse_name())}
                                       FROM {q(group_perms.m2m_db_table())} gp
                                       JOIN {q(member.m2m_db_table())} m
                                         ON m.{q(member.m2m_reverse_name())}
                                          = gp.{q(group_perms.m2m_column_name())}
                                      WHERE m.{q(member.m2m_column_name())} = u.id)) AS granted,
               (SELECT g.{group_name} FROM {q(Group._meta.db_table)} g
                  JOIN {q(member.m2m_db_table())} m ON m.{q(member.m2m_reverse_name())} = g.id
                 WHERE m.{q(member.m2m_column_name())} = u.id ORDER BY g.id LIMIT 1) AS role_name
          FROM {q(user._meta.db_table)} u
         WHERE u.id = %s
    """  # noqa: S608 - names from the models' metadata, quoted; the id is a parameter


def _permission_names(granted: Q | None = None):
    """"app_label.codename" of the permissions matching `granted` (all of them if None)."""
    rows = Permission.objects.all() if granted is None else Permission.objects.filter(granted)
    return (rows.annotate(perm=Concat(F("content_type__app_label"), Value("."), F("codename")))
            .values_list("perm", flat=True).order_by().distinct())


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        """The request's user (see the module docstring). A superuser has every permission:
        their set is left to `get_all_permissions`, as ModelBackend does. One role group per
        staff member; ordering by id only makes a stray second group harmless."""
        user = next(iter(get_user_model()._default_manager.raw(_user_sql(), [user_id])), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:
            user._perm_cache = set(user.granted)
        user.role = user.role_name  # fills User.role (a cached_property): no query later
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                user_obj._perm_cache = set(_permission_names())
            else:
                granted = Q(user=user_obj) | Q(group__user=user_obj)
                user_obj._perm_cache = set(_permission_names(granted))
        return user_obj._perm_cache
