"""Callbacks that dress the Unfold shell: the environment label in the header and title."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Unfold label colours: production stands out in red so nobody mistakes it for a sandbox.
ENVIRONMENTS = {
    "production": (_("Production"), "danger"),
    "staging": (_("Staging"), "warning"),
    "demo": (_("Demo"), "info"),
    "development": (_("Development"), "success"),
    "test": (_("Test"), "primary"),
}


def _environment() -> tuple[str, str]:
    name = settings.BACKOFFICE_ENVIRONMENT
    label, colour = ENVIRONMENTS.get(name.lower(), (name, "info"))
    return str(label), colour


def environment_callback(request) -> list[str]:
    return list(_environment())


def environment_title_prefix(request) -> str:
    if settings.BACKOFFICE_ENVIRONMENT.lower() == "production":
        return ""
    return f"[{_environment()[0]}]"
