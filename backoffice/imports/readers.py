"""Reading an uploaded table as a stream of rows: CSV (UTF-8 with or without BOM, ``,`` or ``;``) and XLSX
(cached formula values; openpyxl parses with defusedxml when it is installed, and it is).

Every reader yields ``(number, cells, problems)``: ``number`` is the spreadsheet row number (the header is
row 1), ``cells`` the values in header order, ``problems`` ``[(column index, message)]`` found while reading
(a formula without a saved value). Empty rows are skipped, so are columns after the last header.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from zipfile import BadZipFile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FORMATS = {"csv": "CSV", "xlsx": "XLSX"}
SAMPLE_BYTES = 64 * 1024


class SourceError(ValidationError):
    """The file as a whole cannot be read; the message says why and what to do."""


def format_of(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in FORMATS:
        raise SourceError(
            _("Only CSV and XLSX files can be imported; “%(name)s” is neither.") % {"name": filename[-80:]},
            code="format",
        )
    return ext


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_names(raw) -> list[str]:
    names = ["" if value is None else str(value).strip() for value in raw]
    while names and not names[-1]:
        names.pop()
    return names


class Table:
    def __init__(self, opener, fmt: str):
        self.opener, self.fmt = opener, fmt  # opener() -> a new binary file object

    def read(self) -> tuple[list[str], Iterator]:
        return _read_csv(self.opener) if self.fmt == "csv" else _read_xlsx(self.opener)

    def headers(self) -> list[str]:
        headers, rows = self.read()
        rows.close()
        return headers

    def count_rows(self, limit: int) -> int:
        """Rows with data, read as a stream; stops (SourceError) once ``limit`` is passed."""
        _headers, rows = self.read()
        count = 0
        try:
            for _row in rows:
                count += 1
                if count > limit:
                    raise SourceError(
                        _(
                            "The file has more than %(limit)s rows, the most one import takes. Split it into "
                            "smaller files."
                        )
                        % {"limit": f"{limit:,}"},
                        code="too_many_rows",
                    )
        finally:
            rows.close()
        return count


# --- CSV -----------------------------------------------------------------------------------------------


def sniff_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas (a spreadsheet in a comma-decimal
    locale writes those), else ``,``. Quoted parts of the line do not count."""
    line, quoted = [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            break
        elif not quoted:
            line.append(char)
    header = "".join(line)
    return ";" if header.count(";") > header.count(",") else ","


def _encoding_error(raw: bytes, exc: UnicodeDecodeError | None = None) -> SourceError:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        found = "UTF-16"
    else:
        found = _("an 8-bit encoding such as Windows-1252 or ISO-8859-1")
    return SourceError(
        _(
            "The file is not UTF-8 text: it looks like %(encoding)s. Save it again as “CSV UTF-8” "
            "(in Excel: Save as > CSV UTF-8; in LibreOffice: character set Unicode (UTF-8)) and upload that."
        )
        % {"encoding": found},
        code="encoding",
    )


def _read_csv(opener):
    handle = opener()
    raw = handle.read(SAMPLE_BYTES)
    handle.seek(0)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        handle.close()
        raise _encoding_error(raw)
    sample = raw.decode("utf-8-sig", errors="ignore")
    delimiter = sniff_delimiter(sample)
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        text.close()
        raise _encoding_error(raw, exc) from exc
    except csv.Error as exc:
        text.close()
        raise SourceError(_("The CSV file cannot be read: %(error)s.") % {"error": exc}, code="csv") from exc
    if not header or not any(cell.strip() for cell in header):
        text.close()
        raise SourceError(_("The file is empty or its first row (the column names) is empty."), code="empty")
    headers = _header_names(header)

    def rows():
        number = 1
        try:
            for cells in reader:
                number += 1
                if not any(cell.strip() for cell in cells):
                    continue
                yield number, _fit(cells, len(headers)), []
        except UnicodeDecodeError as exc:
            raise SourceError(
                _("Row %(row)s is not UTF-8 text. ") % {"row": number + 1} + _encoding_error(raw, exc).messages[0],
                code="encoding",
            ) from exc
        except csv.Error as exc:
            raise SourceError(
                _("Row %(row)s of the CSV file cannot be read: %(error)s.") % {"row": number + 1, "error": exc},
                code="csv",
            ) from exc
        finally:
            text.close()

    return headers, rows()


def _fit(cells: list, width: int) -> list:
    if len(cells) < width:
        return list(cells) + [""] * (width - len(cells))
    return list(cells[:width])


# --- XLSX ----------------------------------------------------------------------------------------------


def _read_xlsx(opener):
    from openpyxl import load_workbook

    try:
        values = load_workbook(opener(), read_only=True, data_only=True)
        formulas = load_workbook(opener(), read_only=True, data_only=False)
    except (BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise SourceError(
            _("The file cannot be read as an XLSX workbook (%(error)s). Save it again from your spreadsheet.")
            % {"error": exc.__class__.__name__},
            code="xlsx",
        ) from exc
    except Exception as exc:
        raise SourceError(
            _("The file cannot be read as an XLSX workbook (%(error)s). Save it again from your spreadsheet.")
            % {"error": exc.__class__.__name__},
            code="xlsx",
        ) from exc
    sheet, formula_sheet = values.worksheets[0], formulas.worksheets[0]
    value_rows = sheet.iter_rows(values_only=True)
    formula_rows = formula_sheet.iter_rows(values_only=True)
    header = next(value_rows, None)
    next(formula_rows, None)
    if not header or all(_blank(v) for v in header):
        values.close()
        formulas.close()
        raise SourceError(_("The file is empty or its first row (the column names) is empty."), code="empty")
    headers = _header_names(header)
    width = len(headers)

    def rows():
        try:
            for number, (cells, raw) in enumerate(zip(value_rows, formula_rows, strict=False), start=2):
                cells = _fit(list(cells), width)
                if all(_blank(v) for v in cells) and all(_blank(v) for v in _fit(list(raw), width)):
                    continue
                problems = []
                for index, (value, formula) in enumerate(zip(cells, _fit(list(raw), width), strict=True)):
                    if value is None and isinstance(formula, str) and formula.startswith("="):
                        problems.append(
                            (
                                index,
                                _(
                                    "This cell holds a formula (%(formula)s) without a saved result: the file was "
                                    "written by a program, not saved by a spreadsheet. Open it in a spreadsheet "
                                    "and save it, or type the value."
                                )
                                % {"formula": formula[:60]},
                            )
                        )
                yield number, ["" if v is None else v for v in cells], problems
        finally:
            values.close()
            formulas.close()

    return headers, rows()
