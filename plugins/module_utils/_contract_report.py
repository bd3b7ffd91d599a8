# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The contract check's report: per WIRE_TABLE row a result and what was seen, as the shape of an answer
(keys and JSON types, a date's form), never a value of the service. Pure: no I/O.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    BOOLEAN,
    HOURS,
    INVERTED,
    TEXT,
    WIRE,
    WIRE_TABLE,
)

AS_ASSUMED = "as assumed"
DIFFERS = "differs"
NOT_CHECKED = "not checked"
# Object keys that are field names (shown) rather than data (an address or an id used as a key: hidden).
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_DEPTH = 4


def shape(value, depth=0):
    """The JSON type of a value, with the keys of objects and the types of list items; never a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        if not value:
            return "list[]"
        if depth >= _MAX_DEPTH:
            return "list[...]"
        return "list[%s]" % " | ".join(sorted(set(shape(item, depth + 1) for item in value)))
    if isinstance(value, dict):
        if depth >= _MAX_DEPTH:
            return "object{...}"
        hidden = sum(1 for key in value if not _FIELD_NAME.match(str(key)))
        parts = ["%s: %s" % (key, shape(value[key], depth + 1)) for key in sorted(value, key=str) if _FIELD_NAME.match(str(key))]
        if hidden:
            parts.append("<%d keys that are not field names>" % hidden)
        return "object{%s}" % ", ".join(parts)
    return type(value).__name__


def date_form(value):
    """The form of a date value: its digits as 9 and its letters as A (T and Z kept), or its JSON type."""
    if isinstance(value, str):
        return "string %s" % re.sub(r"[A-SU-Ya-z]", "A", re.sub(r"[0-9]", "9", value))[:40]
    return shape(value)


def expected_type(encoding):
    """The JSON type a WIRE_TABLE encoding assumes, or None when it assumes none."""
    if encoding in (BOOLEAN, INVERTED):
        return "boolean"
    if encoding == HOURS:
        return "integer"
    if encoding == TEXT:
        return "string"
    return None


class Report(object):
    """Per WIRE_TABLE row: result and what was seen (a shape), in table order."""

    def __init__(self):
        self.rows = dict((entry.term, (NOT_CHECKED, "no read of the check reaches it")) for entry in WIRE_TABLE)
        self.probes = []

    def judge(self, term, ok, seen):
        self.rows[term] = (AS_ASSUMED if ok else DIFFERS, seen)

    def skip(self, term, why):
        self.rows[term] = (NOT_CHECKED, why)

    def as_data(self):
        rows = []
        for entry in WIRE_TABLE:
            result, seen = self.rows[entry.term]
            rows.append({"row": entry.term, "wire": entry.wire, "assumed": entry.encoding, "mark": entry.confidence, "result": result, "seen": seen})
        counts = dict((name, sum(1 for row in rows if row["result"] == name)) for name in (AS_ASSUMED, DIFFERS, NOT_CHECKED))
        return {"rows": rows, "counts": counts, "write_probes": list(self.probes), "differing_rows": [row["row"] for row in rows if row["result"] == DIFFERS]}

    def markdown(self):
        data = self.as_data()
        lines = [
            "# modusCloud API contract check",
            "",
            "Compared with WIRE_TABLE of moduscloud.azure_sync. Shapes only: no value of the service appears here.",
            "",
            "%(as assumed)d as assumed, %(differs)d differ, %(not checked)d not checked." % data["counts"],
            "",
            "| Row | Assumed | Result | Seen |",
            "|---|---|---|---|",
        ]
        for row in data["rows"]:
            assumed = "`%s` %s" % (row["wire"], row["assumed"]) if row["assumed"] else "`%s`" % row["wire"]
            lines.append("| %s | %s | %s | %s |" % (row["row"], _cell(assumed), row["result"], _cell(row["seen"])))
        lines += ["", "## Write probes", ""]
        if not data["write_probes"]:
            lines.append("None ran (they need write_probe_org naming the checked organization).")
        for probe in data["write_probes"]:
            lines.append("- **%s**: %s; restored: %s" % (probe["question"], probe["answer"], probe["restored"]))
        return "\n".join(lines) + "\n"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def status_of(error):
    """A failed call as the report may show it: the status only, never the message."""
    return "HTTP %s" % error.status if error.status is not None else "no answer (%s)" % type(error).__name__


def list_envelope_shape(answer):
    """The envelope and the keys of its first item only (a users list can be long)."""
    if isinstance(answer, dict):
        items = answer.get(WIRE["envelope.users"])
        if isinstance(items, list):
            return "object{%s: list[%s]}" % (WIRE["envelope.users"], shape(items[0], 1) if items else "")
    return shape(answer)
