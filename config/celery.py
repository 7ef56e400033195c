"""Celery with tenant-schemas-celery: a task runs in the schema of the shop that queued it.
With no CELERY_BROKER_URL, tasks run eagerly in-process (settings.CELERY_TASK_ALWAYS_EAGER)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("shopfleet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
