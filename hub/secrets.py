"""Secrets: sealed at rest with Fernet, resolved from references (``env:NAME``), masked in every output."""

from __future__ import annotations

import base64
import hashlib
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from cryptography.fernet import Fernet, InvalidToken

MASK = "********"
SEALED_PREFIX = "enc:"
ENV_PREFIX = "env:"
#: Header values that are credentials whatever they contain.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"})


class SecretError(ValueError):
    """A secret that cannot be opened or resolved (wrong key, unset variable)."""


class SecretBox:
    """Seals and opens secret values with a key derived from HUB_SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"leadhub-secrets-v1:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, value: str) -> str:
        """Encrypt a literal; references (``env:...``) are kept as written, they hold no secret."""
        if value.startswith((SEALED_PREFIX, ENV_PREFIX)) or value == "":
            return value
        return SEALED_PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(SEALED_PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(SEALED_PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretError("a stored secret cannot be decrypted: was HUB_SECRET_KEY changed?") from None


def resolve(stored: str, box: SecretBox, resolver: Callable[[str], str | None]) -> str:
    """The usable value of a stored secret: decrypted, then resolved if it is a reference."""
    value = box.open(stored)
    resolved = resolver(value)
    if resolved is not None:
        return resolved
    if value.startswith(ENV_PREFIX):
        raise SecretError(f"environment variable {value[len(ENV_PREFIX):]} is not set")
    return value


def _base64_cores(secret: str) -> set[str]:
    """The base64 characters a secret becomes wherever it sits in a longer value (e.g. Basic ``user:secret``).

    Base64 encodes 3-byte groups, so the text depends on the secret's offset modulo 3: for
    each offset keep only the characters made of the secret's own bits, not its neighbours'.
    """
    raw = secret.encode()
    cores = set()
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        end = 8 * (offset + len(raw)) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            cores.add(encode(b"\0" * offset + raw).decode()[skip:end])
    return {core for core in cores if core}


class Masker:
    """Replaces known secret values (and their URL/base64 forms) with ``MASK`` in any text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(secrets)
        variants: set[str] = set()
        for secret in self.secrets:
            if len(secret) < 4:  # masking "a" would mangle every text; short secrets are weak anyway
                continue
            variants.update({secret, quote(secret, safe=""), quote_plus(secret)})
            variants.add(base64.b64encode(secret.encode()).decode().rstrip("="))  # the secret alone, whole
            variants.update(_base64_cores(secret))  # ... and inside a longer value
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def including(self, more: Iterable[str]) -> Masker:
        """A masker for these secrets as well (values learnt at run time)."""
        return Masker((*self.secrets, *more))

    def text(self, value: str) -> str:
        return self._pattern.sub(MASK, value) if self._pattern and value else value

    def current_traceback(self) -> str:
        """The exception being handled, as ``log.exception`` would write it, with the secrets masked."""
        return self.text(traceback.format_exc()).rstrip()

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {k: MASK if k.lower() in SECRET_HEADERS else self.text(v) for k, v in headers.items()}

    def deep(self, value: Any) -> Any:
        """Mask every string inside nested dicts and lists; header dicts lose credential values."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: MASK if isinstance(k, str) and k.lower() in SECRET_HEADERS else self.deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        return value
