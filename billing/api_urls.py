"""Billing REST API routes (included under /api/v1/ in the `api` namespace)."""

from rest_framework.routers import SimpleRouter

from billing.api.invoices import InvoiceViewSet
from billing.api.payments import PaymentViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = router.urls
