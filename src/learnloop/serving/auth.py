"""API keys: who may call what, checked in constant time.

Two kinds of key. A *predict* key may predict and read the models' descriptions (``GET /v1/models``, ``GET
/v1/models/{name}``); an *admin* key may do that and also send feedback labels, reload models, and read the monitor,
``/metrics`` and the full OpenAPI document. Keys are sent as ``Authorization: Bearer KEY`` (or ``X-API-Key: KEY``).

With no key configured the server is open, as before. Once any key is configured, every endpoint but ``/healthz``,
``/readyz`` (its status only), ``/docs`` and ``/openapi.json`` needs a key: none or an unknown one is a 401, a
predict key on an admin endpoint a 403. Without a key, the OpenAPI document shows the API's shape (routes, field
names and types) but nothing taken from training data (medians, ranges, categories, example rows).

Only SHA-256 digests of the keys are kept, and a presented key's digest is compared with each of them by
:func:`hmac.compare_digest`, so the time taken tells nothing about a key's characters or length.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from learnloop.errors import LearnloopError

PREDICT, ADMIN = "predict", "admin"
ENV_PREDICT, ENV_ADMIN = "LEARNLOOP_API_KEY", "LEARNLOOP_ADMIN_KEY"
MIN_KEY_LENGTH = 16
_BEARER = b"bearer "


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def read_keys(path: str | Path, what: str) -> list[str]:
    """The keys in a file: one a line; blank lines and lines starting with ``#`` are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LearnloopError(f"{what} {str(path)!r} cannot be read: {exc}") from None
    keys = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not keys:
        raise LearnloopError(f"{what} {str(path)!r} holds no key (one key a line; # starts a comment).")
    return keys


@dataclass(frozen=True)
class APIKeys:
    """The digests of the predict and admin keys (see the module docstring)."""

    predict: tuple[bytes, ...] = ()
    admin: tuple[bytes, ...] = ()

    @classmethod
    def from_keys(cls, predict=(), admin=()) -> APIKeys:
        for key in [*predict, *admin]:
            if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
                raise LearnloopError(f"An API key must be at least {MIN_KEY_LENGTH} characters without spaces; got "
                                     f"one of {len(key) if isinstance(key, str) else type(key).__name__} characters. "
                                     f"Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return cls(tuple(_digest(k.encode()) for k in predict), tuple(_digest(k.encode()) for k in admin))

    @classmethod
    def load(cls, api_key_file: str | Path | None = None, admin_key_file: str | Path | None = None,
             environ: dict | None = None) -> APIKeys:
        """Keys from files (one a line) and from ``LEARNLOOP_API_KEY`` / ``LEARNLOOP_ADMIN_KEY``."""
        env = os.environ if environ is None else environ
        predict = read_keys(api_key_file, "--api-key-file") if api_key_file else []
        admin = read_keys(admin_key_file, "--admin-key-file") if admin_key_file else []
        predict += [env[ENV_PREDICT]] if env.get(ENV_PREDICT) else []
        admin += [env[ENV_ADMIN]] if env.get(ENV_ADMIN) else []
        return cls.from_keys(predict, admin)

    @property
    def enabled(self) -> bool:
        return bool(self.predict or self.admin)

    def role(self, headers) -> str | None:
        """``"admin"``, ``"predict"`` or None for the key in ASGI ``headers`` (none, or not a key of this server)."""
        key = None
        for name, value in headers:
            if name == b"authorization" and value[:7].lower() == _BEARER:
                key = value[7:].strip()
                break
            if name == b"x-api-key":
                key = value.strip()
                break
        if not key:
            return None
        digest = _digest(key)
        found = None
        for role, digests in ((ADMIN, self.admin), (PREDICT, self.predict)):
            for known in digests:                     # every digest compared: the time does not say which matched
                if hmac.compare_digest(digest, known) and found is None:
                    found = role
        return found
