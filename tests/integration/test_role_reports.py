"""The role's exemption rule, report files and job artifacts, through playbooks/configure_azure_sync.yml.

Outcomes are checked independently: exemptions and users through the sandbox's modusCloud API (as
an administrator would read them), writes through the sandbox's request counters, the published
statistics through the test callback's record of the run.
"""

import csv
import json
import os
import re
import stat
import threading
import time

import requests

from test_role import failure_text, run_role

# The seeded directory's marketing people: Alex Wilber (Marketing Assistant), Megan Bowen (Marketing Manager).
MARKETING_RULE = "[?jobTitle && starts_with(jobTitle, 'Marketing')]"


def moduscloud_get(sandbox, path):
    """GET a modusCloud API path of the sandbox's organization, as its administrator."""
    info = sandbox.info
    response = requests.get(
        "%s/orgs/%s/%s" % (info["moduscloud_url"], info["moduscloud_org"], path),
        headers={"X-User": info["moduscloud_user"], "X-Password": info["moduscloud_password"]},
        verify=info["ca_bundle"],
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def saved_exemptions(sandbox):
    return sorted(item["email"].lower() for item in moduscloud_get(sandbox, "settings/azure/exemptions"))


def org_addresses(sandbox):
    return set(user["primary_email"].lower() for user in moduscloud_get(sandbox, "users")["users"])


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_an_exemption_rule_follows_the_directory_and_the_reports_and_artifacts_show_it(fresh_sandbox, tmp_path):
    domain = fresh_sandbox.info["tenant_domain"]
    alex, megan, adele = ("%s@%s" % (name, domain) for name in ("alexw", "meganb", "adelev"))
    reports = tmp_path / "reports"
    extra = {"azure_user_sync_exemption_query": MARKETING_RULE, "azure_user_sync_report_dir": str(reports), "azure_user_sync_report_limit": 1}

    # The plan: nothing written, the rule's users shown, the report files written for review.
    plan = run_role(fresh_sandbox, tmp_path, check=True, extra=extra)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == 0
    assert "Exempt by exemption_query: %s, %s" % (alex, megan) in plan.output
    folder = reports / "localhost"
    files = dict((suffix, folder / ("sync-report." + suffix)) for suffix in ("json", "csv", "md"))
    assert mode(folder) == 0o700
    assert dict((suffix, mode(path)) for suffix, path in files.items()) == {"json": 0o600, "csv": 0o600, "md": 0o600}
    document = json.loads(files["json"].read_text())
    with open(str(files["csv"])) as handle:
        rows = list(csv.DictReader(handle))
    users = document["users"]
    user_skips = [entry for entry in document["skipped"] if entry["object"] == "user"]
    assert len(rows) == len(users["add"]) + len(users["change"]) + len(users["remove"]) + len(user_skips)
    assert len(set((row["action"], row["address"]) for row in rows)) == len(rows), "one row per user and action"
    assert {(row["address"], row["reason"], row["detail"]) for row in rows if row["address"] in (alex, megan)} == {
        (alex, "exempt", "selected by exemption_query"),
        (megan, "exempt", "selected by exemption_query"),
    }
    markdown = files["md"].read_text()
    assert "| Users to add | %d |" % document["counts"]["add"] in markdown
    assert "First 1 of %d." % document["counts"]["add"] in markdown
    assert "`sync-report.json`" in markdown and "`sync-report.csv`" in markdown
    artifacts = plan.custom_stats["_run"]["azure_user_sync"]["localhost"]
    assert artifacts["planned"] is True and artifacts["report"]["counts"] == document["counts"]
    assert artifacts["report"]["query_exemptions"] == [alex, megan]
    assert artifacts["report"]["files"]["csv"] == str(files["csv"])

    # The apply saves the rule's users as exemptions and leaves them out of the sync.
    applied = run_role(fresh_sandbox, tmp_path, extra=extra)
    assert applied.returncode == 0, failure_text(applied)
    assert saved_exemptions(fresh_sandbox) == [alex, megan]
    synced = org_addresses(fresh_sandbox)
    assert adele in synced and alex not in synced and megan not in synced
    artifacts = applied.custom_stats["_run"]["azure_user_sync"]["localhost"]
    assert artifacts["planned"] is False and artifacts["applied"]["added"] == document["counts"]["add"]
    assert set(artifacts) >= {
        "org",
        "app_id",
        "settings_changed",
        "new_key_handed_over",
        "secret_end_date",
        "last_successful_sync",
        "report",
        "applied",
        "waited_seconds",
    }

    # The directory changes: the saved exemptions follow it on the next run.
    writes = fresh_sandbox.stats()["writes"]
    fresh_sandbox.control("PATCH", "/directory/users/" + adele, json={"jobTitle": "Marketing Lead"})
    fresh_sandbox.control("PATCH", "/directory/users/" + megan, json={"jobTitle": "Sales Manager"})
    # The plan predicts the apply: its report uses the exemptions the run will save, not the saved ones.
    replan = run_role(fresh_sandbox, tmp_path, check=True, extra=extra)
    assert replan.returncode == 0, failure_text(replan)
    assert fresh_sandbox.stats()["writes"] == writes
    planned = replan.custom_stats["_run"]["azure_user_sync"]["localhost"]["report"]
    assert planned["query_exemptions"] == [adele, alex]
    followed = run_role(fresh_sandbox, tmp_path, extra=extra)
    assert followed.returncode == 0, failure_text(followed)
    applied = followed.custom_stats["_run"]["azure_user_sync"]["localhost"]["applied"]
    assert planned["counts"]["add"] == applied["added"] == 1, (planned["counts"], applied)
    assert saved_exemptions(fresh_sandbox) == [adele, alex]
    assert megan in org_addresses(fresh_sandbox), "a user the rule no longer exempts is synced"
    assert fresh_sandbox.stats()["writes"] > writes

    # Unchanged: nothing to do.
    writes = fresh_sandbox.stats()["writes"]
    again = run_role(fresh_sandbox, tmp_path, extra=extra)
    assert again.returncode == 0 and again.total("changed") == 0, failure_text(again)
    assert fresh_sandbox.stats()["writes"] == writes

    # Without the rule (and no listed address) the exemptions go.
    removed = run_role(fresh_sandbox, tmp_path, extra={"azure_user_sync_exemption_query": ""})
    assert removed.returncode == 0, failure_text(removed)
    assert saved_exemptions(fresh_sandbox) == []


def test_a_bad_exemption_rule_stops_the_run_before_any_write(fresh_sandbox, tmp_path):
    run = run_role(fresh_sandbox, tmp_path, extra={"azure_user_sync_exemption_query": "[?jobTitle == "})
    assert run.returncode != 0
    assert fresh_sandbox.stats()["writes"] == 0
    assert "is not a valid JMESPath expression: Invalid jmespath expression: Incomplete expression" in run.output


def test_a_wait_for_the_service_shows_a_line_per_look_and_returns_the_time_waited(fresh_sandbox, tmp_path):
    sandbox = fresh_sandbox
    org = sandbox.info["moduscloud_org"]
    outcome = {}
    extra = {"azure_user_sync_sync_mode": "wait", "azure_user_sync_wait_interval": 1, "azure_user_sync_wait_timeout": 600}
    run = threading.Thread(target=lambda: outcome.update(run=run_role(sandbox, tmp_path, extra=extra)))
    run.start()
    try:
        # The service's scheduled sync runs only once the module is seen waiting: after the settings are
        # saved, the background job reads them once as it starts, then at each look of its wait.
        settings_path = "/orgs/%s/settings/azure" % org
        while True:
            assert run.is_alive(), "the run ended before it waited"
            entries = journal(sandbox)
            saved_at = next((entry["seq"] for entry in entries if entry["method"] == "PUT" and entry["path"].endswith(settings_path)), None)
            reads = [
                entry
                for entry in entries
                if saved_at is not None and entry["seq"] > saved_at and entry["method"] == "GET" and entry["path"].endswith(settings_path)
            ]
            if len(reads) >= 2:
                break
            time.sleep(0.5)
        syncs = [sync for sync in sandbox.advance_clock(1)["syncs"] if sync["org"] == org]
        assert [sync["ok"] for sync in syncs] == [True], syncs
    finally:
        run.join(600)
    result = outcome["run"]
    assert result.returncode == 0, failure_text(result)
    # One flat loop (no nesting per look): a line per look, counting down the looks left.
    looks = re.findall(
        r"RETRYING: \[localhost\]: Waiting for modusCloud's scheduled sync of %s \(a look every 1 s, "
        r"at most 600 s\) \((\d+) retries left\)" % re.escape(org),
        result.output,
    )
    assert looks, "no line on screen while waiting"
    assert [int(left) for left in looks] == list(range(int(looks[0]), int(looks[0]) - len(looks), -1))
    waited = re.search(
        r"modusCloud's scheduled sync succeeded after a wait of ([0-9.]+) s\. Last successful sync: "
        r"(\S+)\.",
        result.output,
    )
    assert waited and float(waited.group(1)) > 0 and waited.group(2) != "-"
    assert result.custom_stats["_run"]["azure_user_sync"]["localhost"]["waited_seconds"] == float(waited.group(1))


def journal(sandbox):
    return sandbox.control("GET", "/journal?service=moduscloud")["entries"]
