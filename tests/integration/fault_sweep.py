"""The fault sweep of the main job: one transient fault, or a kill, at every request position.

A reference tenant runs the job undisturbed; its requests in the sandbox's journal (Graph and modusCloud,
in order) are the positions. Every position gets a 429 and a 503, and every write a kill right after it
reached the service (the killed tenant is then rerun), each on a tenant of its own, and all the tenants of
a sweep run in ONE ansible-playbook (the sandbox's faults can be limited to one tenant and count that
tenant's requests). Then every tenant's final state is compared with the reference's.

To halve the cost, a tenant by default gets two transient faults: the 429 at position N and the 503 at
position N + P/2 (P positions), so that each position still gets each status once; a throttled or failing
request that is retried is invisible to the rest of the job, so the two do not interact. strict=True
gives every fault its own tenant.

Used by tests/integration/test_fault_sweep.py (which asserts) and bench/reliability.py (which prints).
Import it as `from fault_sweep import ...` with this folder on sys.path (like playbook_harness).
"""

import json
import os
import re
import time

from playbook_harness import ROOT, run_playbook
from sandbox.launch import role_vars

PLAYBOOKS = os.path.join(ROOT, "playbooks")
UNIQUE_NAME = "moduscloud-user-sync"
SECRET_DESCRIPTION = "modusCloud user sync"
COUNTED = ("graph", "moduscloud")  # the job's requests; sign-ins are retried by their own rules
FORKS = 8
# A killed client's requests are answered with this (a 4xx no client retries), so each killed run
# stops at once, as if its process had died there.
KILL_STATUS = 400
KILL_CODE = "RunKilled"
RUN_TIMEOUT = 3600  # one playbook run over every tenant of a sweep


def tenant_vars(info):
    """The role's variables for one sandbox tenant, as an inventory host carries them."""
    return dict(
        role_vars(info),
        # A run killed while it holds the hand-over lease blocks its rerun until the lease ends.
        azure_user_sync_secret_lease_seconds=20,
        ansible_connection="local",
    )


class Case(object):
    """One fault (kind 429, 503 or kill) at request position `position` (1-based) of a job, on a tenant."""

    def __init__(self, job, kind, position, request):
        self.job, self.kind, self.position, self.request = job, kind, position, request
        self.info = None
        self.problems = []

    @property
    def host(self):
        return self.info["moduscloud_org"]

    def describe(self):
        return "%s %s at %d (%s %s %s)" % (self.job, self.kind, self.position, self.request["service"], self.request["method"], self.request["path"])

    def rule(self):
        rule = {"tenant": self.info["tenant_id"], "service": list(COUNTED), "skip": self.position - 1, "times": 1}
        if self.kind == "kill":
            rule.update(status=KILL_STATUS, code=KILL_CODE, message="the run was killed here (fault sweep)", kill=True)
        else:
            rule.update(status=int(self.kind), retry_after=0)
        return rule


def job_requests(sandbox, tenant_id, since):
    """The Graph and modusCloud requests made for a tenant since journal sequence `since`, in order."""
    entries = sandbox.control("GET", "/journal?since=%d&tenant=%s" % (since, tenant_id))["entries"]
    return [entry for entry in entries if entry["service"] in COUNTED]


def last_seq(sandbox):
    entries = sandbox.control("GET", "/journal?since=0")["entries"]
    return entries[-1]["seq"] if entries else 0


def inventory_file(tmp_path, name, infos):
    hosts = dict((info["moduscloud_org"], tenant_vars(info)) for info in infos)
    path = os.path.join(str(tmp_path), "%s-inventory.json" % name)
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)
    return path


def run_job(tmp_path, playbook, infos, name, extra=None):
    run = run_playbook(
        os.path.join(PLAYBOOKS, playbook + ".yml"),
        tmp_path,
        inventory=inventory_file(tmp_path, name, infos),
        forks=min(FORKS, len(infos)),
        extra_vars=extra,
        timeout=RUN_TIMEOUT,
    )
    return run


def host_ok(run, host):
    summary = run.recap.get(host) or {}
    return bool(summary) and not summary.get("failures") and not summary.get("unreachable")


