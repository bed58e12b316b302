"""Import and export of ledgers in the formats of data-exchange.md.

One code path serves the web import (background jobs on an ImportBatch), the `import_data` /
`export_data` commands and the tests. A kind declares its columns; the modules here:

- cells.py    — cell parsers (text, integer, choice, date, …) raising CellError with a message;
- parsers.py  — reading xlsx or CSV (UTF-8 with or without BOM, or GBK) into rows of text;
- kinds.py    — Column, Kind and the registry of kinds; parse_file() maps English or Chinese
                headers, parses every cell and collects every problem as (row, column, message);
- runner.py   — run_import(): a file without problems is applied in one transaction;
- bulk.py     — writing many rows with PostgreSQL COPY, and the helpers around it;
- upsert.py   — ref-keyed rows: new records created, changed ones updated, in batches;
- batches.py  — the web import's jobs: upload, preview and apply of an ImportBatch.

The names below are the public face that the kinds (`from portal import dataexchange as dx`),
the commands and the tests use.
"""
from .bulk import (
    ANALYZE_AFTER,
    COPY_BUFFER,
    allocate_ids,
    copy_records,
    copy_sql,
    copy_text,
    literal_defaults,
    pg_array,
    refresh_statistics,
)
from .cells import CellError, aware_datetime, choice, date, integer, str_list, text, validator
from .kinds import (
    IMMUTABLE,
    KNOWN_VALUES,
    Column,
    ImportResult,
    Kind,
    RejectFile,
    Row,
    RowError,
    batched,
    fmt,
    get_kind,
    kinds,
    parse_file,
    register,
)
from .parsers import LossyNumber, _cell_text, csv_encoding, decode_csv, read_table
from .runner import collector_paused, export_table, run_import

from .upsert import RefUpsert, existing_by_ref

__all__ = [
    "ANALYZE_AFTER", "COPY_BUFFER", "IMMUTABLE", "KNOWN_VALUES", "CellError", "Column", "ImportResult",
    "Kind", "LossyNumber", "RefUpsert", "RejectFile", "Row", "RowError", "_cell_text", "allocate_ids", "aware_datetime",
    "batched", "choice", "collector_paused", "copy_records", "copy_sql", "copy_text", "csv_encoding", "date",
    "decode_csv", "existing_by_ref", "export_table", "fmt", "get_kind", "integer", "kinds", "literal_defaults", "parse_file",
    "pg_array", "read_table", "refresh_statistics", "register", "run_import", "str_list", "text", "validator",
]
