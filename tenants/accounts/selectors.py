from __future__ import annotations

from django.db.models import QuerySet

from tenants.accounts.models import ApiToken, User


def staff_list(*, include_inactive: bool = True) -> QuerySet[User]:
    qs = User.objects.filter(is_staff=True).prefetch_related("groups").order_by("email")
    return qs if include_inactive else qs.filter(is_active=True)


def staff_get(*, pk: int) -> User | None:
    return staff_list().filter(pk=pk).first()


def api_tokens_for(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def staff_count() -> int:
    return User.objects.filter(is_staff=True, is_active=True).count()
