"""Fleet health: playbooks/fleet_health.yml over several sandbox tenants, each put in another state.

The tenants are configured in one run of the main playbook, then each is brought into its state
directly through the sandbox (its clock, its faults, the modusCloud API), and one fleet run reads
them all. The page, the JSON file and the published rows are checked row by row and for their order.
"""

import json
import os
from datetime import datetime, timedelta, timezone

from playbook_harness import run_playbook
from sandbox.launch import admin_graph_session
from test_offboarding import moduscloud
from test_role import PLAYBOOKS, SECRET_DESCRIPTION, UNIQUE_NAME, assert_no_secret, failure_text, org_state, run_role, tenant_vars

# Inventory name -> sandbox tenant name (None: the default tenant).
TENANTS = {"healthy": None, "expiring": "expiring", "failing": "failing", "missing": "missing", "drifted": "drifted"}


def backdate_the_key(info, hours):
    """Replace the role's client secret of the tenant's application by one made `hours` ago (Graph, as the
    tenant's automation identity), as if the tenant had been onboarded then."""
    session = admin_graph_session(info)
    graph = info["graph_url"] + "/v1.0"
    [app] = session.get(graph + "/applications", params={"$filter": "uniqueName eq '%s'" % UNIQUE_NAME}, timeout=30).json()["value"]
    start = datetime.now(timezone.utc) - timedelta(hours=hours)
    credential = {"displayName": SECRET_DESCRIPTION, "startDateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
    credential["endDateTime"] = (start + timedelta(days=700)).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = session.post(graph + "/applications/%s/addPassword" % app["id"], json={"passwordCredential": credential}, timeout=30)
    assert added.status_code == 200, added.text
    for secret in app["passwordCredentials"]:
        removed = session.post(graph + "/applications/%s/removePassword" % app["id"], json={"keyId": secret["keyId"]}, timeout=30)
        assert removed.status_code == 204, removed.text


def set_up_fleet(sandbox, tmp_path):
    infos = dict((host, sandbox.info if name is None else sandbox.control("POST", "/tenants", json={"name": name})) for host, name in TENANTS.items())
    hosts = dict((host, dict(tenant_vars(info), ansible_connection="local")) for host, info in infos.items())
    # A key inside the 30-day threshold (the role is told not to rotate it yet).
    hosts["expiring"].update(azure_user_sync_secret_lifetime_days=10, azure_user_sync_secret_rotate_before_days=5)
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    configured = run_role(sandbox, tmp_path, inventory=str(inventory), forks=3, tenants=list(infos.values()))
    assert configured.returncode == 0, failure_text(configured)

    # The failing tenant was onboarded hours ago, so its first scheduled sync was due: its key dates the hand-over.
    backdate_the_key(infos["failing"], hours=3)
    # The failing tenant's scheduled sync cannot sign in; the others sync.
    failing_domain = infos["failing"]["tenant_domain"].replace(".", r"\.")
    sandbox.faults(rules=[{"service": "login", "method": "POST", "path": failing_domain, "status": 400, "times": None}])
    outcomes = dict((sync["org"], sync["ok"]) for sync in sandbox.advance_clock(1)["syncs"])
    sandbox.control("DELETE", "/faults")
    assert outcomes == dict((info["moduscloud_org"], host != "failing") for host, info in infos.items())

    # The missing tenant loses its onmicrosoft domain (and the synced users holding addresses there).
    missing = infos["missing"]
    initial = [d for d in sandbox.state()["tenants"][missing["tenant_id"]]["domains"] if d["isInitial"]][0]["id"]
    for user in org_state(sandbox, missing)["users"]:
        addresses = [user["primary_email"]] + user["alias_emails"]
        if user["type"] in ("end_user", "silent_user") and any(a.endswith("@" + initial) for a in addresses):
            assert moduscloud(missing, "DELETE", "/users/%s" % user["primary_email"]).status_code == 204
    answer = moduscloud(missing, "DELETE", "/domains/%s" % initial)
    assert answer.status_code == 204, answer.text

    # The drifted tenant's settings are changed in the console: a sync every 24 hours.
    drifted = infos["drifted"]
    saved = moduscloud(drifted, "GET", "/settings/azure").json()
    body = dict((key, value) for key, value in saved.items() if key not in ("secret_expiry", "last_successful_sync"))
    body["sync_frequency"] = 24
    assert moduscloud(drifted, "PUT", "/settings/azure", json=body).status_code == 204

    # A host whose modusCloud password is wrong: its reads fail, the run goes on.
    hosts["broken"] = dict(hosts["healthy"], azure_user_sync_moduscloud_password="not-the-password")
    # A host whose automation identity cannot sign in: Entra's answer, short, in its row.
    hosts["no-sign-in"] = dict(hosts["healthy"], azure_user_sync_client_secret="not-the-secret")
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    return infos, str(inventory), initial


def test_the_fleet_page_lists_every_tenant_with_its_state_worst_first(fresh_sandbox, tmp_path):
    infos, inventory, missing_domain = set_up_fleet(fresh_sandbox, tmp_path)
    report_dir = tmp_path / "reports"
    writes = fresh_sandbox.stats()["writes"]
    run = run_playbook(
        os.path.join(PLAYBOOKS, "fleet_health.yml"),
        tmp_path,
        inventory=inventory,
        forks=3,
        verbosity=4,
        extra_vars={"fleet_health_dir": str(report_dir)},
        env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"},
    )
    secrets = [info[name] for info in infos.values() for name in ("admin_client_secret", "moduscloud_password")]
    assert_no_secret(run.output, *secrets)
    assert run.returncode == 0, failure_text(run)
    assert fresh_sandbox.stats()["writes"] == writes, "the fleet run wrote"
    # Read-only, and it says so: only the page's files on the controller may change.
    assert [(task["host"], task["task"]) for task in run.changed_tasks() if task["action"] not in ("ansible.builtin.file", "ansible.builtin.copy")] == []

    page = (report_dir / "fleet_health.md").read_text()
    document = (report_dir / "fleet_health.json").read_text()
    assert_no_secret(page + document, *secrets)
    rows = json.loads(document)
    assert sorted(row["host"] for row in rows) == sorted(list(TENANTS) + ["broken", "no-sign-in"])
    # Worst first: severity first (error, critical, warning, ok), then the kind of problem.
    assert [row["host"] for row in rows] == ["broken", "no-sign-in", "failing", "missing", "expiring", "drifted", "healthy"]
    by_host = dict((row["host"], row) for row in rows)

    broken = by_host["broken"]
    assert broken["status"] == "error"
    assert "reading modusCloud's sync state" in broken["error"] and "rejected the credentials" in broken["error"]
    no_sign_in = by_host["no-sign-in"]
    assert no_sign_in["status"] == "error"
    assert no_sign_in["error"].startswith("signing in to Microsoft Graph: "), no_sign_in["error"]
    assert "invalid_client" in no_sign_in["error"], no_sign_in["error"]
    for row in (broken, no_sign_in):  # short and useful: the step and the API's answer, no Ansible or trace text
        assert len(row["error"]) <= 300, row["error"]
        for noise in ("Task failed", "Finalization", "set_fact", "Trace ID", "Correlation ID", "Traceback", "\n"):
            assert noise not in row["error"], row["error"]

    expiring = by_host["expiring"]
    assert expiring["status"] == "warning"
    assert 8 <= expiring["secret_days_remaining"] <= 10
    assert [p["category"] for p in expiring["problems"]] == ["key"]

    failing = by_host["failing"]
    assert failing["status"] == "critical" and failing["last_successful_sync"] is None
    assert [p["text"] for p in failing["problems"]] == ["failing sync: it never succeeded"]

    missing = by_host["missing"]
    assert missing["status"] == "critical" and missing["missing_domains"] == [missing_domain]
    assert [p["category"] for p in missing["problems"]] == ["domains"]
    assert missing["report_counts"]["add"] > 0  # the users that lost their domain wait to be added again

    drifted = by_host["drifted"]
    assert drifted["status"] == "warning"
    assert drifted["drift"] == [{"setting": "sync_frequency_hours", "saved": 24, "desired": 1}]

    healthy = by_host["healthy"]
    assert healthy["status"] == "ok" and healthy["problems"] == []
    assert healthy["consent_complete"] is True and healthy["last_successful_sync"]
    assert healthy["report_counts"] == dict(healthy["report_counts"], add=0, change=0, remove=0)

    # The page: one table row per tenant, in the same order.
    table = [line.split(" | ")[0].lstrip("| ") for line in page.splitlines() if line.startswith("| ")][1:]
    assert table == [row["host"] for row in rows]
    assert "2 error, 2 critical, 2 warning, 1 ok" in page
    # The same rows for AWX, one artifact per host.
    assert "CUSTOM STATS" in run.output and '"fleet_health_row__healthy"' in run.output

    # As after a sliced AWX job: the rows of two slices, merged by a workflow, make the same page.
    slices = [rows[1::2], rows[0::2]]
    merged = dict(("fleet_health_row__" + row["host"], row) for part in slices for row in part)
    merged["fleet_health_dir"] = str(tmp_path / "merged")
    page_run = run_playbook(os.path.join(PLAYBOOKS, "fleet_health_page.yml"), tmp_path, extra_vars=merged)
    assert page_run.returncode == 0, failure_text(page_run)
    merged_rows = json.loads((tmp_path / "merged" / "fleet_health.json").read_text())
    assert [row["host"] for row in merged_rows] == [row["host"] for row in rows]
