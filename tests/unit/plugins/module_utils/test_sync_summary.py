"""The lines moduscloud_user_sync's result gives an operator (_sync_summary.py), from a result alone."""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import ChangeSet
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_summary import report_line, summary_lines

COUNTS = {"add": 1, "change": 0, "remove": 0, "unchanged": 3, "groups": 0, "skipped": 2, "missing_domains": 0}


def result(**extra):
    report = {
        "users": {"add": [{"primary_email": "adele@contoso.example"}], "change": [], "remove": [], "unchanged": 3},
        "groups": [],
        "skipped": [
            {"object": "group", "name": "All Company", "id": "g-1", "reason": "not_mail_or_security"},
            {"object": "user", "upn": "pat_fabrikam#EXT#@contoso.example", "id": "u-9", "reason": "no_mail"},
        ],
        "missing_domains": [],
        "counts": COUNTS,
        "truncated": False,
    }
    answer = dict(report=report, **extra)
    answer["msg"] = "counts"
    return answer


def test_skipped_objects_are_named_as_the_report_files_name_them():
    lines = summary_lines(result(), "report", ChangeSet().tense)
    assert "Skipped: All Company (not_mail_or_security), pat_fabrikam#EXT#@contoso.example (no_mail)" in lines
    assert lines[-1] == "Applied: nothing (report)"


def test_writes_are_worded_by_the_runs_tense():
    applied = {"added": 0, "updated": 0, "removed": 0}
    assert summary_lines(result(applied=applied), "apply", ChangeSet(check_mode=True).tense)[-1] == "Applied: would add 1, update 0, remove 0 users"
    assert summary_lines(result(applied=applied), "apply", ChangeSet().tense)[-1] == "Applied: added 0, updated 0, removed 0 users"
    assert report_line("apply", COUNTS, ChangeSet(check_mode=True).tense).startswith("Sync report (apply, predicted): users to add 1,")
    assert report_line("wait", COUNTS, ChangeSet().tense).startswith("Sync report (wait): users to add 1,")
