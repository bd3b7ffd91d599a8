# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The modusCloud API contract check's reads: what the service answers, compared with WIRE_TABLE.

Private to this collection: no compatibility promise outside it.

Every read the collection uses is made once and each WIRE_TABLE row is judged "as assumed",
"differs" (with the keys and JSON types seen) or "not checked" (with why). The report holds shapes,
never values (_contract_report.py). Opt-in write probes on a test organization (_contract_probes.py)
settle the write questions and restore what they changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._contract_probes import WriteProbes
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._contract_report import (
    NOT_CHECKED,
    Report,
    date_form,
    expected_type,
    list_envelope_shape,
    shape,
    status_of,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    BOOLEAN,
    INVERTED,
    SETTINGS_FIELDS,
    WIRE,
    WIRE_TABLE,
    parse_timestamp,
    settings_absent,
)


class ContractCheck(WriteProbes):
    """Runs the reads (and, if asked, the write probes of _contract_probes.py) on one organization and fills a
    Report."""

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
                self.report.judge(term, False, "the read failed: %s" % status_of(error))
            return False, None

    def run_reads(self, bad_password_client=None):
        report = self.report
        http = self.client.http
        org = self.org
        ok, org_body = self._get(["path.org"], lambda: http.json("GET", WIRE["path.org"].format(org=org), "read organization"))
        if not ok:
            return report
        report.judge("path.org", isinstance(org_body, dict), shape(org_body) if not isinstance(org_body, dict) else "an object")
        for term in ("header.username", "header.password"):
            report.judge(term, True, "the service accepted the admin's headers")
        if self.via_api_url:
            report.skip("base_url", "api_url replaces it")
        else:
            report.judge("base_url", True, "the stack's URL answered")
        self._fields(org_body, ("org.primary_domain", "org.name"))

        ok, answer = self._get(
            ["path.endpoints", "envelope.endpoints"], lambda: http.json("GET", WIRE["path.endpoints"].format(domain=org), "discover the stack of")
        )
        if ok:
            report.judge("path.endpoints", True, "answered")
            items = answer.get(WIRE["envelope.endpoints"]) if isinstance(answer, dict) else None
            report.judge("envelope.endpoints", isinstance(items, list) and all(isinstance(i, str) for i in items), shape(answer))

        ok, me = self._get(["path.me"], lambda: http.json("GET", WIRE["path.me"], "read the calling admin"))
        if ok:
            report.judge("path.me", isinstance(me, dict), "an object" if isinstance(me, dict) else shape(me))

        ok, answer = self._get(["path.domains", "envelope.domains"], lambda: http.json("GET", WIRE["path.domains"].format(org=org), "list domains"))
        if ok:
            report.judge("path.domains", True, "answered")
            items = answer.get(WIRE["envelope.domains"]) if isinstance(answer, dict) else None
            report.judge("envelope.domains", isinstance(items, list), shape(answer))
            first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None
            if first is not None:
                self._fields(first, ("domain.name", "domain.is_active", "domain.is_relay", "domain.destination"))
                name = first.get(WIRE["domain.name"])
                ok, one = self._get(["path.domain"], lambda: http.json("GET", WIRE["path.domain"].format(org=org, domain=name), "read domain"))
                if ok:
                    report.judge("path.domain", isinstance(one, dict), "an object" if isinstance(one, dict) else shape(one))

        ok, answer = self._get(["path.users", "envelope.users"], lambda: http.json("GET", WIRE["path.users"].format(org=org), "list users"))
        if ok:
            report.judge("path.users", True, "answered")
            items = answer.get(WIRE["envelope.users"]) if isinstance(answer, dict) else None
            report.judge("envelope.users", isinstance(items, list), list_envelope_shape(answer))
            first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None
            if first is not None:
                self._fields(first, ("user.primary_email", "user.alias_emails"))
                email = first.get(WIRE["user.primary_email"])
                if isinstance(email, str):
                    ok, one = self._get(["path.user"], lambda: self.client.get_user(org, email))
                    if ok:
                        report.judge("path.user", isinstance(one, dict), "an object" if isinstance(one, dict) else shape(one))

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
            expected = expected_type(entry.encoding)
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
                    report.judge(term, False, "the read failed: %s" % status_of(error))
                return None
        except ValueError:
            report.judge("path.settings", False, "the answer is not JSON")
            return None
        report.judge("path.settings", True, "answered")
        if status == 404 or settings_absent(body):
            seen = "HTTP %s, %s" % (status, shape(body) if body is not None else "no body")
            report.judge("settings.absent_status", str(status) == WIRE["settings.absent_status"], seen)
            why = "the organization has no Azure AD settings" + ("" if after_probe else " (the write probes read some)")
            for entry in WIRE_TABLE:
                if (
                    entry.term.startswith(("settings.", "status."))
                    and entry.term not in ("settings.absent_status", "settings.put_without_key")
                    and report.rows[entry.term][0] == NOT_CHECKED
                ):
                    report.skip(entry.term, why)
            return None
        if report.rows["settings.absent_status"][0] == NOT_CHECKED:
            report.skip("settings.absent_status", "the organization has Azure AD settings (a write probe on a test organization reads the answer without them)")
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
            expected = expected_type(encoding)
            if encoding in (BOOLEAN, INVERTED):
                booleans.append(seen if seen != "string" else "string %s" % ("true/false" if body[wire_key] in ("true", "false") else "other"))
                if body[wire_key] in ("true", "false"):
                    seen = 'string "true"/"false" (read as a boolean; the form is row settings.booleans)'
            report.judge(term, seen == expected or (expected == "boolean" and body[wire_key] in ("true", "false")), seen)
        if booleans:
            kinds = sorted(set(booleans))
            report.judge("settings.booleans", kinds == ["boolean"], "read: " + ", ".join(kinds))
        key = WIRE["settings.key"]
        report.judge("settings.key", key not in body, "not returned" if key not in body else "returned (%s): the service returns the key" % shape(body[key]))
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
            assumed = re.match(r"^string 9999-99-99$", form) if term == "status.secret_expiry" else re.match(r"^string 9999-99-99T99:99:99Z$", form)
            report.judge(
                term,
                bool(assumed) and parse_timestamp(value) is not None,
                form + ("" if parse_timestamp(value) is not None else " (the collection cannot read it)"),
            )

    def _read_exemptions(self):
        ok, answer = self._get(
            ["path.exemptions", "exemptions.item_email"],
            lambda: self.client.http.json("GET", WIRE["path.exemptions"].format(org=self.org), "list sync exemptions of"),
        )
        if not ok:
            return
        self.report.judge("path.exemptions", True, "answered")
        if isinstance(answer, list) and not answer:
            self.report.skip("exemptions.item_email", "the list is empty (list[])")
            return
        item_ok = isinstance(answer, list) and all(isinstance(item, dict) and isinstance(item.get(WIRE["exemptions.item_email"]), str) for item in answer)
        self.report.judge("exemptions.item_email", item_ok, shape(answer))

    def _bad_password(self, client):
        try:
            client.http.json("GET", WIRE["path.domains"].format(org=self.org), "list domains")
        except ApiError as error:
            self.report.judge("auth.failed_status", str(error.status) == WIRE["auth.failed_status"], "HTTP %s" % error.status)
            return
        self.report.judge("auth.failed_status", False, "a wrong password was accepted")
