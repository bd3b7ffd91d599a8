"""The removal guard holds for the service's own scheduled sync, not only for the role's apply.

modusCloud removes users gone from Entra on its own schedule once remove_users is saved. The role
counts the removals that sync would make before it saves the switch (and in every run while it is on):
above azure_user_sync_max_removals it refuses before any write, listing them, or - when the switch is
already on and azure_user_sync_removal_guard is disable - turns it off. Checked by the service's
scheduled sync an hour later: nobody was removed.
"""

from test_role import failure_text, org_state, run_role, scheduled_sync, user_addresses

LEAVERS = 5


def add_leavers(sandbox):
    domain = sandbox.info["tenant_domain"]
    addresses = ["leaver%d@%s" % (index, domain) for index in range(LEAVERS)]
    for address in addresses:
        sandbox.control(
            "POST",
            "/directory/users",
            json={"userPrincipalName": address, "displayName": address.split("@")[0], "mail": address, "accountEnabled": True, "licensed": True},
        )
    return addresses


def remove_from_entra(sandbox, addresses):
    for address in addresses:
        sandbox.control("DELETE", "/directory/users/%s" % address)


def test_removals_over_the_limit_are_refused_before_the_switch_is_saved(fresh_sandbox, tmp_path):
    leavers = add_leavers(fresh_sandbox)
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    assert set(leavers) <= user_addresses(org_state(fresh_sandbox))
    remove_from_entra(fresh_sandbox, leavers)

    writes = fresh_sandbox.stats()["writes"]
    refused = run_role(fresh_sandbox, tmp_path, extra={"azure_user_sync_remove_users": True, "azure_user_sync_max_removals": LEAVERS - 1})
    assert refused.returncode != 0
    assert fresh_sandbox.stats()["writes"] == writes, "the refused run wrote"
    assert "would remove %d users, more than max_removals (%d)" % (LEAVERS, LEAVERS - 1) in refused.output, failure_text(refused)
    assert all(address in refused.output for address in leavers)
    assert org_state(fresh_sandbox)["azure"]["remove_deleted_users"] is False

    # The service's next scheduled sync keeps them: the switch was never saved.
    assert scheduled_sync(fresh_sandbox)["ok"]
    assert set(leavers) <= user_addresses(org_state(fresh_sandbox))

    # Raised on purpose, the removals go through.
    allowed = run_role(fresh_sandbox, tmp_path, extra={"azure_user_sync_remove_users": True, "azure_user_sync_max_removals": LEAVERS})
    assert allowed.returncode == 0, failure_text(allowed)
    assert not set(leavers) & user_addresses(org_state(fresh_sandbox))


def test_a_switch_already_on_is_refused_or_turned_off_before_the_service_removes(fresh_sandbox, tmp_path):
    on = {"azure_user_sync_remove_users": True, "azure_user_sync_max_removals": LEAVERS - 1}
    leavers = add_leavers(fresh_sandbox)
    assert run_role(fresh_sandbox, tmp_path, extra=on).returncode == 0
    assert org_state(fresh_sandbox)["azure"]["remove_deleted_users"] is True
    remove_from_entra(fresh_sandbox, leavers)

    writes = fresh_sandbox.stats()["writes"]
    refused = run_role(fresh_sandbox, tmp_path, extra=on)
    assert refused.returncode != 0 and fresh_sandbox.stats()["writes"] == writes
    assert "next scheduled sync (remove_users is already saved on)" in refused.output
    assert "removal_guard: disable" in refused.output

    disabled = run_role(fresh_sandbox, tmp_path, extra=dict(on, azure_user_sync_removal_guard="disable"))
    assert disabled.returncode == 0, failure_text(disabled)
    assert "WARNING: with remove_users on, modusCloud's next scheduled sync would remove %d users" % LEAVERS in disabled.output
    assert org_state(fresh_sandbox)["azure"]["remove_deleted_users"] is False
    assert scheduled_sync(fresh_sandbox)["ok"]
    assert set(leavers) <= user_addresses(org_state(fresh_sandbox))
