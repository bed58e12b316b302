"""COPY on a second thread for the scale-data generator (benchmarks.scale)."""
from __future__ import annotations

import io
import threading
from typing import Self

from django.db import connection

from portal.dataexchange.bulk import COPY_BUFFER


class CopyPump:
    """COPY on a second thread, on the same connection and in the same transaction, while the
    generator prepares the next batch (the scale data is written on a database of its own, with
    nothing else on the connection; the portal's imports write with plain COPY in their job's thread). Nothing else may use the connection until the pump is closed; leaving
    the `with` block closes it and raises any error of a COPY there."""

    def __init__(self, depth: int = 2):
        import queue

        connection.ensure_connection()
        self._raw = connection.connection
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._abandoned = False  # the caller failed: the batches still queued are not written
        self._thread = threading.Thread(target=self._run, name="import-copy", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None and not self._abandoned:
                sql, data = item
                try:
                    with self._raw.cursor() as cursor:
                        cursor.copy_expert(sql, io.StringIO(data), COPY_BUFFER)
                except BaseException as error:  # noqa: BLE001 — raised again in the caller's thread by close()
                    self._error = error

    def copy(self, sql: str, data: str) -> None:
        if self._error is not None:
            self.close()
        if not self._thread.is_alive():
            raise RuntimeError("the COPY pump is closed")
        self._queue.put((sql, data))

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            with connection.wrap_database_errors:  # as django.db errors, as from any cursor
                raise error

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is None:
            self.close()
        else:  # the caller's error goes first; the transaction is rolled back anyway
            self._abandoned = True
            try:
                self.close()
            except Exception:  # noqa: BLE001, S110
                pass
