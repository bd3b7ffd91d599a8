# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The modusCloud API contract check: what the service answers, compared with WIRE_TABLE.

Private to this collection: no compatibility promise outside it.

Every read the collection uses is made once and each WIRE_TABLE row is judged "as assumed",
"differs" (with the keys and JSON types seen) or "not checked" (with why). The report holds shapes,
never values: no address, id, key or date (a date is shown as its form, digits as 9). Opt-in write
probes on a test organization settle the write questions and restore what they changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    BOOLEAN,
    BOOLEAN_FORMS,
    EXEMPTIONS_FORMS,
    HOURS,
    INVERTED,
    SETTINGS_FIELDS,
    TEXT,
    WIRE,
    WIRE_TABLE,
    parse_timestamp,
    settings_absent,
)

AS_ASSUMED = "as assumed"
DIFFERS = "differs"
NOT_CHECKED = "not checked"
# Object keys that are field names (shown) rather than data (an address or an id used as a key: hidden).
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_DEPTH = 4
# What the write probes save, made up: nothing real signs in with them.
PROBE_APPLICATION_ID = "00000000-0000-4000-8000-000000000000"
PROBE_KEY = "contract-check-probe-not-a-real-key"
PROBE_LOCAL_PART = "contract-check-probe"


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
        parts = ["%s: %s" % (key, shape(value[key], depth + 1)) for key in sorted(value, key=str)
                 if _FIELD_NAME.match(str(key))]
        if hidden:
            parts.append("<%d keys that are not field names>" % hidden)
        return "object{%s}" % ", ".join(parts)
    return type(value).__name__


def date_form(value):
    """The form of a date value: its digits as 9 and its letters as A (T and Z kept), or its JSON type."""
    if isinstance(value, str):
        return "string %s" % re.sub(r"[A-SU-Ya-z]", "A", re.sub(r"[0-9]", "9", value))[:40]
    return shape(value)


def _expected_type(encoding):
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
            rows.append({"row": entry.term, "wire": entry.wire, "assumed": entry.encoding, "mark": entry.confidence,
                         "result": result, "seen": seen})
        counts = dict((name, sum(1 for row in rows if row["result"] == name)) for name in (AS_ASSUMED, DIFFERS,
                                                                                           NOT_CHECKED))
        return {"rows": rows, "counts": counts, "write_probes": list(self.probes),
                "differing_rows": [row["row"] for row in rows if row["result"] == DIFFERS]}

    def markdown(self):
        data = self.as_data()
        lines = ["# modusCloud API contract check", "",
                 "Compared with WIRE_TABLE of moduscloud.azure_sync. Shapes only: no value of the service appears "
                 "here.", "",
                 "%(as assumed)d as assumed, %(differs)d differ, %(not checked)d not checked." % data["counts"], "",
                 "| Row | Assumed | Result | Seen |", "|---|---|---|---|"]
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


def _status(error):
    return "HTTP %s" % error.status if error.status is not None else "no answer (%s)" % type(error).__name__


