"""The county's enterprise ledger as a file (企业台账): reading a CSV or .xlsx file into rows, each cell read by its
column's rule (`models.enterprises.ledger_columns`), and the template. No database here: what needs it (sectors,
existing records, places) is `models.enterprises.importing`'s.

A file that cannot be read as a ledger (not CSV or .xlsx, unknown, repeated or missing columns, too many rows) is
refused whole; a bad value is an error of its row, which the import reports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from models.enterprises.ledger_columns import BY_KEY, BY_NAME, COLUMNS, NONE, CellError
from models.errors import RuleViolation

__all__ = ["NONE", "Ledger", "LedgerRow", "read_ledger", "template_csv", "template_xlsx"]


# ---- reading a file ---------------------------------------------------------------------------------------------


@dataclass
class LedgerRow:
    number: int  # the row's number in the file, the header being row 1 (as a spreadsheet shows it)
    values: dict[str, Any]  # column key -> value read, for the cells that are not empty and read well
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"column", "code", "detail"}
    credit_code: str | None = None  # as written (for the answer, even when invalid)

    def refuse(self, column: str | None, code: str, detail: str) -> None:
        self.errors.append({"column": column, "code": code, "detail": detail})


@dataclass(frozen=True)
class Ledger:
    columns: tuple[str, ...]  # the keys of the file's columns, in its order
    rows: list[LedgerRow]


def read_ledger(content: bytes, *, max_rows: int) -> Ledger:
    """The rows of a CSV (UTF-8, with or without BOM, or GB18030) or .xlsx file (its first sheet), header in row 1,
    each cell read by its column's rule. A file that cannot be read as a ledger is a `RuleViolation`; a bad value is
    an error of its row."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise RuleViolation("an old Excel .xls file: save it as .xlsx, or as CSV UTF-8", code="file-unreadable")
    table = _xlsx_rows(content) if content.startswith(b"PK\x03\x04") else _csv_rows(content)
    header = next(table, None)
    if header is None or not any(_present(cell) for cell in header):
        raise RuleViolation("the file is empty: the header (column names) goes in row 1", code="file-empty")
    keys = _columns_of(header)
    rows = []
    for number, cells in enumerate(table, start=2):
        if not any(_present(cell) for cell in cells):
            continue  # blank lines between records are no records
        if len(rows) == max_rows:
            raise RuleViolation(
                f"the file has more than {max_rows:,} rows: split it into several files", code="too-many-rows"
            )
        rows.append(_read_row(number, keys, cells))
    return Ledger(tuple(k for k in keys if k is not None), rows)


def _present(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _columns_of(header: tuple[Any, ...]) -> list[str | None]:
    """Each column's key (None: a column without a name, ignored); unknown, repeated or missing columns refuse the
    file."""
    keys: list[str | None] = []
    unknown = []
    for cell in header:
        name = str(cell).strip() if _present(cell) else ""
        if not name:
            keys.append(None)
            continue
        column = BY_NAME.get(name.lower()) or BY_NAME.get(name.lower().split("/")[-1].strip(" *"))
        if column is None:
            unknown.append(name)
        keys.append(column.key if column else None)
    if unknown:
        raise RuleViolation(
            f"unknown column {', '.join(repr(u) for u in unknown)}: each column is named in Chinese or English, e.g. "
            f"企业名称 or name (GET /api/v1/enterprises/import-template has them all)",
            code="unknown-column",
        )
    named = [k for k in keys if k is not None]
    twice = sorted({k for k in named if named.count(k) > 1})
    if twice:
        raise RuleViolation(f"the column {', '.join(twice)} is given twice", code="duplicate-column")
    missing = [f"{c.zh[0]} ({c.key})" for c in COLUMNS if c.required and c.key not in named]
    if missing:
        raise RuleViolation(f"the file has no column {', '.join(missing)}", code="missing-column")
    return keys


def _read_row(number: int, keys: list[str | None], cells: tuple[Any, ...]) -> LedgerRow:
    row = LedgerRow(number, {})
    given = dict(zip(keys, cells, strict=False))
    raw_code = given.get("credit_code")
    row.credit_code = str(raw_code).strip() if _present(raw_code) else None
    for key in keys:
        if key is None:
            continue
        column, cell = BY_KEY[key], given.get(key)
        if not _present(cell):
            continue
        try:
            row.values[key] = column.read(cell.strip() if isinstance(cell, str) else cell)
        except CellError as error:
            row.refuse(key, error.code, f"{column.zh[0]} ({key}): {error.detail}")
    for column in COLUMNS:
        if column.required and column.key not in row.values and not any(e["column"] == column.key for e in row.errors):
            row.refuse(column.key, "required", f"{column.zh[0]} ({column.key}) is required")
    return row


def _csv_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese saves CSV as GB18030 (or its subset GBK)
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RuleViolation(
            "the file is neither .xlsx nor a CSV text in UTF-8 or GB18030: save it as .xlsx, or as CSV UTF-8",
            code="file-unreadable",
        )
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from (tuple(row) for row in reader)
    except csv.Error as error:
        raise RuleViolation(
            f"the file is no readable CSV (line {reader.line_num}): {error}", code="file-unreadable"
        ) from None


def _xlsx_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
    except Exception as error:  # a broken file makes openpyxl raise anything from KeyError to zipfile's errors
        raise RuleViolation(f"the file is no readable .xlsx workbook ({error})", code="file-unreadable") from None
    try:
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as error:  # a sheet's XML broken mid-way, as above
                raise RuleViolation(f"the workbook's first sheet is broken ({error})", code="file-unreadable") from None
            yield row
    finally:
        book.close()


# ---- the template and the docs ----------------------------------------------------------------------------------

TEMPLATE_NOTE = "Row 1 names the columns (Chinese or English, or both as here); delete the example row."


def template_csv() -> bytes:
    """The template as CSV: UTF-8 with a BOM (Excel then reads the Chinese right), the header and one example row."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in COLUMNS])
    writer.writerow([c.example for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The template as .xlsx: the header and one example row on the first sheet (the credit code column formatted
    as text), the columns explained on a second."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "企业台账"
    sheet.append([c.label for c in COLUMNS])
    sheet.append([c.example for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(12, len(column.label) + 6)
        if column.key in ("credit_code", "duty_phone", "licence_number"):  # text, not numbers that Excel rounds
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明 notes")
    notes.append(["列名 column", "English", "必填 required", "含义 meaning", "取值 values"])
    for column in COLUMNS:
        notes.append([" / ".join(column.zh), column.key, "是 yes" if column.required else "", column.meaning,
                      column.allowed])  # fmt: skip
    notes.append([])
    notes.append([TEMPLATE_NOTE])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
