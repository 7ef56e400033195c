from rest_framework.routers import SimpleRouter

from catalog.api import (
    CategoryViewSet,
    ProductTypeViewSet,
    ProductViewSet,
    ProjectViewSet,
    TaxRateViewSet,
)

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="category")
router.register("product-types", ProductTypeViewSet, basename="product-type")
router.register("projects", ProjectViewSet, basename="project")
router.register("tax-rates", TaxRateViewSet, basename="tax-rate")

urlpatterns = router.urls
