# SPDX-License-Identifier: Apache-2.0
"""Typed event constants (pmx_event.type of include/providermux.h), from abi/abi.json."""

# BEGIN GENERATED abi:python-event-types (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
EVENT_START = 1
EVENT_DELTA = 2
EVENT_RETRY = 3
EVENT_FALLBACK = 4
EVENT_USAGE = 5
EVENT_DONE = 6
EVENT_ERROR = 7
#: pmx_event.type -> the JSON events' "type".
EVENT_TYPE_NAMES = {1: "start", 2: "delta", 3: "retry", 4: "fallback", 5: "usage", 6: "done", 7: "error"}
# END GENERATED abi:python-event-types