def normal_state(sandbox, state, info):
    """What must be the same after any converge, with the tenant's own name taken out."""
    name = info["moduscloud_org"].split(".")[0]

    def plain(text):
        return re.sub(r"\b%s\." % re.escape(name), "T.", text or "")

    tenant = state["tenants"][info["tenant_id"]]
    apps = [app for app in tenant["applications"] if app.get("uniqueName") == UNIQUE_NAME]
    summary = {"apps": len(apps)}
    if len(apps) == 1:
        app = apps[0]
        principals = [sp["id"] for sp in tenant["servicePrincipals"] if sp["appId"] == app["appId"]]
        summary.update(
            display_name=app["displayName"],
            redirect_uris=sorted(app["web"]["redirectUris"]),
            permissions=sorted(
                (entry["resourceAppId"], access["type"], access["id"]) for entry in app["requiredResourceAccess"] for access in entry["resourceAccess"]
            ),
            secrets=sorted(secret["displayName"] or "" for secret in app["passwordCredentials"]),
            principals=len(principals),
            role_assignments=sorted(a["appRoleId"] for a in tenant["appRoleAssignments"] if a["principalId"] in principals),
            grants=sorted(" ".join(sorted(g["scope"].split())) for g in tenant["oauth2PermissionGrants"] if g["clientId"] in principals),
        )
    org = state["moduscloud"]["orgs"][info["moduscloud_org"]]
    azure = org["azure"] or {}
    summary["settings"] = dict(
        (key, plain(value) if isinstance(value, str) else value)
        for key, value in sorted(azure.items())
        if key not in ("application_id", "key_fingerprint", "key_stored_at", "secret_expiry", "last_sync_attempt", "last_successful_sync")
    )
    summary["settings_app_is_ours"] = bool(apps) and azure.get("application_id") == apps[0]["appId"]
    summary["domains"] = sorted(plain(domain["name"]) for domain in org["domains"])
    summary["users"] = sorted(plain(user["primary_email"]) for user in org["users"])
    return summary


def differences(expected, actual):
    return [
        "%s: %r, expected %r" % (key, actual.get(key), expected.get(key)) for key in sorted(set(expected) | set(actual)) if expected.get(key) != actual.get(key)
    ]


