"""The role under every answer the real modusCloud API may give to its open questions.

docs/moduscloud-api.md ("Known unknowns") lists the questions no public source settles; the sandbox
answers each of them each plausible way (`python -m sandbox variants`), per organization. Four
tenants, each with its own organization answering every question differently, cover every variant
in one playbook run per step: plan, apply, rerun unchanged, a settings change, a forced rotation.
After each write step the service's own scheduled sync must succeed with the key the role handed
over: the key is intact whatever the service does with a settings save that leaves it out.
"""

import json

from test_role import failure_text, org_state, run_role, tenant_vars

QUESTIONS_FORMS = {
    # How the role must be told to write, for the variants whose write form differs from the assumption
    # (what the contract check would have told the admin).
    "booleans:strings-only": {"booleans": "strings"},
    "exemptions-body:json-list": {"exemptions": "json_list"},
    "exemptions-body:bare-list": {"exemptions": "bare_list"},
    "exemptions-body:bare-string": {"exemptions": "bare_string"},
}
ORG_COUNT = 4


def variant_sets(sandbox):
    """ORG_COUNT lists of variants; together they hold every variant the sandbox knows."""
    available = sandbox.control("GET", "/moduscloud/variants")["available"]
    questions = {}
    for name in available:
        question, answer = name.split(":", 1)
        questions.setdefault(question, []).append(name)
    assert max(len(answers) for answers in questions.values()) <= ORG_COUNT
    sets = [[answers[index % len(answers)] for answers in questions.values()] for index in range(ORG_COUNT)]
    assert {name for names in sets for name in names} == set(available)
    return sets


def host_vars(info, variants, **extra):
    wire_format = {}
    for name in variants:
        wire_format.update(QUESTIONS_FORMS.get(name, {}))
    values = dict(tenant_vars(info), ansible_connection="local", azure_user_sync_exemptions=["archive@%s" % info["tenant_domain"]], **extra)
    if wire_format:
        values["azure_user_sync_moduscloud_wire_format"] = wire_format
    return values


def scheduled_syncs_succeed(sandbox, tenants, hours):
    """Advance modusCloud's clock; every organization's scheduled sync runs and succeeds with its stored key."""
    outcomes = dict((sync["org"], sync) for sync in sandbox.advance_clock(hours)["syncs"])
    for tenant in tenants:
        outcome = outcomes.get(tenant["moduscloud_org"])
        assert outcome is not None, "no scheduled sync of %s" % tenant["moduscloud_org"]
        assert outcome["ok"], "the scheduled sync of %s (%s) failed: %s (%s)" % (
            tenant["moduscloud_org"],
            org_state(sandbox, tenant)["variants"],
            outcome["error"],
            outcome["error_code"],
        )


def test_the_role_converges_with_the_key_intact_under_every_variant(fresh_sandbox, tmp_path):
    sets = variant_sets(fresh_sandbox)
    fresh_sandbox.control("PUT", "/moduscloud/variants", json={"org": fresh_sandbox.info["moduscloud_org"], "variants": sets[0]})
    tenants = [fresh_sandbox.info] + [
        fresh_sandbox.control("POST", "/tenants", json={"name": "variant%d" % index, "moduscloud_variants": names})
        for index, names in enumerate(sets[1:], start=1)
    ]

    def run(check=False, **extra):
        hosts = dict((tenant["moduscloud_org"], host_vars(tenant, names, **extra)) for tenant, names in zip(tenants, sets))
        inventory = tmp_path / "inventory.json"
        inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
        return run_role(fresh_sandbox, tmp_path, check=check, inventory=str(inventory), forks=ORG_COUNT, tenants=tenants)

    plan = run(check=True)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == 0

    applied = run()
    assert applied.returncode == 0, failure_text(applied)
    for tenant, names in zip(tenants, sets):
        org = org_state(fresh_sandbox, tenant)
        assert org["variants"] == names
        assert org["azure"]["key_fingerprint"] and org["exemptions"] == ["archive@%s" % tenant["tenant_domain"]]
    scheduled_syncs_succeed(fresh_sandbox, tenants, 1)

    writes = fresh_sandbox.stats()["writes"]
    again = run()
    assert again.returncode == 0 and again.total("changed") == 0, failure_text(again)
    assert fresh_sandbox.stats()["writes"] == writes

    # A settings change: whatever the service does with a save that leaves the key out (keeps it,
    # refuses the save, drops the key), the role hands over a new, proven key with the change.
    keys = dict((t["moduscloud_org"], org_state(fresh_sandbox, t)["azure"]["key_fingerprint"]) for t in tenants)
    changed = run(azure_user_sync_sync_frequency_hours=2)
    assert changed.returncode == 0, failure_text(changed)
    assert "the import settings change (sync_frequency_hours)" in changed.output
    for tenant in tenants:
        azure = org_state(fresh_sandbox, tenant)["azure"]
        assert azure["sync_frequency"] == 2
        assert azure["key_fingerprint"] not in (None, keys[tenant["moduscloud_org"]])
    scheduled_syncs_succeed(fresh_sandbox, tenants, 2)

    keys = dict((t["moduscloud_org"], org_state(fresh_sandbox, t)["azure"]["key_fingerprint"]) for t in tenants)
    rotated = run(azure_user_sync_sync_frequency_hours=2, azure_user_sync_secret_force_rotate=True)
    assert rotated.returncode == 0, failure_text(rotated)
    for tenant in tenants:
        assert org_state(fresh_sandbox, tenant)["azure"]["key_fingerprint"] not in (None, keys[tenant["moduscloud_org"]])
    scheduled_syncs_succeed(fresh_sandbox, tenants, 2)


REFUSED_FORMS = {
    # variant: (the WIRE_TABLE row the failure names, the advice it gives)
    "booleans:strings-only": ("settings.booleans", "wire_format.booleans: strings"),
    "exemptions-body:json-list": ("exemptions.add_key", "wire_format.exemptions"),
}


def test_a_write_form_the_service_refuses_fails_naming_the_assumption_and_the_doc(fresh_sandbox, tmp_path):
    tenants = [
        fresh_sandbox.control("POST", "/tenants", json={"name": "refuses%d" % index, "moduscloud_variants": [variant]})
        for index, variant in enumerate(REFUSED_FORMS)
    ]
    hosts = dict((tenant["moduscloud_org"], host_vars(tenant, [])) for tenant in tenants)  # no wire_format given
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    run = run_role(fresh_sandbox, tmp_path, inventory=str(inventory), forks=2, tenants=tenants)
    assert run.returncode != 0
    failed = dict((host, counts.get("failures", 0)) for host, counts in run.recap.items())
    assert failed == dict((tenant["moduscloud_org"], 1) for tenant in tenants), failed
    for assumption, advice in REFUSED_FORMS.values():
        assert assumption in run.output and advice in run.output, failure_text(run)
    assert 'docs/moduscloud-api.md, section \\"Known unknowns\\"' in run.output
