# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json

from ansible.parsing.vault import EncryptedString, VaultedValue  # VaultedValue: core's own tag for decrypted vault text
from ansible.template import trust_as_template

from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_serialise import (
    TRUNCATED_KEY,
    VAULT_MARKER,
    dumps,
    is_vaulted,
    limit_size,
    to_jsonable,
)

SECRET = "S3CRET-PLAINTEXT-42"
CIPHERTEXT = "$ANSIBLE_VAULT;1.1;AES256\n6162636465666768"


def test_plain_values_pass_through():
    value = {"a": [1, 2.5, True, None, "x"], "b": {"c": "d"}}
    assert to_jsonable(value) == value


def test_tagged_values_become_their_base_types():
    tagged = trust_as_template("{{ x }}")
    assert tagged.__class__ is not str  # core really gave a tagged subclass
    converted = to_jsonable({"k": tagged, "l": [tagged]})
    assert converted["k"].__class__ is str and converted["k"] == "{{ x }}"
    assert converted["l"][0].__class__ is str
    json.dumps(converted)


def test_datetimes_bytes_and_sets():
    when = datetime.datetime(2026, 12, 3, 17, 0, 1, 500000, tzinfo=datetime.timezone.utc)
    converted = to_jsonable({
        "when": when,
        "day": datetime.date(2026, 12, 3),
        "time": datetime.time(1, 2, 3),
        "raw": b"caf\xc3\xa9 \xff",
        "set": {3, 1, 2},
        "frozen": frozenset(["b", "a"]),
        "tuple": (1, 2),
    })
    assert converted["when"] == "2026-12-03T17:00:01.500000+00:00"
    assert converted["day"] == "2026-12-03"
    assert converted["time"] == "01:02:03"
    assert converted["raw"] == "caf\u00e9 \ufffd"
    assert converted["set"] == [1, 2, 3]
    assert converted["frozen"] == ["a", "b"]
    assert converted["tuple"] == [1, 2]


def test_encrypted_vault_value_is_never_written():
    encrypted = EncryptedString(ciphertext=CIPHERTEXT)
    assert is_vaulted(encrypted)
    text = dumps(to_jsonable({"password": encrypted, "list": [encrypted]}))
    assert VAULT_MARKER in text
    assert "6162636465666768" not in text


def test_decrypted_vault_value_is_redacted():
    decrypted = VaultedValue(ciphertext=CIPHERTEXT).tag(SECRET)
    assert decrypted == SECRET and is_vaulted(decrypted)
    text = dumps(to_jsonable({"password": decrypted, decrypted: "as a key", "nested": {"deep": [decrypted]}}))
    assert SECRET not in text
    assert text.count(VAULT_MARKER) == 3


def test_unknown_objects_and_odd_floats():
    class Thing:
        pass
    converted = to_jsonable({"thing": Thing(), "nan": float("nan"), "inf": float("inf"), 1: "int key"})
    assert converted == {"thing": "<Thing>", "nan": "nan", "inf": "inf", "1": "int key"}


def test_small_results_are_kept_and_large_ones_truncated_with_a_marker():
    small = {"stdout": "x" * 10}
    assert limit_size(small, 100) == small
    big = {"stdout": "y" * 5000}
    marker = limit_size(big, 1000)
    assert marker[TRUNCATED_KEY] is True
    assert marker["bytes"] == len(dumps(big))
    assert marker["max_result_bytes"] == 1000
    assert marker["head"].startswith('{"stdout":"yyy')
    assert len(dumps(marker)) < 1000
    assert limit_size(big, 0) == big


def test_truncation_does_not_split_multibyte_characters():
    marker = limit_size({"s": "\u00e9" * 3000}, 101)
    marker["head"].encode("utf-8")  # valid text
    assert marker[TRUNCATED_KEY]


def test_dumps_is_one_line():
    assert "\n" not in dumps(to_jsonable({"a": "line1\nline2"}))
