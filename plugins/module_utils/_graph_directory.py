# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The directory reader: the tenant, its domains, users, groups and their members (read through JSON
batches, several at once), as the sync report needs them.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import BATCH_LIMIT
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import backoff


# Graph's largest page for directory lists: fewer round trips in a large tenant.
LARGEST_PAGE = 999
# Concurrent batches of group member reads: 4 x 20 inner requests in flight hide Graph's round trips, while a
# members read costs 2 of the documented resource units, so a large tenant's 8,000 per 10 s last ~4,000 reads.
MEMBER_READERS = 4
# Graph's directory-read budgets are resource units per application and tenant per 10 s; the smallest is 3,500
# (bench/README.md). A warning or a 429 after fewer of our own member reads than LEARN_AFTER in a window is not
# those reads spending the budget (another caller, a busy service): nothing is learned from it.
BUDGET_WINDOW = 10.0
LEARN_AFTER = 500
# Once Graph has throttled them (or warned that it will), member reads keep to this share of what it admits in
# a window, leaving the rest of the budget to the users' and groups' pages, the longer chain in a large tenant.
MEMBER_SHARE = 0.9
# Graph's warning before it throttles: the share of the budget spent, sent only above 0.8 (bench/README.md).
NEAR_LIMIT_HEADER = "x-ms-throttle-limit-percentage"


class DirectoryReads(object):
    """GraphClient's reads of the directory (needs self.http)."""

    def tenant_names(self):
        """The names the token's tenant answers to, lower case: its id and its verified domains."""
        page = self.http.json("GET", "/organization", "read the tenant")  # one small object: no $select needed
        names = set()
        for organization in (page or {}).get("value") or ():
            names.add(organization["id"].lower())
            names.update(domain["name"].lower() for domain in organization.get("verifiedDomains") or ())
        return names

    def verified_domains(self):
        """The names of the tenant's verified domains, lower case."""
        domains = self.http.paged("/domains", "list domains of the tenant", params={"$select": "id,isVerified"})
        return [domain["id"].lower() for domain in domains if domain.get("isVerified")]

    def check_directory_read(self):
        """One small read that needs the same consent as reading the whole directory; ApiError when refused."""
        self.http.json("GET", "/users", "list users of the tenant", params={"$select": "id", "$top": "1"})

    def list_users(self, select):
        """Every user of the tenant, with the fields named in `select` (comma-separated)."""
        return list(self.http.paged("/users", "list users of the tenant", params={"$select": select, "$top": LARGEST_PAGE}))

    def iter_groups(self, select):
        """The groups of the tenant as their pages arrive (so their members can be read meanwhile)."""
        return self.http.paged("/groups", "list groups of the tenant", params={"$select": select, "$top": LARGEST_PAGE})


def with_members(new_client, groups, readers=MEMBER_READERS):
    """The groups (a list, or an iterable such as GraphClient.iter_groups() whose pages are still arriving),
    each with its `members` (id and @odata.type, in Graph's order); a group deleted since it was listed is left
    out.

    Members are read through JSON batches ($batch) of up to 20 groups, `readers` batches at once, starting as soon
    as 20 groups are known; each thread gets its own client from new_client(), as a requests session is not meant
    to be shared. A group with more members than a page continues from its nextLink in the next batch. An inner
    request Graph throttles or cannot serve now (429, 503, 502, 504 inside the batch's 200) is asked again after
    its Retry-After, bounded like _http's retries; any other inner failure fails the read, naming the group.
    Once Graph says most of its budget is spent (or throttles them), the member reads pace themselves below it
    (MemberPace), so that the users' pages, read meanwhile and usually the longer chain, are not throttled.
    """
    local = threading.local()
    pace = MemberPace()

    def read(chunk):
        if not hasattr(local, "graph"):
            local.graph = new_client()
        _read_members(local.graph, chunk, pace)

    listed, chunk, futures = [], [], []
    with ThreadPoolExecutor(max_workers=readers) as pool:
        try:
            for group in groups:
                listed.append(group)
                chunk.append(group)
                if len(chunk) == BATCH_LIMIT:
                    futures.append(pool.submit(read, chunk))
                    chunk = []
                    if futures[0].done():  # fail early rather than list every group first
                        futures.pop(0).result()
            if chunk:
                futures.append(pool.submit(read, chunk))
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:  # do not read the rest after a failure
                future.cancel()
            raise
    return [group for group in listed if group["members"] is not None]


# Inner answers of a batch that mean "not now": asked again after Retry-After (reads only, so 502/504 too).
_INNER_RETRY = frozenset((429, 502, 503, 504))
MEMBERS_OPERATION = "list members of group"


