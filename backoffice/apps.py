from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Backoffice")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Job kinds register themselves in each app's tasks.py; the web process needs them too,
        # to validate and dispatch jobs, not only the worker.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("tasks")
