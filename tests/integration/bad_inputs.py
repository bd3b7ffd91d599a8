"""The bad-input table: role variables that must be refused before any write, each by its own tenant.

Every case runs on its own sandbox tenant, all in ONE ansible-playbook run (one host per case), so the
sandbox's per-tenant journal tells each case's writes apart. Used by tests/integration/test_preflight.py
(which asserts) and bench/reliability.py (which prints the table).
"""

import json
import os
import re

from fault_sweep import COUNTED, inventory_file, host_ok
from playbook_harness import ROOT, run_playbook

PLAYBOOK = os.path.join(ROOT, "playbooks", "configure_azure_sync.yml")
LONG_URI = "https://moduscloud.cloud-protect.net/" + "a" * 260

# (case name, role variables, the role variable the error must name, a text of the value it must show)
BAD_INPUTS = [
    ("lifetime zero", {"azure_user_sync_secret_lifetime_days": 0}, "azure_user_sync_secret_lifetime_days", "got 0"),
    ("lifetime negative", {"azure_user_sync_secret_lifetime_days": -5}, "azure_user_sync_secret_lifetime_days", "got -5"),
    ("lifetime 100000 days", {"azure_user_sync_secret_lifetime_days": 100000}, "azure_user_sync_secret_lifetime_days", "got 100000"),
    ("rotation window longer than the lifetime", {"azure_user_sync_secret_rotate_before_days": 800}, "azure_user_sync_secret_rotate_before_days", "800"),
    ("empty secret description", {"azure_user_sync_secret_description": ""}, "azure_user_sync_secret_description", "must not be empty"),
    ("exemption that is not an address", {"azure_user_sync_exemptions": ["not-an-address"]}, "azure_user_sync_exemptions", "not-an-address"),
    ("negative wait timeout", {"azure_user_sync_wait_timeout": -1}, "azure_user_sync_wait_timeout", "got -1"),
    ("negative max removals", {"azure_user_sync_max_removals": -1}, "azure_user_sync_max_removals", "got -1"),
    ("primary domain outside the tenant", {"azure_user_sync_primary_domain": "elsewhere.example"}, "azure_user_sync_primary_domain", "elsewhere.example"),
    ("redirect URI with a fragment", {"azure_user_sync_redirect_uris": ["https://moduscloud.cloud-protect.net/#x"]}, "azure_user_sync_redirect_uris", "#x"),
    (
        "plain http redirect URI",
        {"azure_user_sync_redirect_uris": ["http://moduscloud.cloud-protect.net/"]},
        "azure_user_sync_redirect_uris",
        "http://moduscloud.cloud-protect.net/",
    ),
    ("redirect URI over 256 characters", {"azure_user_sync_redirect_uris": [LONG_URI]}, "azure_user_sync_redirect_uris", "longer than 256"),
    (
        "delegated-only permission as an application permission",
        {"azure_user_sync_application_permissions": ["User.Read"]},
        "azure_user_sync_application_permissions",
        "User.Read",
    ),
    (
        "misspelt delegated permission",
        {"azure_user_sync_delegated_permissions": ["Directory.Read.Al"]},
        "azure_user_sync_delegated_permissions",
        "Directory.Read.Al",
    ),
    ("unknown console", {"azure_user_sync_console": "asia"}, "azure_user_sync_console", "asia"),
    ("empty modusCloud username", {"azure_user_sync_moduscloud_username": ""}, "azure_user_sync_moduscloud_username", "missing username"),
    ("modusCloud username that is not an address", {"azure_user_sync_moduscloud_username": "admin"}, "azure_user_sync_moduscloud_username", "'admin'"),
    ("empty modusCloud password", {"azure_user_sync_moduscloud_password": ""}, "azure_user_sync_moduscloud_password", "missing password"),
    ("sync frequency over a week", {"azure_user_sync_sync_frequency_hours": 500}, "azure_user_sync_sync_frequency_hours", "500"),
    ("unknown user role", {"azure_user_sync_default_user_role": "boss"}, "azure_user_sync_default_user_role", "boss"),
    ("plain http Graph URL", {"azure_user_sync_graph_url": "http://graph.example"}, "azure_user_sync_graph_url", "http://graph.example"),
    ("empty application name", {"azure_user_sync_app_name": ""}, "azure_user_sync_app_name", "display_name"),
    ("unknown removal guard action", {"azure_user_sync_removal_guard": "ignore"}, "azure_user_sync_removal_guard", "ignore"),
    ("lifetime that is not a number", {"azure_user_sync_secret_lifetime_days": "two years"}, "azure_user_sync_secret_lifetime_days", "two years"),
    ("negative rotation window", {"azure_user_sync_secret_rotate_before_days": -1}, "azure_user_sync_secret_rotate_before_days", "got -1"),
    ("unknown sign-in audience", {"azure_user_sync_sign_in_audience": "Everyone"}, "azure_user_sync_sign_in_audience", "Everyone"),
    ("unknown sync mode", {"azure_user_sync_sync_mode": "sometimes"}, "azure_user_sync_sync_mode", "sometimes"),
    (
        "unknown modusCloud stack",
        {"azure_user_sync_moduscloud_stack": "us9", "azure_user_sync_moduscloud_api_url": None},
        "azure_user_sync_moduscloud_stack",
        "us9",
    ),
    (
        "plain http modusCloud URL",
        {"azure_user_sync_moduscloud_api_url": "http://mc.example/api/v1"},
        "azure_user_sync_moduscloud_api_url",
        "http://mc.example/api/v1",
    ),
    ("CA bundle that does not exist", {"azure_user_sync_ca_path": "/nonexistent/ca.pem"}, "azure_user_sync_ca_path", "/nonexistent/ca.pem"),
    ("one bad exemption among good ones", {"azure_user_sync_exemptions": ["keep@contoso.example", "bad@"]}, "azure_user_sync_exemptions", "bad@"),
    (
        "redirect URI with another scheme",
        {"azure_user_sync_redirect_uris": ["ftp://moduscloud.cloud-protect.net/"]},
        "azure_user_sync_redirect_uris",
        "ftp://moduscloud.cloud-protect.net/",
    ),
    (
        "redirect URI with a blank",
        {"azure_user_sync_redirect_uris": ["https://moduscloud .cloud-protect.net/"]},
        "azure_user_sync_redirect_uris",
        "moduscloud .cloud-protect.net",
    ),
    (
        "unknown application permission",
        {"azure_user_sync_application_permissions": ["Directory.Read.Everything"]},
        "azure_user_sync_application_permissions",
        "Directory.Read.Everything",
    ),
    ("negative sync frequency", {"azure_user_sync_sync_frequency_hours": -1}, "azure_user_sync_sync_frequency_hours", "-1"),
    ("primary domain that is not a domain", {"azure_user_sync_primary_domain": "not a domain"}, "azure_user_sync_primary_domain", "not a domain"),
    ("max removals that is not a number", {"azure_user_sync_max_removals": "lots"}, "azure_user_sync_max_removals", "lots"),
    ("console URL that is not https", {"azure_user_sync_console_url": "http://console.example/"}, "azure_user_sync_console_url", "http://console.example/"),
    ("negative report limit", {"azure_user_sync_report_limit": -1}, "azure_user_sync_report_limit", "got -1"),
    (
        "report folder under a file",
        {"azure_user_sync_report_dir": os.path.join(ROOT, "galaxy.yml")},
        "azure_user_sync_report_dir",
        os.path.join(ROOT, "galaxy.yml"),
    ),
    ("exemption rule that is a number", {"azure_user_sync_exemption_query": 5}, "azure_user_sync_exemption_query", "got 5"),
    ("exemption rule that is a list", {"azure_user_sync_exemption_query": ["[?jobTitle]"]}, "azure_user_sync_exemption_query", "JMESPath expression"),
    ("exemption rule that is a mapping", {"azure_user_sync_exemption_query": {"department": "x"}}, "azure_user_sync_exemption_query", "JMESPath expression"),
    # Parses, but fails on the seeded directory (users without a department): found by the preflight.
    (
        "exemption rule that fails on the directory",
        {"azure_user_sync_exemption_query": "[?starts_with(department, 'x')]"},
        "azure_user_sync_exemption_query",
        "invalid type for value",
    ),
]


