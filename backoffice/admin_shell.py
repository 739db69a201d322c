"""Callbacks that dress the Unfold shell: the environment label in the header and title."""

from django.conf import settings
from django.utils.translation import gettext as _

# Unfold label colours: production stands out in red so nobody mistakes it for a sandbox.
_ENVIRONMENT_COLOURS = {
    "production": "danger",
    "staging": "warning",
    "demo": "info",
    "development": "success",
    "test": "primary",
}


def environment_callback(request) -> list[str]:
    name = settings.BACKOFFICE_ENVIRONMENT.lower()
    return [_(name.capitalize()), _ENVIRONMENT_COLOURS.get(name, "info")]


def environment_title_prefix(request) -> str:
    name = settings.BACKOFFICE_ENVIRONMENT.lower()
    return "" if name == "production" else f"[{_(name.capitalize())}]"
