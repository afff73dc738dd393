# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn task results into JSON that is safe to write to the async_log file.

Results reach callbacks as native Python types with vaulted values redacted (ansible-core 2.19+),
but a callback also sees task attributes, handler names and data a strategy or action attached,
so everything written goes through :func:`to_jsonable`:

- tagged values (2.19's ``_AnsibleTagged*`` subclasses of str, int, list, dict, datetime ...)
  become their plain base type;
- vaulted values (``EncryptedString`` or anything tagged ``VaultedValue``) become
  :data:`VAULT_MARKER`; neither plaintext nor ciphertext is written;
- datetimes, dates and times become ISO 8601 strings, bytes become text (undecodable bytes as
  ``\\ufffd``), sets become sorted lists, anything else its ``repr`` type name;
- a result whose JSON is larger than ``max_bytes`` is replaced by a truncation marker.
"""

from __future__ import annotations

import collections.abc as c
import datetime
import json
import math
import typing as t

try:
    from ansible.parsing.vault import VaultHelper
except ImportError:  # pragma: no cover - ansible-core < 2.19 is not supported; keep the module importable
    VaultHelper = None

VAULT_MARKER = "<vaulted value redacted>"
NO_LOG_MARKER = "<hidden by no_log>"
TRUNCATED_KEY = "_truncated"
MAX_DEPTH = 64


def is_vaulted(value: object) -> bool:
    """True for an encrypted vault value, or a value decrypted from one."""
    if VaultHelper is None:
        return type(value).__name__ in ("EncryptedString", "AnsibleVaultEncryptedUnicode")
    try:
        return VaultHelper.get_ciphertext(value, with_tags=False) is not None
    except Exception:  # a value ansible-core itself cannot inspect is not one of its vault values
        return False


def to_jsonable(value: object, _depth: int = 0) -> t.Any:
    """A copy of value made only of dict, list, str, int, float, bool and None."""
    if value is None or type(value) in (bool, int):
        return value
    if is_vaulted(value):
        return VAULT_MARKER
    if _depth > MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, c.Mapping):
        return {_key(key): to_jsonable(item, _depth + 1) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(item, _depth + 1) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, c.Iterable):
        return [to_jsonable(item, _depth + 1) for item in value]
    return "<%s>" % type(value).__name__


def _key(key: object) -> str:
    if isinstance(key, str) and not is_vaulted(key):
        return str.__str__(key)
    converted = to_jsonable(key)
    return converted if isinstance(converted, str) else json.dumps(converted, sort_keys=True)


def dumps(value: object) -> str:
    """Compact JSON text of an already converted value (one line: no raw newlines)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


def limit_size(value: object, max_bytes: int) -> t.Any:
    """value converted by :func:`to_jsonable`, or a truncation marker when its JSON is larger
    than max_bytes (0 means no limit). The marker keeps the start of the JSON text so that a
    reader still sees what kind of result it was."""
    converted = to_jsonable(value)
    if not max_bytes:
        return converted
    text = dumps(converted)
    size = len(text.encode("utf-8"))
    if size <= max_bytes:
        return converted
    head = text.encode("utf-8")[: max(0, max_bytes // 2)].decode("utf-8", errors="ignore")
    return {TRUNCATED_KEY: True, "bytes": size, "max_result_bytes": max_bytes, "head": head}