def failure_messages(output):
    """{host: the message of its last failure} from ansible-playbook's default output."""
    messages = {}
    for match in re.finditer(r"^fatal: \[([^\]]+)\]: FAILED! => (\{.*\})$", output, re.M):
        host, text = match.group(1), match.group(2)
        try:
            message = json.loads(text).get("msg")
        except ValueError:
            message = text
        messages[host] = str(message)  # the last one: the role's explanation
    return messages


def run_bad_inputs(sandbox, tmp_path, prefix="bad", cases=BAD_INPUTS):
    """Run every case; return rows (name, variables, expected variable, failed?, message, writes, problems)."""
    infos = [sandbox.control("POST", "/tenants", json={"name": "%s%d" % (prefix, index)}) for index in range(len(cases))]
    path = inventory_file(tmp_path, prefix, infos)
    with open(path) as handle:
        inventory = json.load(handle)
    for (_name, variables, _, _), info in zip(cases, infos):
        inventory["all"]["hosts"][info["moduscloud_org"]].update(variables)
    with open(path, "w") as handle:
        json.dump(inventory, handle)
    run = run_playbook(PLAYBOOK, tmp_path, inventory=path, forks=8)
    messages = failure_messages(run.output)
    rows = []
    for (name, variables, variable, value), info in zip(cases, infos):
        entries = sandbox.control("GET", "/journal?tenant=%s" % info["tenant_id"])["entries"]
        writes = sum(1 for entry in entries if entry["service"] in COUNTED and entry["method"] != "GET")
        message = messages.get(info["moduscloud_org"], "")
        failed = not host_ok(run, info["moduscloud_org"])
        problems = []
        if not failed:
            problems.append("the run did not fail")
        if writes:
            problems.append("%d writes before the failure" % writes)
        if variable not in message:
            problems.append("the error does not name %s" % variable)
        if value not in message:
            problems.append("the error does not show %r" % value)
        rows.append({"case": name, "variables": variables, "variable": variable, "failed": failed, "message": message, "writes": writes, "problems": problems})
    return run, rows