class ContractCheck(object):
    """Runs the reads (and, if asked, the write probes) on one organization and fills a Report."""

    def __init__(self, client, org, via_api_url=False):
        self.client = client
        self.org = org
        self.report = Report()
        self.via_api_url = via_api_url

    def _get(self, terms, call):
        """Run one read; on failure mark its rows "differs" with the status only (never the message)."""
        try:
            return True, call()
        except ApiError as error:
            for term in terms:
                self.report.judge(term, False, "the read failed: %s" % _status(error))
            return False, None

    def run_reads(self, bad_password_client=None):
        report = self.report
        http = self.client.http
        org = self.org
        ok, org_body = self._get(["path.org"], lambda: http.json("GET", WIRE["path.org"].format(org=org),
                                                                 "read organization"))
        if not ok:
            return report
        report.judge("path.org", isinstance(org_body, dict), shape(org_body) if not isinstance(org_body, dict)
                     else "an object")
        for term in ("header.username", "header.password"):
            report.judge(term, True, "the service accepted the admin's headers")
        if self.via_api_url:
            report.skip("base_url", "api_url replaces it")
        else:
            report.judge("base_url", True, "the stack's URL answered")
        self._fields(org_body, ("org.primary_domain", "org.name"))

        ok, answer = self._get(["path.endpoints", "envelope.endpoints"], lambda: http.json(
            "GET", WIRE["path.endpoints"].format(domain=org), "discover the stack of"))
        if ok:
            report.judge("path.endpoints", True, "answered")
            items = answer.get(WIRE["envelope.endpoints"]) if isinstance(answer, dict) else None
            report.judge("envelope.endpoints", isinstance(items, list) and all(isinstance(i, str) for i in items),
                         shape(answer))

        ok, me = self._get(["path.me"], lambda: http.json("GET", WIRE["path.me"], "read the calling admin"))
        if ok:
            report.judge("path.me", isinstance(me, dict), "an object" if isinstance(me, dict) else shape(me))

        ok, answer = self._get(["path.domains", "envelope.domains"], lambda: http.json(
            "GET", WIRE["path.domains"].format(org=org), "list domains"))
        if ok:
            report.judge("path.domains", True, "answered")
            items = answer.get(WIRE["envelope.domains"]) if isinstance(answer, dict) else None
            report.judge("envelope.domains", isinstance(items, list), shape(answer))
            first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None
            if first is not None:
                self._fields(first, ("domain.name", "domain.is_active", "domain.is_relay", "domain.destination"))
                name = first.get(WIRE["domain.name"])
                ok, one = self._get(["path.domain"], lambda: http.json(
                    "GET", WIRE["path.domain"].format(org=org, domain=name), "read domain"))
                if ok:
                    report.judge("path.domain", isinstance(one, dict), "an object" if isinstance(one, dict)
                                 else shape(one))

        ok, answer = self._get(["path.users", "envelope.users"], lambda: http.json(
            "GET", WIRE["path.users"].format(org=org), "list users"))
        if ok:
            report.judge("path.users", True, "answered")
            items = answer.get(WIRE["envelope.users"]) if isinstance(answer, dict) else None
            report.judge("envelope.users", isinstance(items, list), _list_envelope_shape(answer))
            first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None
            if first is not None:
                self._fields(first, ("user.primary_email", "user.alias_emails"))
                email = first.get(WIRE["user.primary_email"])
                if isinstance(email, str):
                    ok, one = self._get(["path.user"], lambda: self.client.get_user(org, email))
                    if ok:
                        report.judge("path.user", isinstance(one, dict), "an object" if isinstance(one, dict)
                                     else shape(one))

        self._read_settings()
        self._read_exemptions()
        if bad_password_client is not None:
            self._bad_password(bad_password_client)
        else:
            report.skip("auth.failed_status", "probe_bad_password is off")
        return report

    def _fields(self, body, terms):
        """Judge rows naming a field of an object by the JSON type of that field."""
        entries = dict((entry.term, entry) for entry in WIRE_TABLE)
        for term in terms:
            entry = entries[term]
            if entry.wire not in body:
                self.report.judge(term, False, "no key %s; keys seen: %s" % (entry.wire, shape(body)))
                continue
            seen = shape(body[entry.wire])
            expected = _expected_type(entry.encoding)
            if term == "domain.destination":
                ok = seen in ("string", "null")
            elif term == "user.alias_emails":
                ok = seen in ("list[]", "list[string]")
            else:
                ok = expected is None or seen == expected
            self.report.judge(term, ok, seen)

    def _read_settings(self, after_probe=False):
        report, http = self.report, self.client.http
        try:
            response = http.request("GET", WIRE["path.settings"].format(org=self.org), "read Azure AD settings of")
            status, body = response.status_code, (response.json() if response.content else None)
        except ApiError as error:
            status, body = error.status, None
            if status != 404:
                for term in ("path.settings",):
                    report.judge(term, False, "the read failed: %s" % _status(error))
                return None
        except ValueError:
            report.judge("path.settings", False, "the answer is not JSON")
            return None
        report.judge("path.settings", True, "answered")
        if status == 404 or settings_absent(body):
            seen = "HTTP %s, %s" % (status, shape(body) if body is not None else "no body")
            report.judge("settings.absent_status", str(status) == WIRE["settings.absent_status"], seen)
            why = "the organization has no Azure AD settings" + ("" if after_probe else
                                                                 " (the write probes read some)")
            for entry in WIRE_TABLE:
                if entry.term.startswith(("settings.", "status.")) and entry.term not in (
                        "settings.absent_status", "settings.put_without_key") and \
                        report.rows[entry.term][0] == NOT_CHECKED:
                    report.skip(entry.term, why)
            return None
        if report.rows["settings.absent_status"][0] == NOT_CHECKED:
            report.skip("settings.absent_status", "the organization has Azure AD settings (a write probe on a test "
                                                  "organization reads the answer without them)")
        self._judge_settings(body)
        return body

    def _judge_settings(self, body):
        report = self.report
        booleans = []
        for option, (wire_key, encoding) in SETTINGS_FIELDS.items():
            term = "settings." + option
            if wire_key not in body:
                report.judge(term, False, "not returned")
                continue
            seen = shape(body[wire_key])
            expected = _expected_type(encoding)
            if encoding in (BOOLEAN, INVERTED):
                booleans.append(seen if seen != "string" else "string %s" % (
                    "true/false" if body[wire_key] in ("true", "false") else "other"))
                if body[wire_key] in ("true", "false"):
                    seen = 'string "true"/"false" (read as a boolean; the form is row settings.booleans)'
            report.judge(term, seen == expected or (expected == "boolean" and body[wire_key] in ("true", "false")),
                         seen)
        if booleans:
            kinds = sorted(set(booleans))
            report.judge("settings.booleans", kinds == ["boolean"], "read: " + ", ".join(kinds))
        key = WIRE["settings.key"]
        report.judge("settings.key", key not in body, "not returned" if key not in body else
                     "returned (%s): the service returns the key" % shape(body[key]))
        for term in ("status.secret_expiry", "status.last_successful_sync"):
            wire_key = WIRE[term]
            if wire_key not in body:
                report.judge(term, False, "not returned")
                continue
            value = body[wire_key]
            if value is None:
                report.judge(term, True, "null (none yet)")
                continue
            form = date_form(value)
            assumed = (re.match(r"^string 9999-99-99$", form) if term == "status.secret_expiry"
                       else re.match(r"^string 9999-99-99T99:99:99Z$", form))
            report.judge(term, bool(assumed) and parse_timestamp(value) is not None,
                         form + ("" if parse_timestamp(value) is not None else " (the collection cannot read it)"))

    def _read_exemptions(self):
        ok, answer = self._get(["path.exemptions", "exemptions.item_email"], lambda: self.client.http.json(
            "GET", WIRE["path.exemptions"].format(org=self.org), "list sync exemptions of"))
        if not ok:
            return
        self.report.judge("path.exemptions", True, "answered")
        if isinstance(answer, list) and not answer:
            self.report.skip("exemptions.item_email", "the list is empty (list[])")
            return
        item_ok = isinstance(answer, list) and all(
            isinstance(item, dict) and isinstance(item.get(WIRE["exemptions.item_email"]), str) for item in answer)
        self.report.judge("exemptions.item_email", item_ok, shape(answer))

    def _bad_password(self, client):
        try:
            client.http.json("GET", WIRE["path.domains"].format(org=self.org), "list domains")
        except ApiError as error:
            self.report.judge("auth.failed_status", str(error.status) == WIRE["auth.failed_status"],
                              "HTTP %s" % error.status)
            return
        self.report.judge("auth.failed_status", False, "a wrong password was accepted")

    # -------------------------------------------------------------- write probes (test organization only)

    def run_write_probes(self):
        self._probe_exemptions()
        self._probe_settings()
        return self.report

    def _probe(self, question, answer, restored):
        self.report.probes.append({"question": question, "answer": answer, "restored": restored})

    def _probe_exemptions(self):
        client, org = self.client, self.org
        probe = "%s@%s" % (PROBE_LOCAL_PART, org)
        try:
            before = client.list_exemptions(org)
        except ApiError as error:
            self._probe("exemptions.add_key", "not run: reading the exemptions failed (%s)" % _status(error), "n/a")
            return
        if probe in before:
            self._probe("exemptions.add_key", "not run: the probe address is already exempt", "n/a")
            return
        taken, refused = None, []
        saved_form = client.wire_format["exemptions"]
        try:
            for form in EXEMPTIONS_FORMS:
                client.wire_format["exemptions"] = form
                try:
                    client.add_exemptions(org, [probe])
                except ApiError as error:
                    refused.append("%s: %s" % (form, _status(error)))
                    continue
                if probe in client.list_exemptions(org):
                    taken = form
                    self._read_exemptions()  # the list holds an item now: its shape can be judged
                    break
                refused.append("%s: accepted but not added" % form)
        finally:
            client.wire_format["exemptions"] = saved_form
            restored = self._remove_probe_exemption(probe, before)
        if taken:
            answer = "the service took %s" % taken + (" (refused: %s)" % "; ".join(refused) if refused else "")
        else:
            answer = "none of the forms was taken (%s)" % "; ".join(refused)
        self.report.judge("exemptions.add_key", taken == EXEMPTIONS_FORMS[0], answer)
        self._probe("exemptions.add_key", answer, restored)

    def _remove_probe_exemption(self, probe, before):
        try:
            if probe in self.client.list_exemptions(self.org):
                self.client.delete_exemption(self.org, probe)
                self.report.judge("path.exemption", True, "DELETE of one exemption worked")
            after = self.client.list_exemptions(self.org)
        except ApiError as error:
            return "no: %s; remove the exemption %s@ your organization's domain by hand" % (
                _status(error), PROBE_LOCAL_PART)
        return "yes" if sorted(after) == sorted(before) else "no: the exemptions differ from before"

    def _probe_settings(self):
        client, org = self.client, self.org
        try:
            if client.get_azure_settings(org) is not None:
                self._probe("settings (booleans, put_without_key, absent_status)", "not run: the test organization "
                            "has Azure AD settings; use one without, the probes create and clear them", "n/a")
                return
        except ApiError as error:
            self._probe("settings", "not run: reading the settings failed (%s)" % _status(error), "n/a")
            return
        settings = dict((option, False) for option, (_w, encoding) in SETTINGS_FIELDS.items()
                        if encoding in (BOOLEAN, INVERTED))
        settings.update(primary_domain=org, application_id=PROBE_APPLICATION_ID, default_user_role="end_user",
                        sync_frequency_hours=0)  # 0 = never: the service does not try to sync with the probe
        created, form, refused = False, None, []
        saved_form = client.wire_format["booleans"]
        try:
            for form in BOOLEAN_FORMS:
                client.wire_format["booleans"] = form
                try:
                    client.put_import_settings(org, settings, PROBE_KEY)
                    created = True
                    break
                except ApiError as error:
                    refused.append("%s: %s" % (form, _status(error)))
            if not created:
                answer = "the service refused both forms (%s): it may check the application and key" % "; ".join(
                    refused)
                self.report.judge("settings.booleans", False, answer)
                self._probe("settings.booleans", answer, "yes (nothing was saved)")
                return
            answer = "the service took %s booleans" % form + (" (refused: %s)" % "; ".join(refused) if refused else "")
            self._probe("settings.booleans", answer, "see absent_status")
            body = self._read_settings(after_probe=True)
            read_result, read_seen = self.report.rows["settings.booleans"]
            self.report.judge("settings.booleans", form == BOOLEAN_FORMS[0] and read_result == AS_ASSUMED,
                              "%s on PUT; %s" % (answer, read_seen))
            expiry = (body or {}).get(WIRE["status.secret_expiry"])
            try:
                client.put_import_settings(org, dict(settings, add_users=True))
                after = client.get_azure_settings(org)
                still = after is not None and after.get(WIRE["status.secret_expiry"]) not in (None, "")
                if not expiry:
                    answer = "accepted; the service reports no key expiry, so whether it kept the key is unknown"
                    ok = None
                else:
                    answer = "kept the key" if still else "accepted, then reported no key expiry: it dropped the key"
                    ok = still
            except ApiError as error:
                answer, ok = "refused without the key (%s)" % _status(error), False
            if ok is None:
                self.report.skip("settings.put_without_key", answer)
            else:
                self.report.judge("settings.put_without_key", ok, answer)
            self._probe("settings.put_without_key", answer, "see absent_status")
        finally:
            client.wire_format["booleans"] = saved_form
            if created:
                restored = self._clear_probe_settings()
                self._probe("settings.absent_status", self.report.rows["settings.absent_status"][1], restored)

    def _clear_probe_settings(self):
        try:
            self.client.delete_import_settings(self.org)
        except ApiError as error:
            return "no: clearing the probe settings failed (%s); clear them in the console" % _status(error)
        self._read_settings(after_probe=True)
        try:
            return "yes" if self.client.get_azure_settings(self.org) is None else "no: settings remain"
        except ApiError as error:
            return "unknown: %s" % _status(error)


def _list_envelope_shape(answer):
    """The envelope and the keys of its first item only (a users list can be long)."""
    if isinstance(answer, dict):
        items = answer.get(WIRE["envelope.users"])
        if isinstance(items, list):
            return "object{%s: list[%s]}" % (WIRE["envelope.users"], shape(items[0], 1) if items else "")
    return shape(answer)


def bad_password_client(client_class, base_url, username, **options):
    """A client with a deliberately wrong password (the contract check's auth.failed_status probe)."""
    return client_class(base_url, username, "contract-check-wrong-password", **options)
