# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The secret hand-over lease and record, kept as tags of the application and written through the Graph client.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from collections import namedtuple
from datetime import timedelta

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import SecretError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import tag_records, tags_with_records
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lifetime import format_datetime, parse_datetime, utc_now

# Two runs that hand a new secret to a consumer (modusCloud) at the same time would each remove the
# other's secret, leaving the consumer with a dead key. So a run takes a lease before it creates a
# secret, holds it while the consumer gets the value, checks it again before removing the older
# secrets, and then replaces it with a record of the key id handed over. A later run that finds the
# recorded key gone knows the consumer holds a dead key and hands over a new one.
#
# Graph has no compare-and-set for an application, so the lease is written, then read back after
# LEASE_SETTLE_SECONDS: of two runs that both wrote, only the last writer still finds its own lease,
# as long as a run writes within LEASE_SETTLE_SECONDS of reading (one module run: milliseconds).

LEASE_SETTLE_SECONDS = 2.0
DEFAULT_LEASE_SECONDS = 600
LEASE_POLL_SECONDS = 5.0
Lease = namedtuple("Lease", "holder expires")


def lease_of(application):
    """The lease recorded on the application, or None."""
    text = tag_records(application.get("tags")).get("lease")
    if text is None:
        return None
    holder, _comma, expires = text.rpartition(",")
    try:
        return Lease(holder, parse_datetime(expires))
    except ValueError:
        return Lease(holder, None)


def handed_over_key_id(application):
    """The key id of the secret last handed over, as recorded on the application, or None."""
    return tag_records(application.get("tags")).get("handed_over_key") or None


def _write_tags(graph, application, lease=None, key_id=None):
    records = {"lease": "%s,%s" % (lease.holder, format_datetime(lease.expires)) if lease is not None else None, "handed_over_key": key_id}
    graph.update_application(application["id"], {"tags": tags_with_records(application.get("tags"), records)})


def take_lease(graph, application, holder, seconds, wait_timeout, sleep=None, clock=None, now=utc_now):
    """Hold the hand-over lease of the application for `seconds`; wait up to wait_timeout seconds while another
    run holds an unexpired one, then fail naming it. Returns (the application as read last, the other run
    waited for or None)."""
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + wait_timeout
    waited_for = None
    while True:
        current = lease_of(application)
        held = current is not None and current.holder != holder and (current.expires is None or current.expires > now())
        if held:
            waited_for = current.holder
        else:
            _write_tags(graph, application, Lease(holder, now() + timedelta(seconds=seconds)), handed_over_key_id(application))
            sleep(LEASE_SETTLE_SECONDS)
            application = graph.find_application(app_id=application["appId"]) or application
            current = lease_of(application)
            if current is not None and current.holder == holder:
                return application, waited_for
            waited_for = current.holder if current is not None else waited_for
        if clock() >= deadline:
            raise SecretError(
                "Another run (%s) is handing a new client secret of application %s over%s; waited %d "
                "seconds (wait_timeout). Run again once it has finished; its lease ends by itself if "
                "that run stopped."
                % (
                    current.holder if current else "unknown",
                    application["appId"],
                    " until %s" % format_datetime(current.expires) if current and current.expires else "",
                    wait_timeout,
                )
            )
        sleep(LEASE_POLL_SECONDS)
        application = graph.find_application(app_id=application["appId"]) or application


def check_lease(application, holder):
    """Fail unless this run still holds the lease (another run took it over after it expired)."""
    current = lease_of(application)
    if current is None or current.holder != holder:
        raise SecretError(
            "The hand-over lease of application %s is no longer held by this run (%s) but by %s: "
            "another run took it over, so the older client secrets are left for that run to remove."
            % (application["appId"], holder, current.holder if current else "nobody")
        )


def holds_lease(application, holder):
    """Whether `holder` holds the lease of the application (expired or not)."""
    current = lease_of(application)
    return bool(application.get("id")) and current is not None and current.holder == holder


def release_lease(graph, application, holder):
    """Give up the lease if `holder` holds it (the hand-over record stays); whether it did."""
    if not holds_lease(application, holder):
        return False
    _write_tags(graph, application, None, handed_over_key_id(application))
    return True


def finish_hand_over(graph, application, holder, key_id):
    """Release the lease and record key_id as the secret handed over (one write)."""
    check_lease(application, holder)
    _write_tags(graph, application, None, key_id)
