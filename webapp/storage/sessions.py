"""Sessions in files, for a desk without Redis: cachelib's FileSystemCache, except that a session
that cannot be written raises.

cachelib logs a failed write and returns False, and Flask-Session does not look: a sign-in whose
session was never written seemed to succeed and led straight back to the sign-in page.
"""

from __future__ import annotations

from cachelib import FileSystemCache


class SessionNotSaved(OSError):
    """The instance folder refused a session (read-only, full, gone)."""


class SessionFiles(FileSystemCache):
    def set(self, key, value, timeout=None, mgmt_element: bool = False) -> bool:
        # cachelib's own count file (written when the store opens) is bookkeeping, not a session: a
        # folder that refuses it is reported by the start-up check in plain words.
        if not super().set(key, value, timeout, mgmt_element) and not mgmt_element:
            raise SessionNotSaved(f"a session file could not be written in {self._path}")
        return True
