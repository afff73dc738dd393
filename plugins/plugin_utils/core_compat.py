# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where this collection reaches into ansible-core internals.

ansible-core gives strategy plugins no compatibility promise, and the shape of task results,
iterator state and the worker list changes between releases (2.19/2.20 results carry
``_return_data``, 2.21 results carry ``utr``). Everything version-dependent lives here, behind
feature detection rather than version comparisons, with a unit test per supported release.
"""

from __future__ import annotations

# Sections: each part of the collection adds what it needs under its own heading, with a unit
# test in tests/unit/plugins/plugin_utils/test_core_compat.py that runs on every supported core.

# --- task results (fanout, async_log) ---------------------------------------------------------

# --- strategy internals (fanout) --------------------------------------------------------------
