"""The lines moduscloud_user_sync's result gives an operator (_sync_summary.py), from a result alone."""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import ChangeSet
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_summary import message, report_line, summary_lines

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
    lines = summary_lines(result(), "report", ChangeSet().tense, as_sync_app=True)
    assert "Skipped: All Company (not_mail_or_security), pat_fabrikam#EXT#@contoso.example (no_mail)" in lines
    assert lines[-1] == "Applied: nothing (report)"


def test_writes_are_worded_by_the_runs_tense():
    applied = {"added": 0, "updated": 0, "removed": 0}
    planned = summary_lines(result(applied=applied), "apply", ChangeSet(check_mode=True).tense, as_sync_app=True)
    assert planned[-1] == "Applied: would add 1, update 0, remove 0 users"
    assert summary_lines(result(applied=applied), "apply", ChangeSet().tense, as_sync_app=True)[-1] == "Applied: added 0, updated 0, removed 0 users"
    assert report_line("apply", COUNTS, ChangeSet(check_mode=True).tense).startswith("Sync report (apply, predicted): users to add 1,")
    assert report_line("wait", COUNTS, ChangeSet().tense).startswith("Sync report (wait): users to add 1,")


def test_the_first_line_says_how_the_directory_was_read():
    assert summary_lines(result(), "report", ChangeSet().tense, as_sync_app=True)[:2] == ["Read as the sync app, with its key", "counts"]
    assert summary_lines(result(), "report", ChangeSet().tense, as_sync_app=False)[0] == (
        "Read with the play's Graph token (the sync app's own sign-in is not tested)"
    )


def test_a_wait_says_how_long_it_took_and_the_last_successful_sync_before_the_counts():
    waited = result(waited_seconds=12.5, sync_status={"last_successful_sync": "2030-01-01T00:00:00Z"})
    assert message(waited, "wait", ChangeSet().tense) == (
        "modusCloud's scheduled sync succeeded after a wait of 12.5 s. Last successful sync: 2030-01-01T00:00:00Z. "
        + report_line("wait", COUNTS, ChangeSet().tense)
    )
    # A dry run does not wait: only the counts.
    dry = result(waited_seconds=0.0, sync_status={"last_successful_sync": None})
    assert message(dry, "wait", ChangeSet(check_mode=True).tense) == report_line("wait", COUNTS, ChangeSet(check_mode=True).tense)
    assert message(result(), "apply", ChangeSet().tense) == report_line("apply", COUNTS, ChangeSet().tense)
