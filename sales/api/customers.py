"""Customers and their addresses, written through `sales.services.customers`."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.api import ERROR_400
from sales import selectors
from sales.api.common import ERROR_404, SalesViewSetMixin, detail_schema, read_only
from sales.models import Address, Customer, CustomerKind, CustomerState
from sales.services.customers import (
    address_delete,
    address_save,
    customer_create,
    customer_update,
)

VIEW = ["sales.view_customer"]
ADD = ["sales.add_customer"]
CHANGE = ["sales.change_customer"]


class AddressSerializer(serializers.ModelSerializer):
    is_default_billing = serializers.BooleanField(
        required=False, help_text=gettext_lazy(
            "`true` makes it the default billing address (the previous default loses it). "
            "A customer's first address is the default for both."))
    is_default_shipping = serializers.BooleanField(
        required=False, help_text=gettext_lazy("`true` makes it the default shipping address."))

    class Meta:
        model = Address
        fields = ["id", "full_name", "company", "line1", "line2", "postal_code", "city",
                  "country", "phone", "is_default_billing", "is_default_shipping", "created_at"]
        read_only_fields = ["id", "created_at"]


class CustomerSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "kind", "state", "display_name", "first_name", "last_name",
                  "company_name", "email", "phone", "vat_number", "company_id", "notes",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "state", "created_at", "updated_at"]
        extra_kwargs = {
            "state": {"help_text": gettext_lazy(
                "`guest` (a record made by staff or a guest checkout) or `registered` (has a "
                "storefront account).")},
            "vat_number": {"help_text": gettext_lazy("Intra-EU VAT number, e.g. FR12345678901.")},
        }


class CustomerListSerializer(CustomerSerializer):
    order_count = serializers.IntegerField(read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = CustomerSerializer.Meta.fields + ["order_count"]


class CustomerDetailSerializer(CustomerSerializer):
    addresses = AddressSerializer(many=True, read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = CustomerSerializer.Meta.fields + ["addresses"]


CUSTOMER_ORDERINGS = ["-created_at", "created_at", "last_name", "-last_name", "email", "-email"]


class CustomerListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy(
        "Part of the name, company name, email or phone."))
    kind = serializers.ChoiceField(choices=CustomerKind.choices, required=False)
    state = serializers.ChoiceField(
        choices=[(CustomerState.GUEST, CustomerState.GUEST.label),
                 (CustomerState.REGISTERED, CustomerState.REGISTERED.label)], required=False)
    ordering = serializers.ChoiceField(choices=CUSTOMER_ORDERINGS, required=False,
                                       default="-created_at")


ADDRESS_ID = OpenApiParameter("address_id", OpenApiTypes.INT, OpenApiParameter.PATH)

CUSTOMER_EXAMPLE = {
    "id": 7, "kind": "company", "state": "guest", "display_name": "Atelier Lumière (Marie Curie)",
    "first_name": "Marie", "last_name": "Curie", "company_name": "Atelier Lumière",
    "email": "marie@atelier-lumiere.fr", "phone": "+33 1 23 45 67 89",
    "vat_number": "FR40123456789", "company_id": "123456789", "notes": "",
    "created_at": "2026-03-02T09:15:00Z", "updated_at": "2026-03-02T09:15:00Z"}
ADDRESS_EXAMPLE = {
    "id": 3, "full_name": "Marie Curie", "company": "Atelier Lumière",
    "line1": "12 rue des Écoles", "line2": "", "postal_code": "75005", "city": "Paris",
    "country": "FR", "phone": "", "is_default_billing": True, "is_default_shipping": True,
    "created_at": "2026-03-02T09:16:00Z"}
ADDRESS_REQUEST = {key: ADDRESS_EXAMPLE[key] for key in (
    "full_name", "company", "line1", "postal_code", "city", "country")}


@extend_schema_view(
    list=extend_schema(
        summary="List customers", parameters=[CustomerListQuerySerializer],
        examples=[OpenApiExample("Customers", response_only=True,
                                 value={**CUSTOMER_EXAMPLE, "order_count": 2})]),
    retrieve=detail_schema(
        summary="A customer, with their addresses", responses=CustomerDetailSerializer,
        examples=[OpenApiExample("Customer", response_only=True,
                                 value={**CUSTOMER_EXAMPLE, "addresses": [ADDRESS_EXAMPLE]})]),
    create=extend_schema(
        summary="Create a customer record",
        description="A person needs a first or last name, a company its company name; an email "
                    "is required. Storefront accounts are created by the customers themselves.",
        request=CustomerSerializer, responses={201: CustomerDetailSerializer, 400: ERROR_400},
        examples=[
            OpenApiExample("Company", request_only=True, value={
                key: CUSTOMER_EXAMPLE[key] for key in (
                    "kind", "first_name", "last_name", "company_name", "email", "phone",
                    "vat_number", "company_id")}),
            OpenApiExample("Created", response_only=True, status_codes=["201"],
                           value={**CUSTOMER_EXAMPLE, "addresses": []}),
            OpenApiExample("Malformed VAT number", response_only=True, status_codes=["400"],
                           value={"errors": {"vat_number": [
                               "A VAT number starts with two country letters, e.g. "
                               "FR12345678901."]}}),
        ]),
    update=detail_schema(
        summary="Replace a customer's details", request=CustomerSerializer,
        responses={200: CustomerDetailSerializer, 400: ERROR_400},
        examples=[OpenApiExample("Details", request_only=True, value={
            "kind": "person", "first_name": "Marie", "last_name": "Curie", "company_name": "",
            "email": "marie@example.fr", "phone": "", "vat_number": "", "company_id": "",
            "notes": "Prefers phone calls."})]),
    partial_update=detail_schema(
        summary="Change some of a customer's details", request=CustomerSerializer,
        responses={200: CustomerDetailSerializer, 400: ERROR_400},
        examples=[OpenApiExample("New phone", request_only=True,
                                 value={"phone": "+33 6 12 34 56 78"}),
                  OpenApiExample("A registered customer's email", response_only=True,
                                 status_codes=["400"], value={"errors": {"email": [
                                     "This customer signs in with marie@example.fr: they "
                                     "change it from their account."]}})]),
)
@extend_schema(tags=["customers"])
class CustomerViewSet(SalesViewSetMixin, viewsets.GenericViewSet):
    serializer_class = CustomerListSerializer
    permissions_by_method = {**read_only(VIEW), "POST": ADD, "PUT": CHANGE, "PATCH": CHANGE}
    permissions_by_action = {
        "addresses": VIEW,
        "address_create": CHANGE,
        "address_update": CHANGE,
        "address_remove": CHANGE,
    }

    def get_queryset(self):
        # Only for DRF's generic machinery (schema); `list` filters its own.
        return selectors.customers_for_dashboard()

    def get_object(self) -> Customer:
        customer = selectors.customer_get(pk=int(self.kwargs["pk"]))
        if customer is None:
            raise Http404
        return customer

    def _detail(self, customer: Customer, code: int = status.HTTP_200_OK) -> Response:
        customer = selectors.customer_get(pk=customer.pk)  # with its addresses
        return Response(CustomerDetailSerializer(customer).data, status=code)

    def list(self, request):
        query = CustomerListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        customers = selectors.customers_for_dashboard(
            q=params.get("q", ""), kind=params.get("kind", ""), state=params.get("state", ""),
            sort=params["ordering"])
        page = self.paginate_queryset(customers)
        return self.get_paginated_response(CustomerListSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(CustomerDetailSerializer(self.get_object()).data)

    def create(self, request):
        serializer = CustomerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_create(data=serializer.validated_data, by=request.user)
        return self._detail(customer, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        customer = self.get_object()
        serializer = CustomerSerializer(customer, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        customer = customer_update(customer=customer, data=serializer.validated_data,
                                   by=request.user)
        return self._detail(customer)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    # --- addresses (a sub-resource: /customers/{id}/addresses/[{address_id}/]) ---------------

    def _address(self, customer: Customer, address_id: str) -> Address:
        address = next((a for a in customer.addresses.all() if a.pk == int(address_id)), None)
        if address is None:
            raise Http404
        return address

    @detail_schema(summary="A customer's addresses (defaults first)",
                   responses=AddressSerializer(many=True),
                   examples=[OpenApiExample("Addresses", response_only=True,
                                            value=[ADDRESS_EXAMPLE])])
    @action(detail=True, methods=["get"], url_path="addresses")
    def addresses(self, request, pk=None):
        # Paginated like every other list of the API.
        page = self.paginate_queryset(self.get_object().addresses.all())
        return self.get_paginated_response(AddressSerializer(page, many=True).data)

    @detail_schema(summary="Add an address", request=AddressSerializer,
                   responses={201: AddressSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("Address", request_only=True,
                                            value={**ADDRESS_REQUEST, "is_default_shipping": True}),
                             OpenApiExample("Added", response_only=True, status_codes=["201"],
                                            value=ADDRESS_EXAMPLE),
                             OpenApiExample("French postal code", response_only=True,
                                            status_codes=["400"], value={"errors": {
                                                "postal_code": [
                                                    "A French postal code has 5 digits."]}})])
    @addresses.mapping.post
    def address_create(self, request, pk=None):
        customer = self.get_object()
        serializer = AddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._address_save(customer, None, serializer.validated_data,
                                  status.HTTP_201_CREATED)

    def _address_save(self, customer: Customer, address: Address | None, data: dict,
                      code: int = status.HTTP_200_OK) -> Response:
        data = dict(data)
        default_billing = data.pop("is_default_billing", False)
        default_shipping = data.pop("is_default_shipping", False)
        # The service saves every field: what a PATCH leaves out stays as it was.
        fields = {**(address.snapshot() if address is not None else {}), **data}
        address = address_save(customer=customer, address=address, data=fields,
                               default_billing=default_billing,
                               default_shipping=default_shipping)
        address.refresh_from_db()  # another address may have given its default to this one
        return Response(AddressSerializer(address).data, status=code)

    @detail_schema(summary="Change an address", parameters=[ADDRESS_ID],
                   request=AddressSerializer, responses={200: AddressSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("New street", request_only=True,
                                            value={"line1": "3 place du Panthéon"}),
                             OpenApiExample("Changed", response_only=True,
                                            value={**ADDRESS_EXAMPLE,
                                                   "line1": "3 place du Panthéon"})])
    @action(detail=True, methods=["patch"], url_path=r"addresses/(?P<address_id>\d+)")
    def address_update(self, request, pk=None, address_id=None):
        customer = self.get_object()
        address = self._address(customer, address_id)
        serializer = AddressSerializer(address, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._address_save(customer, address, serializer.validated_data)

    @detail_schema(summary="Delete an address",
                   description="If it was a default, the customer's oldest remaining address "
                               "becomes the default.",
                   parameters=[ADDRESS_ID], request=None, responses={204: None, 404: ERROR_404})
    @address_update.mapping.delete
    def address_remove(self, request, pk=None, address_id=None):
        address_delete(address=self._address(self.get_object(), address_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
