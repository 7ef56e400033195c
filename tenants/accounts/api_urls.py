from django.urls import path
from rest_framework.routers import SimpleRouter

from tenants.accounts.api import MeView, StaffViewSet

router = SimpleRouter()
router.register("staff", StaffViewSet, basename="staff")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
