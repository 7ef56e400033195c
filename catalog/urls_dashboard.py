from django.urls import path

from catalog.views import dashboard as views

app_name = "catalog_dashboard"
urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("new/", views.product_new, name="product_new"),
    path("archive/", views.product_bulk_archive, name="product_bulk_archive"),
    path("<int:pk>/", views.product_detail, name="product_detail"),
    path("<int:pk>/duplicate/", views.product_duplicate_view, name="product_duplicate"),
    path("<int:pk>/stock/<str:action>/", views.stock_change, name="stock_change"),
    path("<int:pk>/<str:action>/", views.product_status_view, name="product_status"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("categories/<int:pk>/delete/", views.category_delete_view, name="category_delete"),
    path("types/", views.product_types, name="product_types"),
    path("types/<int:pk>/", views.product_type_detail, name="product_type"),
    path("types/<int:pk>/specs/<int:spec_pk>/delete/", views.spec_delete_view, name="spec_delete"),
    path("projects/", views.projects, name="projects"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
]
