"""/dashboard/catalog/csv/: export and import products as CSV, one format per kind."""

from django.urls import path

from catalog.views import csv_io

app_name = "catalog_csv"
urlpatterns = [
    path("", csv_io.csv_page, name="page"),
    path("export/<slug:kind>/", csv_io.csv_export, name="export"),
    path("import/", csv_io.csv_import, name="import"),
    path("imports/<int:pk>/", csv_io.csv_job, name="job"),
]
