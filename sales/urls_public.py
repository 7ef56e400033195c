"""The customer's quote page, reached by the signed link of the quote email (namespace
`sales_public`, under /q/)."""

from django.urls import path

from sales.views import public

app_name = "sales_public"
urlpatterns = [
    path("<str:token>/", public.quote_page, name="quote"),
    path("<str:token>/accept/", public.quote_accept_view, name="quote_accept"),
    path("<str:token>/decline/", public.quote_decline_view, name="quote_decline"),
    path("<str:token>/thanks/", public.quote_thanks, name="quote_thanks"),
]
