import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import (
    PLACEHOLDER,
    SECRET_VALUE_PLACEHOLDER,
    ChangeSet,
    without_placeholders,
)


class Writes(object):
    def __init__(self):
        self.calls = []

    def create(self, desired):
        self.calls.append(("create", desired))
        return dict(desired, id="new-id")

    def update(self, changes):
        self.calls.append(("update", changes))

    def delete(self):
        self.calls.append(("delete",))


def test_create_in_check_mode_writes_nothing_and_returns_a_placeholder():
    writes, changes = Writes(), ChangeSet(check_mode=True)
    result = changes.ensure("app", None, {"name": "a"}, writes.create, writes.update, writes.delete, placeholder={"id": PLACEHOLDER})
    assert writes.calls == []
    assert changes.changed and result == {"id": PLACEHOLDER, "name": "a"}
    assert changes.result()["diff"] == {"before": {"app": {"state": "absent"}}, "after": {"app": {"name": "a"}}}


def test_update_sends_only_the_difference():
    writes, changes = Writes(), ChangeSet()
    result = changes.ensure("app", {"name": "a", "uris": ["x"]}, {"name": "a", "uris": ["x", "y"]}, writes.create, writes.update, writes.delete)
    assert writes.calls == [("update", {"uris": ["x", "y"]})]
    assert result == {"name": "a", "uris": ["x", "y"]}
    assert changes.result()["diff"]["before"] == {"app": {"name": "a", "uris": ["x"]}}


def test_equal_state_is_unchanged_and_makes_no_call():
    writes, changes = Writes(), ChangeSet()
    changes.ensure("app", {"name": "a", "extra": 1}, {"name": "a"}, writes.create, writes.update, writes.delete)
    assert writes.calls == [] and changes.result(diff_mode=False) == {"changed": False}


def test_absent_removes_once_and_is_unchanged_when_already_gone():
    writes, changes = Writes(), ChangeSet()
    changes.ensure("app", {"name": "a"}, None, delete=writes.delete)
    assert writes.calls == [("delete",)] and changes.changed
    again = ChangeSet()
    again.ensure("app", None, None, delete=writes.delete)
    assert not again.changed and len(writes.calls) == 1


def test_write_is_the_gate_for_other_writes():
    calls = []
    ChangeSet(check_mode=True).write(calls.append, "write")
    ChangeSet().write(calls.append, "write")
    assert calls == ["write"]


def test_a_prerequisite_is_waited_for_and_required_outside_check_mode():
    warnings = []
    changes = ChangeSet(check_mode=False)
    assert changes.prerequisite(lambda: None, lambda: {"id": "1"}, ValueError("none"), "assumed", warnings.append) == {"id": "1"}
    with pytest.raises(ValueError, match="none"):
        changes.prerequisite(lambda: {"id": "1"}, lambda: None, ValueError("none"), "assumed", warnings.append)
    assert warnings == [] and not changes.changed


def test_a_missing_prerequisite_is_looked_up_once_and_assumed_in_check_mode():
    warnings, waited = [], []
    changes = ChangeSet(check_mode=True)
    assert changes.prerequisite(lambda: None, lambda: waited.append(1), ValueError("none"), "assumed", warnings.append) is None
    assert warnings == ["assumed"] and waited == [] and not changes.changed


def test_live_steps_and_planned_values_count_only_in_the_mode_they_belong_to():
    calls = []
    real, dry = ChangeSet(check_mode=False), ChangeSet(check_mode=True)
    assert real.live(lambda value: calls.append(value) or "waited", 1, dry="skipped") == "waited"
    assert dry.live(calls.append, 2, dry="skipped") == "skipped"
    assert calls == [1]
    assert real.planned(["a"], []) == [] and dry.planned(["a"], []) == ["a"]


def test_a_placeholder_id_is_taken_out_and_refused_outside_check_mode_only():
    options = {"app_id": PLACEHOLDER, "org": "contoso.example"}
    known, problems = without_placeholders(options, check_mode=True)
    assert known == {"app_id": None, "org": "contoso.example"} and problems == []
    known, problems = without_placeholders(options, check_mode=False)
    assert known["app_id"] is None and len(problems) == 1
    assert problems[0][0] == "app_id"
    assert problems[0][1].startswith("app_id is (known after apply), the check-mode placeholder of an application")


def test_messages_are_worded_for_what_was_done_or_would_be():
    assert ChangeSet().tense("created", "would create") == "created"
    assert ChangeSet(check_mode=True).tense("created", "would create") == "would create"


def test_a_placeholder_is_refused_outside_check_mode_only():
    with pytest.raises(ServiceError) as refused:
        ChangeSet().refuse_placeholders({"keep_key_id": PLACEHOLDER})
    assert "keep_key_id is the check mode placeholder" in str(refused.value)
    assert refused.value.to_result()["invalid_options"] == ["keep_key_id"]
    assert ChangeSet(check_mode=True).refuse_placeholders({"keep_key_id": PLACEHOLDER}) is None
    assert ChangeSet().refuse_placeholders({"keep_key_id": "6a0c1ad2-3a47-4f0e-9d57-2e9c38a1f0c4"}) is None


def test_a_new_secret_value_placeholder_is_taken_out_and_refused_outside_check_mode_only():
    options = {"key": SECRET_VALUE_PLACEHOLDER}
    assert without_placeholders(options, check_mode=True) == ({"key": None}, [])
    known, problems = without_placeholders(options, check_mode=False)
    assert known == {"key": None} and problems[0][1].startswith("key is the check-mode placeholder of a client secret")
    assert SECRET_VALUE_PLACEHOLDER not in problems[0][1]


def test_a_dry_run_that_predicts_a_change_does_not_hold_the_real_state():
    dry = ChangeSet(check_mode=True)
    assert dry.holds_real_state  # nothing predicted yet: the state read is the real one
    dry.ensure("domain", None, {"name": "b.example"}, create=lambda desired: desired)
    assert not dry.holds_real_state
    real = ChangeSet(check_mode=False)
    real.ensure("domain", None, {"name": "b.example"}, create=lambda desired: desired)
    assert real.holds_real_state
