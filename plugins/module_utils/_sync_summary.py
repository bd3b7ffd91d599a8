# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The lines an operator reads about one moduscloud_user_sync run (its result's `msg` and `summary`), worded
from the result alone; what describes writes is worded by the run's tense. Pure: no I/O.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from typing import Callable, List, Optional

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import Counts, skip_identifier

NONE = "-"


def report_line(mode: str, counts: Counts, tense: Callable[[str, str], str]) -> str:
    """One line with the report's counts (the result's `msg`): "Sync report (apply, predicted): users to add 4, ..."."""
    return "Sync report (%s%s): users to add %d, change %d, remove %d, unchanged %d; groups %d; skipped %d; missing domains %d" % (
        mode,
        tense("", ", predicted"),
        counts["add"],
        counts["change"],
        counts["remove"],
        counts["unchanged"],
        counts["groups"],
        counts["skipped"],
        counts["missing_domains"],
    )


def message(result: dict, mode: str, tense: Callable[[str, str], str]) -> str:
    """The result's `msg`: after a wait, how long it took and the last successful sync (a dry run does not wait),
    then the report's counts (report_line)."""
    line = report_line(mode, result["report"]["counts"], tense)
    if mode != "wait":
        return line
    waited = "modusCloud's scheduled sync succeeded after a wait of %s s. Last successful sync: %s." % (
        result["waited_seconds"],
        result["sync_status"].get("last_successful_sync") or NONE,
    )
    return tense(waited + " " + line, line)


def read_line(as_sync_app: bool) -> str:
    """How the run read the directory: as the sync app with its key (as the service does), or with a Graph token."""
    if as_sync_app:
        return "Read as the sync app, with its key"
    return "Read with the play's Graph token (the sync app's own sign-in is not tested)"


def summary_lines(result: dict, mode: str, tense: Callable[[str, str], str], as_sync_app: bool) -> List[str]:
    """The result's `summary`: how the directory was read (read_line), its `msg`, then the report's entries (as far
    as report_limit shows them), the users the exemption rule selected, the report files and what was applied."""
    report = result["report"]
    counts, users = report["counts"], report["users"]
    lines = [read_line(as_sync_app), result["msg"]]
    lines.append("Users to add: " + listed([user["primary_email"] for user in users["add"]], counts["add"]))
    lines.append("Users to change: " + listed([user["primary_email"] for user in users["change"]], counts["change"]))
    lines.append("Users to remove: " + listed([user["primary_email"] for user in users["remove"]], counts["remove"]))
    lines.append("Groups: " + listed([group["name"] for group in report["groups"]], counts["groups"]))
    lines.append("Skipped: " + listed(["%s (%s)" % (skip_identifier(entry), entry["reason"]) for entry in report["skipped"]], counts["skipped"]))
    lines.append("Missing domains: " + listed(report["missing_domains"], counts["missing_domains"]))
    if "query_exemptions" in result:
        lines.append("Exempt by exemption_query: " + (", ".join(result["query_exemptions"]) or "nobody"))
    else:
        lines.append("Exempt by exemption_query: " + NONE)
    lines.append("Report files: " + (", ".join(result["report_files"].values()) if result.get("report_files") else NONE))
    lines.append("Applied: " + applied_text(result.get("applied"), counts, mode, tense))
    return lines


def listed(names: List[str], total: int) -> str:
    """The names shown, and how many more the report counts beyond them (report_limit), or "-" for none."""
    if not names:
        return NONE
    text = ", ".join(names)
    if total > len(names):
        text += " (and %d more)" % (total - len(names))
    return text


def applied_text(applied: Optional[dict], counts: Counts, mode: str, tense: Callable[[str, str], str]) -> str:
    """What the apply wrote, or in check mode would write (the report's counts: a dry run writes nothing)."""
    if applied is None:
        return "nothing (%s)" % mode
    return tense(
        "added %d, updated %d, removed %d users" % (applied["added"], applied["updated"], applied["removed"]),
        "would add %d, update %d, remove %d users" % (counts["add"], counts["change"], counts["remove"]),
    )
