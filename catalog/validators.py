from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_barcode(value: str) -> None:
    """EAN-8, UPC-A (12), EAN-13 or GTIN-14: digits only, with a correct check digit."""
    if not value:
        return
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise ValidationError(
            _("A barcode is 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13, GTIN-14)."), code="barcode_format"
        )
    digits = [int(d) for d in value]
    body, check = digits[:-1], digits[-1]
    # GS1 check digit: weights 3,1,3,1,... from the rightmost digit of the body.
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    if (10 - total % 10) % 10 != check:
        raise ValidationError(
            _("The barcode's check digit is wrong; check for a mistyped digit."), code="barcode_checksum"
        )