def tenants_for(job, requests, strict=False):
    """The cases of a job, grouped by the tenant that runs them (a list of lists)."""
    count = len(requests)
    groups = []
    for position, request in enumerate(requests, 1):
        throttled = Case(job, "429", position, request)
        if strict:
            groups += [[throttled], [Case(job, "503", position, request)]]
        else:
            other = (position - 1 + count // 2) % count + 1
            groups.append([throttled, Case(job, "503", other, requests[other - 1])])
    groups += [[Case(job, "kill", position, request)] for position, request in enumerate(requests, 1) if request["method"] != "GET"]
    return groups


def sweep(sandbox, tmp_path, jobs=("converge", "rotation"), prefix="sw", strict=False, log=None):
    """Run the sweep; return a dict of figures and the cases (each with its problems, [] when it converged).

    `jobs`: "converge" (a first converge of the main job on a fresh tenant) and/or "rotation" (the
    rotate_secret playbook on a converged tenant).
    """
    say = log or (lambda text: None)
    started = time.monotonic()
    figures = {"runs": 0, "seconds": {}}
    reference = sandbox.control("POST", "/tenants", json={"name": prefix + "ref"})

    mark = last_seq(sandbox)
    run = run_job(tmp_path, "configure_azure_sync", [reference], "reference")
    figures["runs"] += 1
    assert host_ok(run, reference["moduscloud_org"]), run.output[-6000:]
    converge_requests = job_requests(sandbox, reference["tenant_id"], mark)
    expected_converged = normal_state(sandbox, sandbox.state(), reference)
    mark = last_seq(sandbox)
    run = run_job(tmp_path, "rotate_secret", [reference], "reference-rotation")
    figures["runs"] += 1
    assert host_ok(run, reference["moduscloud_org"]), run.output[-6000:]
    rotation_requests = job_requests(sandbox, reference["tenant_id"], mark)
    expected_rotated = normal_state(sandbox, sandbox.state(), reference)
    figures["positions"] = {"converge": len(converge_requests), "rotation": len(rotation_requests)}
    figures["writes"] = {"converge": sum(r["method"] != "GET" for r in converge_requests), "rotation": sum(r["method"] != "GET" for r in rotation_requests)}

    groups = {
        "converge": tenants_for("converge", converge_requests, strict) if "converge" in jobs else [],
        "rotation": tenants_for("rotation", rotation_requests, strict) if "rotation" in jobs else [],
    }
    # A tenant serves a converge group and then a rotation group: both sweeps need that many tenants.
    count = max(len(groups["converge"]), len(groups["rotation"]))
    infos = [sandbox.control("POST", "/tenants", json={"name": "%s%d" % (prefix, index)}) for index in range(count)]
    say("%d converge and %d rotation requests; %d tenants" % (len(converge_requests), len(rotation_requests), count))

    # The first converge of every tenant: those of a converge group with their faults, the others undisturbed.
    _sweep_job(sandbox, tmp_path, figures, "converge", "configure_azure_sync", groups["converge"], infos, expected_converged, say)
    if groups["rotation"]:
        infos = infos[: len(groups["rotation"])]
        before = sandbox.state()["moduscloud"]["orgs"]
        _sweep_job(sandbox, tmp_path, figures, "rotation", "rotate_secret", groups["rotation"], infos, expected_rotated, say)
        after = sandbox.state()["moduscloud"]["orgs"]
        # A rotation that was not killed hands over a new key (a killed one is repaired by an ordinary rerun,
        # which rotates only if the kill left something to repair).
        for group in groups["rotation"]:
            org = group[0].host
            if (
                group[0].kind != "kill"
                and (after[org]["azure"] or {}).get("key_fingerprint") == (before[org]["azure"] or {}).get("key_fingerprint")
                and not group[0].problems
            ):
                for case in group:
                    case.problems.append("the rotation handed over no new key")

    # The service's own scheduled sync, with whatever key each org holds now, succeeds everywhere.
    cases = [case for job in ("converge", "rotation") for group in groups[job] for case in group]
    outcomes = dict((sync["org"], sync) for sync in sandbox.advance_clock(1)["syncs"])
    for case in cases:
        outcome = outcomes.get(case.host)
        if outcome is None or not outcome["ok"]:
            case.problems.append("modusCloud's scheduled sync failed: %s" % (outcome or {}).get("error"))
    figures["seconds"]["total"] = round(time.monotonic() - started, 1)
    figures["tenants"] = count + 1
    figures["cases"] = len(cases)
    return figures, cases


def _sweep_job(sandbox, tmp_path, figures, job, playbook, groups, infos, expected, say):
    started = time.monotonic()
    for group, info in zip(groups, infos):
        for case in group:
            case.info = info
    cases = [case for group in groups for case in group]
    sandbox.control("POST", "/faults", json={"rules": [case.rule() for case in cases]})
    run = run_job(tmp_path, playbook, infos, job)
    figures["runs"] += 1
    rules = sandbox.control("GET", "/faults")["rules"]
    sandbox.control("DELETE", "/faults")
    for case, rule in zip(cases, rules):
        if not rule["fired"]:
            case.problems.append("the fault never fired (the run made fewer requests)")
        if case.kind != "kill" and not host_ok(run, case.host):
            case.problems.append("the run failed: %s" % _failure(run, case.host))
    say("%s sweep: %d tenants in %.0f s" % (job, len(infos), time.monotonic() - started))

    killed = [case for case in cases if case.kind == "kill"]
    if killed:
        rerun_started = time.monotonic()
        rerun = run_job(tmp_path, "configure_azure_sync", [case.info for case in killed], job + "-rerun")
        figures["runs"] += 1
        for case in killed:
            if not host_ok(rerun, case.host):
                case.problems.append("the rerun failed: %s" % _failure(rerun, case.host))
        say("%s reruns after kills: %d tenants in %.0f s" % (job, len(killed), time.monotonic() - rerun_started))
    figures["seconds"][job] = round(time.monotonic() - started, 1)

    state = sandbox.state()
    for case in cases:
        case.problems.extend(differences(expected, normal_state(sandbox, state, case.info)))


def _failure(run, host):
    failed = [task["task"] for task in run.tasks if task["host"] == host and task["status"] == "failed"]
    return ", ".join(failed) or "no task failed (unreachable?)"


def counts(cases):
    """{job: {kind: (cases, converged)}}."""
    table = {}
    for case in cases:
        total, good = table.setdefault(case.job, {}).get(case.kind, (0, 0))
        table[case.job][case.kind] = (total + 1, good + (not case.problems))
    return table
