"""argon2id password hashes, with a dummy hash so unknown users cost the same time."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_PASSWORD", "Passwords"]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024


class Passwords:
    """Hash and verify; ``verify_dummy`` spends a verification's time on nothing."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        # argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, 64 MiB).
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def prepare(self) -> None:
        """Make the dummy hash (once; every login calls this first, known user or not)."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        self.prepare()
        assert self._dummy is not None
        self.verify(self._dummy, password)

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return False
