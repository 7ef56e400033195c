"""API base resources: who am I, and the shop's staff."""

from __future__ import annotations

from django.db import connection
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.accounts.models import User
from tenants.accounts.selectors import staff_list


class StaffSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "is_active", "date_joined", "last_login"]
        read_only_fields = fields


class ShopSerializer(serializers.Serializer):
    name = serializers.CharField()
    domain = serializers.CharField()
    currency = serializers.CharField()
    locale = serializers.CharField()
    plan = serializers.CharField(allow_null=True)


class MeSerializer(serializers.Serializer):
    user = StaffSerializer()
    shop = ShopSerializer()
    permissions = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The authenticated staff member and their shop")
    def get(self, request):
        shop = connection.tenant
        data = {
            "user": StaffSerializer(request.user).data,
            "shop": {
                "name": shop.name,
                "domain": getattr(shop, "domain_url", ""),
                "currency": shop.currency,
                "locale": shop.locale,
                "plan": shop.plan.name if shop.plan_id else None,
            },
            "permissions": sorted(request.user.get_all_permissions()),
        }
        return Response(MeSerializer(data).data)


@extend_schema(tags=["staff"])
class StaffViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StaffSerializer

    def get_queryset(self):
        return staff_list()


@extend_schema(exclude=True)
class ApiNotFoundView(APIView):
    """Any path under /api/v1/ that names no endpoint (a typo, an id that is not a number):
    the API's JSON 404, not the site's HTML page. Mounted last (config/urls_tenant.py)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and rate limits first
        path = request.path_info
        if not path.endswith("/"):
            try:
                match = resolve(path + "/")
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "view_class", None) is not ApiNotFoundView:
                raise NotFound(_("Not found: API paths end with a slash (%(path)s/).")
                               % {"path": path})
        raise NotFound(_("No API endpoint at this address."))
