"""The line moduscloud_sync_info's result gives an operator (_sync_info.state_line), from what it read."""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_info import state_line, state_view, unexpected

SETTINGS = {"primary_domain": "contoso.example", "app_id": "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"}


def test_the_line_counts_the_users_read_and_gives_the_last_sync_and_the_key_expiry():
    state = state_view([], (SETTINGS, {"secret_expiry": "2028-07-01", "last_successful_sync": "2026-07-01T10:00:00Z"}), [])
    state["users"] = [{"primary_email": "adele@contoso.example"}, {"primary_email": "alex@contoso.example"}]
    assert state_line(state) == "Users in modusCloud: 2; last successful sync 2026-07-01T10:00:00Z; key expiry 2028-07-01"


def test_what_was_not_read_or_is_not_known_is_said_so():
    state = state_view([], (None, None), [])
    assert state_line(state) == "Users in modusCloud: not read; last successful sync never; key expiry unknown"


def test_settings_that_name_no_application_when_none_is_registered_say_so():
    state = state_view([], (None, None), [])
    assert unexpected(state, "", None) == ("expected_app_id", "modusCloud's import settings name no application, and none is registered yet.")
