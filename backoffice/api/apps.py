from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "backoffice.api"
    label = "api"
    verbose_name = _("Integrations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backoffice.api import schema  # noqa: F401  (registers the OpenAPI extensions)