class MemberPace(object):
    """The member reads' share of Graph's throttling budget, shared by the reading threads.

    Graph does not say what a tenant's budget is, only when most of it is spent (x-ms-throttle-limit-percentage,
    the share spent, above 0.8) and when all of it is (429). The first of these after at least LEARN_AFTER of
    our reads in a BUDGET_WINDOW sets the limit to MEMBER_SHARE of the reads the whole budget holds, estimated
    from that window (a later 429 lowers it); from then on a batch waits until its reads fit in the window.
    """

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._turn = threading.Lock()
        self._lock = threading.Lock()
        self._reads = []  # [time, count]: reads sent (and, once answered, admitted) in the window
        self.limit = None  # reads per window; None until Graph has warned or throttled

    def admit(self, count: int, sleep) -> list:
        """Wait (with `sleep`) until `count` more reads fit under the limit; return their entry for answered()."""
        with self._turn:  # held while waiting: the batches go out in the order they asked
            with self._lock:
                wait = self._wait(self._clock(), count) if self.limit is not None else 0.0
            if wait > 0:
                sleep(wait)
            with self._lock:
                entry = [self._clock(), count]
                self._reads.append(entry)
            return entry

    def answered(self, entry: list, admitted: int, throttled: bool, spent=None) -> None:
        """Record what Graph admitted of a batch's reads; learn the limit from a 429 (`throttled`) or from the
        share of the budget Graph says is `spent`, and lower it after a later 429."""
        with self._lock:
            entry[0], entry[1] = self._clock(), admitted
            if not throttled and (spent is None or self.limit is not None):
                return
            used = self._in_window(self._clock())
            if used < LEARN_AFTER:
                return
            learned = int(used * MEMBER_SHARE / (1.0 if throttled else max(spent, 0.8)))
            self.limit = learned if self.limit is None else min(self.limit, learned)

    def _in_window(self, now: float) -> int:
        self._reads = [entry for entry in self._reads if entry[0] > now - BUDGET_WINDOW]
        return sum(count for _when, count in self._reads)

    def _wait(self, now: float, count: int) -> float:
        """Seconds until enough of the window's reads have left it for `count` more to fit under the limit."""
        used = self._in_window(now)
        if used + count <= self.limit:
            return 0.0
        freed = 0
        for when, admitted in sorted(self._reads):
            freed += admitted
            if used - freed + count <= self.limit:
                return when + BUDGET_WINDOW - now
        return BUDGET_WINDOW


def _read_members(graph, groups, pace=None):
    """Fill in `members` of up to BATCH_LIMIT groups with as few batches as their pages allow (paced by `pace`,
    a MemberPace shared with the other reading threads)."""
    pace = pace or MemberPace()
    http = graph.http
    pending = []
    for group in groups:
        group["members"] = []
        pending.append((group, "/groups/%s/members?$select=id&$top=%d" % (quote(group["id"], safe=""), LARGEST_PAGE)))
    attempts = {}
    waited = 0.0
    while pending:
        entry = pace.admit(len(pending), graph._sleep)
        answers = graph.batch_get([url for _group, url in pending], "list members of groups")
        statuses = [status for status, _headers, _body in answers]
        pace.answered(entry, len(statuses) - statuses.count(429), 429 in statuses, _spent(answers))
        again, pause, last_error = [], 0.0, None
        for (group, url), (status, headers, body) in zip(pending, answers):
            if status == 200 and isinstance(body, dict):
                group["members"].extend(body.get("value") or [])
                link = body.get("@odata.nextLink")
                if link:
                    again.append((group, graph.relative(link)))
                continue
            if status == 404:  # deleted since it was listed
                group["members"] = None
                continue
            error = _inner_error(MEMBERS_OPERATION, group["id"], status, headers, body)
            attempt = attempts[group["id"]] = attempts.get(group["id"], 0) + 1
            if status not in _INNER_RETRY or attempt > http.max_retries:
                raise error
            seconds = _inner_retry_after(headers)
            pause = max(pause, backoff(attempt) if seconds is None else seconds)
            again.append((group, url))
            last_error = error
        if pause:
            if waited + pause > http.max_retry_wait:
                raise last_error
            graph._sleep(pause)
            waited += pause
        pending = again


def _spent(answers: list):
    """The largest share of the throttling budget spent that the inner answers report, or None."""
    shares = []
    for _status, headers, _body in answers:
        try:
            shares.append(float(headers[NEAR_LIMIT_HEADER]))
        except (KeyError, TypeError, ValueError):
            pass
    return max(shares) if shares else None


def _inner_retry_after(headers):
    try:
        return max(0.0, float(headers.get("retry-after")))
    except (TypeError, ValueError):
        return None


def _inner_error(operation, resource, status, headers, body):
    """ApiError for one answer inside a batch, with Graph's code, message and request id as for any request."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ApiError(operation, resource, status, request_id=headers.get("request-id"))
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    inner = error.get("innerError") or error.get("innererror") or {}
    return ApiError(operation, resource, status, error.get("code"), message, inner.get("request-id") or headers.get("request-id"), error.get("details") or None)
