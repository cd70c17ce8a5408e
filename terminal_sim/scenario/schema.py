"""The JSON Schema of scenario files: the one definition the loader validates against.

``pos-sim schema`` prints it; editors can use it for completion. Semantic checks that a
schema cannot express (a card name in the catalog, a fault in the registry, a terminal
that exists, a time after the start) are made by :mod:`terminal_sim.scenario.loader`.
"""

from __future__ import annotations

from typing import Any

FINDING_CODES = [
    "STRAY_RECEIPT",
    "LOST_RECORD",
    "ORPHAN_AUTHORIZATION",
    "DUPLICATE_CHARGE",
    "UNSYNCED_RECORD",
    "MISSING_RECEIPT",
    "BLANK_RECEIPT",
    "TRUNCATED_RECEIPT",
    "TOTALS_MISMATCH",
]

#: The most sale intents (generated ``count`` x terminals, plus the explicit sales, refunds
#: and voids) one run may hold. Measured (``pos-sim run`` of a generated day, one core): a
#: sale costs ~1 ms of CPU and ~21 KB of memory (its trace records, journal, ledger and
#: receipt bytes are kept until reconciliation), so 50,000 sales take about a minute and
#: 1 GB; 10,000,000 ended in MemoryError. Larger days: split them into several runs.
MAX_SALES = 50_000
#: Terminals in one run: bench/run.py's memory row builds 10,000 (~19 KB each, ~180 MB in
#: all); a larger fleet is split into runs.
MAX_TERMINALS = 10_000
#: Fault entries in one run (each wraps a port or observes crash points at every step).
MAX_FAULTS = 200
_SIZE = (f"at most {MAX_SALES:,} sale intents per run (count x terminals + sales, refunds and "
         "voids): a sale costs ~1 ms and ~21 KB until the run is reconciled; split longer days")

_TIME = {
    "description": "time of day on the start date (HH:MM or HH:MM:SS; 24:00-47:59 is the "
                   "next day), or seconds after start",
    "oneOf": [
        {"type": "string", "pattern": r"^([0-3]\d|4[0-7]):[0-5]\d(:[0-5]\d)?$"},
        {"type": "integer", "minimum": 0, "maximum": 172_799},
    ],
}
_TERMINAL_ID = {"type": "string", "pattern": r"^[A-Z0-9]{8}$",
                "description": "8 characters, ISO 8583 field 41"}
_CURRENCY = {"type": "string", "pattern": r"^[A-Z]{3}$", "description": "ISO 4217 alpha code"}
_INTERVAL = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 86_400},
             "minItems": 2, "maxItems": 2, "description": "[low, high] seconds, both included"}
_AMOUNTS = {"type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999},
            "minItems": 2, "maxItems": 2, "description": "[low, high] minor units, both included"}

_SALE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["at", "amount"],
    "properties": {
        "at": _TIME,
        "terminal": _TERMINAL_ID,
        "amount": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999},
        "currency": _CURRENCY,
        "card": {"type": "string", "description": "a test-card name"},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "terminal-sim/scenario.schema.json",
    "title": "terminal-sim scenario",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "seed", "workload"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
        "profile": {"type": "string", "description": "firmware profile: naive or robust"},
        "profile_settings": {
            "type": "object",
            "description": "override single safeguards of the profile",
            "additionalProperties": {"type": ["boolean", "integer", "string"]},
        },
        "start": {"type": "string",
                  "pattern": r"^(19[7-9]\d|2\d{3})-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$",
                  "description": "calendar time of virtual time zero"},
        "terminals": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TERMINALS,
            "description": f"at most {MAX_TERMINALS:,} terminals per run (~19 KB each: "
                           "10,000 take ~180 MB; more is a fleet to split into runs)",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": _TERMINAL_ID,
                    "merchant_id": {"type": "string", "pattern": r"^[A-Z0-9]{1,15}$"},
                    "merchant_name": {"type": "string", "minLength": 1, "maxLength": 32},
                },
            },
        },
        "workload": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "sales": {
                    "type": "array",
                    "maxItems": MAX_SALES,
                    "description": _SIZE,
                    "items": _SALE,
                },
                "refunds": {
                    "type": "array",
                    "maxItems": MAX_SALES,
                    "description": _SIZE,
                    "items": _SALE,
                },
                "voids": {
                    "type": "array",
                    "maxItems": MAX_SALES,
                    "description": _SIZE,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["at"],
                        "properties": {"at": _TIME, "terminal": _TERMINAL_ID},
                    },
                },
                "cashier": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "what the cashier does after a sale ends without an "
                                   "approved slip: a power cut mid-sale, or the terminal "
                                   "shows NOT COMPLETED (no host reply) or a technical "
                                   "decline (30, 91, 96). With retry the same purchase is "
                                   "presented again as a new sale (retry_of in the trace) "
                                   "once the terminal is ready, unless an approved slip of "
                                   "it came out after all. Default: no retry",
                    "properties": {
                        "retry": {"type": "boolean",
                                  "description": "present the purchase again (default false)"},
                        "retry_after_s": {**_INTERVAL,
                                          "description": "[low, high] seconds after the "
                                                         "failure the cashier tries again, "
                                                         "drawn per retry (default [20, 120])"},
                        "max_retries": {"type": "integer", "minimum": 1, "maximum": 5,
                                        "description": "retries per purchase (default 2)"},
                    },
                },
                "generate": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["count"],
                    "properties": {
                        "count": {"type": "integer", "minimum": 0, "maximum": MAX_SALES,
                                  "description": "sales generated at each terminal; "
                                                 + _SIZE},
                        "start": _TIME,
                        "interval_s": _INTERVAL,
                        "amount": _AMOUNTS,
                        "currency": _CURRENCY,
                        "cards": {
                            "type": "object",
                            "description": "test-card name -> integer weight",
                            "additionalProperties": {"type": "integer", "minimum": 0},
                            "minProperties": 1,
                        },
                        "void_rate": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                },
            },
        },
        "faults": {
            "type": "array",
            "maxItems": MAX_FAULTS,
            "description": f"at most {MAX_FAULTS} faults: each one sees every opportunity "
                           "(crash point, message, card read) of the terminals it targets",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
                "description": "a fault by registry name, with its parameters",
            },
        },
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                code: {
                    "oneOf": [
                        {"type": "integer", "minimum": 0},
                        {"type": "string", "pattern": r"^\s*(==|!=|>=|<=|>|<)\s*\d+\s*$"},
                    ]
                }
                for code in FINDING_CODES
            },
        },
    },
}
