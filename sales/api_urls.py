"""Sales REST API routes (included under /api/v1/ in the `api` namespace)."""

from rest_framework.routers import SimpleRouter

from sales.api.customers import CustomerViewSet
from sales.api.orders import OrderViewSet
from sales.api.quotes import QuoteViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = router.urls
