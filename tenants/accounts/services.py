"""Writes about people inside a shop's schema: owner, staff invitations, roles, API tokens.
Callers are already in the shop's schema (request on its host, or schema_context)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from tenants.accounts.models import ApiToken, User
from tenants.accounts.roles import OWNER, ROLES, roles_sync
from tenants.errors import PlanLimitReached, TenantsError


def _role_group(role: str) -> Group:
    group = Group.objects.filter(name=role).first()
    if group is None:
        roles_sync()  # a schema migrated before roles existed
        group = Group.objects.get(name=role)
    return group


def staff_create_owner(*, email: str, password_hash: str) -> User:
    """The shop's first user. `password_hash` is already hashed (or unusable)."""
    user = User(email=email.lower(), is_staff=True, is_active=True)
    user.password = password_hash
    user.save()
    user.groups.add(_role_group(OWNER))
    return user


def staff_seats_used() -> int:
    return User.objects.filter(is_staff=True, is_active=True).count()


def _check_seat_available(*, max_staff: int | None) -> None:
    if max_staff is not None and staff_seats_used() >= max_staff:
        raise PlanLimitReached(
            _(
                "Your plan includes %(n)d staff seats and all are in use. Deactivate someone "
                "or upgrade your plan to add more."
            )
            % {"n": max_staff}
        )


@transaction.atomic
def staff_invite(*, email: str, role: str, full_name: str = "", by: User, max_staff: int | None
                 ) -> User:
    """Create a staff account without a password; the invitee sets one from the emailed link
    (the view sends it after commit). Refused when the plan's seats are all taken."""
    email = email.strip().lower()
    if role not in ROLES:
        raise TenantsError(_("Unknown role."))
    if role == OWNER and not by.groups.filter(name=OWNER).exists():
        raise TenantsError(_("Only an owner can make someone else an owner."))
    if User.objects.filter(email__iexact=email).exists():
        raise TenantsError(_("%(email)s already has an account in this shop.") % {"email": email})
    # Serialise invitations in this shop so two at once cannot both take the last seat.
    Group.objects.select_for_update().filter(name=OWNER).first()
    _check_seat_available(max_staff=max_staff)
    user = User(email=email, full_name=full_name.strip(), is_staff=True, is_active=True,
                invited_at=timezone.now())
    user.set_unusable_password()
    user.save()
    user.groups.add(_role_group(role))
    return user


@transaction.atomic
def staff_set_role(*, user: User, role: str, by: User) -> User:
    if role not in ROLES:
        raise TenantsError(_("Unknown role."))
    if user.pk == by.pk:
        raise TenantsError(_("You cannot change your own role."))
    if user.role == OWNER and _other_active_owners(user) == 0:
        raise TenantsError(_("A shop needs at least one active owner."))
    user.groups.set([_role_group(role)])
    return user


def _other_active_owners(user: User) -> int:
    return (
        User.objects.filter(groups__name=OWNER, is_active=True, is_staff=True)
        .exclude(pk=user.pk)
        .count()
    )


@transaction.atomic
def staff_deactivate(*, user: User, by: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == by.pk:
        raise TenantsError(_("You cannot deactivate yourself."))
    if user.role == OWNER and _other_active_owners(user) == 0:
        raise TenantsError(_("A shop needs at least one active owner."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


@transaction.atomic
def staff_reactivate(*, user: User, by: User, max_staff: int | None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    Group.objects.select_for_update().filter(name=OWNER).first()
    _check_seat_available(max_staff=max_staff)
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the key, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise TenantsError(_("Name the token after what will use it (e.g. “Accounting sync”)."))
    key, prefix, key_hash = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name[:80], prefix=prefix, key_hash=key_hash)
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def password_setup_email_send(*, shop, user_id: int, base_url: str, invited_by: User | None = None
                              ) -> None:
    """After commit, email `user_id` of `shop` a link to choose a password on the shop's host
    (new owners created from the console, invited staff)."""
    schema_name, shop_name = shop.schema_name, shop.name

    def send() -> None:
        with schema_context(schema_name):
            user = User.objects.get(pk=user_id)
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = default_token_generator.make_token(user)
            path = reverse(
                "accounts:password_reset_confirm", urlconf="config.urls_tenant",
                kwargs={"uidb64": uid, "token": token},
            )
            context = {"shop_name": shop_name, "link": f"{base_url}{path}", "user": user,
                       "invited_by": invited_by}
            subject = render_to_string("accounts/email/invite_subject.txt", context).strip()
            body = render_to_string("accounts/email/invite.txt", context)
            send_mail(subject, body, None, [user.email])

    transaction.on_commit(send)
