"""Dashboard image actions, for a product or a project: /dashboard/catalog/images/<kind>/<pk>/..."""

from django.urls import path, register_converter

from catalog.views import images as views


class OwnerKindConverter:
    regex = "product|project"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OwnerKindConverter, "image_owner")

app_name = "catalog_images"
urlpatterns = [
    path("<image_owner:kind>/<int:pk>/", views.images_page, name="panel"),
    path("<image_owner:kind>/<int:pk>/upload/", views.image_upload, name="upload"),
    path("<image_owner:kind>/<int:pk>/<int:image_pk>/default/", views.image_make_default,
         name="default"),
    path("<image_owner:kind>/<int:pk>/<int:image_pk>/move/", views.image_move_view, name="move"),
    path("<image_owner:kind>/<int:pk>/<int:image_pk>/delete/", views.image_delete_view,
         name="delete"),
]
