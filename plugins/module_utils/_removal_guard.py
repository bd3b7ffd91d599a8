# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The removal guard's policy for removals over max_removals: for the service's scheduled sync, warn, turn
remove_users off for this run (removal_guard=disable) or refuse; for this run's apply, refuse. One refusal text
for both. Pure: no I/O.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from typing import List, Optional, Tuple

# removal_guard: report only lists the removals over the limit; fail refuses them; disable turns a switch
# already saved on off for this run (and refuses like fail when it is not saved on yet).
POLICIES = ("report", "fail", "disable")


def guard_verdict(removals: List[str], max_removals: int, policy: str, saved_on: bool) -> Tuple[Optional[str], bool, Optional[str]]:
    """(warning, remove_users_off, refusal) for the removals over the limit of the report.

    `removals` the addresses over the limit ([] when within it), `saved_on` whether remove_users is already
    saved on in the service. warning and refusal are texts or None; remove_users_off tells the caller to save
    remove_users off for this run.
    """
    if policy == "report" or not removals:
        return None, False, None
    warning = None
    if saved_on:
        warning = "WARNING: with remove_users on, modusCloud's next scheduled sync would remove %d users, more than max_removals (%d): %s." % (
            len(removals),
            max_removals,
            ", ".join(removals),
        )
        if policy == "disable":
            warning += (
                " This run saves remove_users off (removal_guard: disable), so the service removes nobody until it is saved on again with the guard satisfied."
            )
            return warning, True, None
    which = "next scheduled sync (remove_users is already saved on)" if saved_on else "first sync after the settings are saved"
    text = refusal_text(removals, max_removals, "modusCloud's " + which)
    if saved_on:
        text += " Set removal_guard: disable to turn remove_users off instead, so that the service stops removing until you decide."
    return warning, False, text


def refusal_text(removals: List[str], max_removals: int, sync: str) -> str:
    """The one refusal text for `removals` (addresses) over max_removals; `sync` names the sync that would make them
    (the service's, or this run's apply)."""
    count = len(removals)
    return (
        "With remove_users true, %s would remove %d users, more than max_removals (%d): %s; nothing was written. Check"
        " why they are gone from Entra ID (a filter, a missing domain, a deleted group); to let the removals happen,"
        " raise max_removals to at least %d." % (sync, count, max_removals, ", ".join(removals), count)
    )
