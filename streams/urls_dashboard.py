"""Staff pages of streams under /dashboard/activity/: each area keeps its own urlpatterns."""

from streams.views import activity, milestones, social, work

app_name = "streams"
urlpatterns = [*activity.urlpatterns, *social.urlpatterns, *milestones.urlpatterns,
               *work.urlpatterns]
