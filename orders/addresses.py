"""Postal addresses as people write them on an envelope, from an order's address snapshot
(``{name, line1, line2, postal_code, city, country}``, see ``Customer.address_snapshot``).

Only the line with the postal code and the city differs between the countries we ship to; every other
country gets the continental European order (postal code before the city), which most of our customers use.
"""

from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django_countries import countries

# country -> the lines holding the postal code and the city, in order
LOCALITY_LINES = {
    # the city, then the postcode on a line of its own (Royal Mail, An Post)
    "GB": ("{city}", "{postal_code}"),
    "IE": ("{city}", "{postal_code}"),
    # the city before the postal code (states and provinces are not among our address fields)
    "US": ("{city} {postal_code}",),
    "CA": ("{city} {postal_code}",),
    "AU": ("{city} {postal_code}",),
}
DEFAULT_LOCALITY = ("{postal_code} {city}",)


def address_lines(snapshot) -> list[str]:
    """The address as lines of text (empty when there is none); the country as its name in the active
    language."""
    if not isinstance(snapshot, dict):
        return []
    parts = {key: str(snapshot.get(key) or "").strip() for key in ("name", "line1", "line2", "postal_code", "city")}
    code = str(snapshot.get("country") or "").strip().upper()
    locality = [line.format(**parts).strip() for line in LOCALITY_LINES.get(code, DEFAULT_LOCALITY)]
    country = str(countries.name(code) or code) if code else ""
    return [line for line in (parts["name"], parts["line1"], parts["line2"], *locality, country) if line]


def format_address(snapshot) -> str:
    """The address as HTML, one line per ``<br>``, every part escaped; ``""`` when there is none."""
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in address_lines(snapshot)))
