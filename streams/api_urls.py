"""Streams' part of the shop API (/api/v1/): each area registers its own viewsets."""

from rest_framework.routers import SimpleRouter

from streams.api import activity, milestones, social, work

router = SimpleRouter()
for area in (activity, social, milestones, work):
    area.register(router)
urlpatterns = router.urls
