"""The modusCloud API contract check (moduscloud_api_check, playbooks/check_moduscloud_api.yml).

Run against the sandbox answering the open API questions every way (four organizations, each with
its own variants, together every variant). The check must name exactly the rows where the service
differs from the collection's assumptions, write nothing unless asked, restore what its write
probes change, and its reports and output must hold no secret and no address of the sandbox.
"""

import json
import os
import re

from playbook_harness import ROOT, run_playbook
from test_role import assert_no_secret, failure_text, org_state
from test_role_variants import ORG_COUNT, variant_sets

# The rows each non-default answer makes differ (the default answers are the collection's assumptions).
DIFFERING_ROWS = {
    "put-without-key:refused": {"settings.put_without_key"},
    "put-without-key:clears": {"settings.put_without_key"},
    "unconfigured:200-empty": {"settings.absent_status"},
    "unconfigured:200-null": {"settings.absent_status"},
    "unconfigured:204": {"settings.absent_status"},
    "exemptions-body:json-list": {"exemptions.add_key"},
    "exemptions-body:bare-list": {"exemptions.add_key"},
    "exemptions-body:bare-string": {"exemptions.add_key"},
    "booleans:strings": {"settings.booleans"},
    "booleans:strings-only": {"settings.booleans"},
    "bad-password:403": {"auth.failed_status"},
    "dates:space": {"status.secret_expiry"},
    "dates:epoch": {"status.secret_expiry"},
}
# Rows only a write probe can check (the organizations start without settings).
WRITE_ONLY_ROWS = {"settings.put_without_key", "exemptions.add_key", "settings.booleans", "status.secret_expiry"}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def check_playbook(tmp_path, tenants, write_probes):
    """A play running the module on each organization (one host each, so one run covers every variant)."""
    hosts = {}
    for index, tenant in enumerate(tenants):
        # Host names that are not the organization's domain, so any domain in the output comes from the check.
        hosts["org%d" % index] = {
            "ansible_connection": "local",
            "org": tenant["moduscloud_org"],
            "api_url": tenant["moduscloud_url"],
            "username": tenant["moduscloud_user"],
            "password": tenant["moduscloud_password"],
            "ca_path": tenant["ca_bundle"],
        }
    inventory = tmp_path / "check-inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    args = {"org": "{{ org }}", "api_url": "{{ api_url }}", "username": "{{ username }}", "password": "{{ password }}", "ca_path": "{{ ca_path }}"}
    if write_probes:
        args["write_probe_org"] = "{{ org }}"
    playbook = tmp_path / "check.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "all",
                    "gather_facts": False,
                    "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                    "tasks": [
                        {"name": "Check the API", "moduscloud.azure_sync.moduscloud_api_check": args, "register": "check"},
                        {
                            "name": "Keep the report",
                            "ansible.builtin.copy": {
                                "content": "{{ check.report | to_json }}",
                                "dest": str(tmp_path) + "/report-{{ inventory_hostname }}.json",
                                "mode": "0600",
                            },
                            "delegate_to": "localhost",
                        },
                        {
                            "name": "Keep the Markdown",
                            "ansible.builtin.copy": {
                                "content": "{{ check.markdown }}",
                                "dest": str(tmp_path) + "/report-{{ inventory_hostname }}.md",
                                "mode": "0600",
                            },
                            "delegate_to": "localhost",
                        },
                    ],
                }
            ]
        )
    )
    return run_playbook(str(playbook), tmp_path, inventory=str(inventory), forks=ORG_COUNT)


def sandbox_secrets_and_addresses(sandbox, tenants):
    secrets = [tenant[name] for tenant in tenants for name in ("admin_client_secret", "moduscloud_password")]
    addresses = set()
    for org in sandbox.state()["moduscloud"]["orgs"].values():
        addresses.update(domain["name"] for domain in org["domains"])
        for user in org["users"]:
            addresses.add(user["primary_email"])
            addresses.update(user["alias_emails"])
        addresses.update(org["exemptions"])
    addresses.update(tenant["moduscloud_user"] for tenant in tenants)
    return secrets, sorted(addresses)


