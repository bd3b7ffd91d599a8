# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The contract check's opt-in write probes: on a test organization they settle the write questions
(which exemptions and boolean forms the service takes, whether a PUT without the key keeps it) and restore
what they changed.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._contract_report import AS_ASSUMED, status_of
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    BOOLEAN,
    BOOLEAN_FORMS,
    EXEMPTIONS_FORMS,
    INVERTED,
    SETTINGS_FIELDS,
    WIRE,
)

# What the write probes save, made up: nothing real signs in with them.
PROBE_APPLICATION_ID = "00000000-0000-4000-8000-000000000000"
PROBE_KEY = "contract-check-probe-not-a-real-key"
PROBE_LOCAL_PART = "contract-check-probe"


class WriteProbes(object):
    """The write probes of ContractCheck (_contract.py), mixed into it: they use its client, org and report, and
    its reads of the settings and exemptions to judge what a probe wrote."""

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
            self._probe("exemptions.add_key", "not run: reading the exemptions failed (%s)" % status_of(error), "n/a")
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
                    refused.append("%s: %s" % (form, status_of(error)))
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
            return "no: %s; remove the exemption %s@ your organization's domain by hand" % (status_of(error), PROBE_LOCAL_PART)
        return "yes" if sorted(after) == sorted(before) else "no: the exemptions differ from before"

    def _probe_settings(self):
        client, org = self.client, self.org
        try:
            if client.get_azure_settings(org) is not None:
                self._probe(
                    "settings (booleans, put_without_key, absent_status)",
                    "not run: the test organization has Azure AD settings; use one without, the probes create and clear them",
                    "n/a",
                )
                return
        except ApiError as error:
            self._probe("settings", "not run: reading the settings failed (%s)" % status_of(error), "n/a")
            return
        settings = dict((option, False) for option, (_w, encoding) in SETTINGS_FIELDS.items() if encoding in (BOOLEAN, INVERTED))
        settings.update(
            primary_domain=org, app_id=PROBE_APPLICATION_ID, default_user_role="end_user", sync_frequency_hours=0
        )  # 0 = never: the service does not try to sync with the probe
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
                    refused.append("%s: %s" % (form, status_of(error)))
            if not created:
                answer = "the service refused both forms (%s): it may check the application and key" % "; ".join(refused)
                self.report.judge("settings.booleans", False, answer)
                self._probe("settings.booleans", answer, "yes (nothing was saved)")
                return
            answer = "the service took %s booleans" % form + (" (refused: %s)" % "; ".join(refused) if refused else "")
            self._probe("settings.booleans", answer, "see absent_status")
            body = self._read_settings(after_probe=True)
            read_result, read_seen = self.report.rows["settings.booleans"]
            self.report.judge("settings.booleans", form == BOOLEAN_FORMS[0] and read_result == AS_ASSUMED, "%s on PUT; %s" % (answer, read_seen))
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
                answer, ok = "refused without the key (%s)" % status_of(error), False
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
            return "no: clearing the probe settings failed (%s); clear them in the console" % status_of(error)
        self._read_settings(after_probe=True)
        try:
            return "yes" if self.client.get_azure_settings(self.org) is None else "no: settings remain"
        except ApiError as error:
            return "unknown: %s" % status_of(error)
