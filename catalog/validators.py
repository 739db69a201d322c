from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import ean
from stdnum.exceptions import InvalidChecksum

BARCODE_LENGTHS = (8, 12, 13, 14)


def validate_barcode(value: str) -> None:
    """EAN-8, UPC-A (12), EAN-13 or GTIN-14: ASCII digits only, with a correct GS1 check digit."""
    if not value:
        return
    if not (value.isascii() and value.isdigit()) or len(value) not in BARCODE_LENGTHS:
        raise ValidationError(
            _("A barcode is 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13, GTIN-14)."), code="barcode_format"
        )
    try:
        ean.validate(value)
    except InvalidChecksum as exc:
        raise ValidationError(
            _("The barcode's check digit is wrong; check for a mistyped digit."), code="barcode_checksum"
        ) from exc