def assert_nothing_to_hide(text, secrets, addresses):
    assert_no_secret(text, *secrets)
    for address in addresses:
        if address.lower() in text.lower():
            raise AssertionError("an address of the sandbox appears at offset %d" % text.lower().index(address.lower()))
    found = EMAIL.search(text)
    assert found is None, "an email address appears at offset %d" % found.start()


def test_the_contract_check_names_the_rows_each_variant_changes_and_leaks_nothing(fresh_sandbox, tmp_path):
    sets = variant_sets(fresh_sandbox)
    fresh_sandbox.control("PUT", "/moduscloud/variants", json={"org": fresh_sandbox.info["moduscloud_org"], "variants": sets[0]})
    tenants = [fresh_sandbox.info] + [
        fresh_sandbox.control("POST", "/tenants", json={"name": "check%d" % index, "moduscloud_variants": names})
        for index, names in enumerate(sets[1:], start=1)
    ]

    writes = fresh_sandbox.stats()["writes"]
    read_only = check_playbook(tmp_path, tenants, write_probes=False)
    assert read_only.returncode == 0, failure_text(read_only)
    assert fresh_sandbox.stats()["writes"] == writes, "the read-only check wrote"
    for index, names in enumerate(sets):
        report = json.loads((tmp_path / ("report-org%d.json" % index)).read_text())
        expected = set().union(*(DIFFERING_ROWS.get(name, set()) for name in names)) - WRITE_ONLY_ROWS
        assert set(report["differing_rows"]) == expected, (names, report["differing_rows"])

    probed = check_playbook(tmp_path, tenants, write_probes=True)
    assert probed.returncode == 0, failure_text(probed)
    secrets, addresses = sandbox_secrets_and_addresses(fresh_sandbox, tenants)
    assert_nothing_to_hide(probed.output + read_only.output, secrets, addresses)
    for index, (tenant, names) in enumerate(zip(tenants, sets)):
        stem = str(tmp_path / ("report-org%d" % index))
        with open(stem + ".json") as handle:
            report = json.load(handle)
        with open(stem + ".md") as handle:
            markdown = handle.read()
        expected = set().union(*(DIFFERING_ROWS.get(name, set()) for name in names))
        assert set(report["differing_rows"]) == expected, (names, report["differing_rows"])
        for row in expected:
            assert "| %s |" % row in markdown and "| differs |" in markdown
        assert [probe["restored"] for probe in report["write_probes"] if probe["restored"] != "see absent_status"] == ["yes", "yes"], report["write_probes"]
        assert_nothing_to_hide(json.dumps(report) + markdown, secrets, addresses)
        org = org_state(fresh_sandbox, tenant)
        assert org["azure"] is None and org["exemptions"] == [], "the probes left something behind"


def test_the_check_playbook_writes_both_reports(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    extra = {
        "moduscloud_org": info["moduscloud_org"],
        "moduscloud_api_url": info["moduscloud_url"],
        "moduscloud_username": info["moduscloud_user"],
        "moduscloud_password": info["moduscloud_password"],
        "moduscloud_ca_path": info["ca_bundle"],
        "report_dir": str(tmp_path),
    }
    run = run_playbook(os.path.join(ROOT, "playbooks", "check_moduscloud_api.yml"), tmp_path, extra_vars=extra)
    assert run.returncode == 0, failure_text(run)
    assert "0 differ (none)" in run.output
    assert (tmp_path / "moduscloud-api-check.md").read_text().startswith("# modusCloud API contract check")
    report = json.loads((tmp_path / "moduscloud-api-check.json").read_text())
    assert report["counts"]["differs"] == 0 and report["counts"]["as assumed"] > 20
    assert fresh_sandbox.stats()["writes"] == 0
