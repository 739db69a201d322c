"""Which URLs an endpoint may have and which addresses a send may connect to.

Checked when an endpoint is saved and again at every send, on the addresses the name resolves to then:
a name that resolved to a public address at save time and to 127.0.0.1 later (DNS rebinding) is refused,
and the connection goes to the address that was checked (backoffice.webhooks.sender)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 2000


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (tests patch this to simulate rebinding)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def address_refusal(address: str) -> str | None:
    """Why a send must not go to ``address``, or None when it may."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return _("%(address)s is not an IP address.") % {"address": address}
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return _("%(address)s is a loopback address.") % {"address": address}
    if ip.is_link_local:
        return _("%(address)s is a link-local address.") % {"address": address}
    if ip.is_private or ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return _("%(address)s is a private or reserved address.") % {"address": address}
    return None


def check_url(url: str) -> SplitResult:
    """The parsed URL, or ValidationError saying what is wrong. Does not resolve the name."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError(_("Enter the URL that receives the webhooks."), code="required")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(_("The URL is longer than %(max)d characters.") % {"max": MAX_URL_LENGTH}, code="long")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError(_("The URL contains spaces or control characters."), code="invalid")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(_("This is not a valid URL."), code="invalid") from exc
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise ValidationError(
            _("Webhook URLs must use https.") if "http" not in allowed else _("Use an http or https URL."),
            code="scheme",
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(_("The URL must not contain a user name or password."), code="credentials")
    if not parts.hostname:
        raise ValidationError(_("The URL has no host."), code="host")
    if port == 0:
        raise ValidationError(_("The URL's port is not valid."), code="port")
    return parts


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def checked_addresses(parts: SplitResult) -> list[str]:
    """Resolve the URL's host and check every address; ValidationError when any is refused."""
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, default_port(parts))
        except (OSError, UnicodeError) as exc:
            raise ValidationError(
                _("The host %(host)s could not be resolved.") % {"host": host[:200]}, code="dns"
            ) from exc
    if not addresses:
        raise ValidationError(_("The host %(host)s has no address.") % {"host": host[:200]}, code="dns")
    for address in addresses:
        refusal = address_refusal(address)
        if refusal:
            raise ValidationError(
                _("Webhooks cannot be sent to %(host)s: %(reason)s") % {"host": host[:200], "reason": refusal},
                code="address",
            )
    return addresses


def validate_endpoint_url(url: str) -> None:
    """Everything a saved endpoint URL must pass: form, scheme, credentials, and where it points now."""
    checked_addresses(check_url(url))
