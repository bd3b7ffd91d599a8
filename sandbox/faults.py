"""Scripted faults, the request journal and the request counters of the sandbox."""

from __future__ import annotations

import collections
import re
import threading
import time
from dataclasses import dataclass

FAULT_SERVICES = ("graph", "login", "moduscloud")
COUNTED_SERVICES = ("graph", "moduscloud")  # login traffic is not part of requests/writes
JOURNAL_LIMIT = 20000


class FaultError(ValueError):
    """A fault specification that cannot be used; the message says what is wrong."""


@dataclass
class FaultRule:
    """Answer `status` instead of dispatching, for `times` matching requests after `skip` of them.

    `service` is "*", one service or a list of them; `tenant` (an id) limits the rule to that tenant's
    requests, so that many tenants served at once can each have their own fault at their own position.
    `kill` emulates a client that dies right after that request reached the service: the request is
    dispatched (its write happens) but answered `status`, and from then on every request of the tenant
    (any service) is answered `status` without being dispatched, until the faults are cleared.
    """

    service: str | tuple
    method: str
    path: re.Pattern
    status: int
    retry_after: int | None
    times: int | None  # None: every matching request
    skip: int
    code: str | None
    message: str | None
    tenant: str | None = None
    kill: bool = False
    fired: int = 0
    seen: int = 0
    killed: bool = False

    @classmethod
    def parse(cls, spec) -> "FaultRule":
        if not isinstance(spec, dict):
            raise FaultError("each fault rule must be an object")
        allowed = {"service", "method", "path", "status", "retry_after", "times", "skip", "code", "message", "tenant", "kill"}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise FaultError(f"unknown fault rule keys {unknown}; allowed: {sorted(allowed)}")
        service = spec.get("service", "*")
        if isinstance(service, list) and service and all(name in FAULT_SERVICES for name in service):
            service = tuple(service)
        elif service != "*" and service not in FAULT_SERVICES:
            raise FaultError(f"service must be one of {list(FAULT_SERVICES)}, a list of them or '*', not {service!r}")
        tenant = spec.get("tenant")
        if tenant is not None and not (isinstance(tenant, str) and tenant):
            raise FaultError("tenant must be a tenant id (a string) or null")
        kill = spec.get("kill", False)
        if not isinstance(kill, bool):
            raise FaultError("kill must be true or false")
        status = spec.get("status")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("status must be an HTTP error status (400-599)")
        try:
            path = re.compile(spec.get("path", ""))
        except (re.error, TypeError) as error:
            raise FaultError(f"path must be a regular expression: {error}") from None
        numbers = {}
        for name, default in (("retry_after", None), ("times", 1), ("skip", 0)):
            value = spec.get(name, default)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise FaultError(f"{name} must be a non-negative integer or null")
            numbers[name] = value
        return cls(
            service=service,
            method=str(spec.get("method", "*")).upper(),
            path=path,
            status=status,
            code=spec.get("code"),
            message=spec.get("message"),
            tenant=tenant and tenant.lower(),
            kill=kill,
            **numbers,
        )

    def applies(self, service: str, method: str, path: str, tenant: str | None = None) -> bool:
        if self.tenant is not None and self.tenant != tenant:
            return False
        if self.killed:  # the client is dead: nothing of this tenant reaches the service any more
            return True
        if self.service != "*" and service not in (self.service if isinstance(self.service, tuple) else (self.service,)):
            return False
        if self.method not in ("*", method):
            return False
        if not self.path.search(path):
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True

    def describe(self) -> dict:
        return {
            "service": list(self.service) if isinstance(self.service, tuple) else self.service,
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "retry_after": self.retry_after,
            "times": self.times,
            "skip": self.skip,
            "code": self.code,
            "message": self.message,
            "tenant": self.tenant,
            "kill": self.kill,
            "seen": self.seen,
            "fired": self.fired,
            "killed": self.killed,
        }


class Faults:
    """The active fault configuration (POST/DELETE {control}/faults)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.rules = []
            self.lag = 0
            self.secret_delay_seconds = 0
            self.token_lifetime_seconds = None

    def configure(self, body: dict) -> None:
        """Replace the configuration with `body`; nothing changes if any part is invalid."""
        if not isinstance(body, dict):
            raise FaultError("the body must be a JSON object")
        allowed = {"rules", "lag", "secret_delay_seconds", "token_lifetime_seconds"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise FaultError(f"unknown keys {unknown}; allowed: {sorted(allowed)}")
        rules = body.get("rules") or []
        if not isinstance(rules, list):
            raise FaultError("rules must be a list")
        parsed = [FaultRule.parse(rule) for rule in rules]
        numbers = {}
        for name in ("lag", "secret_delay_seconds", "token_lifetime_seconds"):
            value = body.get(name)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                raise FaultError(f"{name} must be a non-negative number")
            numbers[name] = value
        with self._lock:
            self.rules = parsed
            self.lag = int(numbers["lag"] or 0)
            self.secret_delay_seconds = numbers["secret_delay_seconds"] or 0
            self.token_lifetime_seconds = numbers["token_lifetime_seconds"]

    def match(self, service: str, method: str, path: str, tenant: str | None = None) -> FaultRule | None:
        with self._lock:
            return next((rule for rule in self.rules if rule.applies(service, method, path, tenant)), None)

    def kill_point(self, rule: FaultRule) -> bool:
        """Whether `rule` is a kill rule firing now (dispatch, then answer its status); later matches are
        the dead client's requests, answered without dispatch."""
        with self._lock:
            if rule.kill and not rule.killed:
                rule.killed = True
                return True
            return False

    def describe(self) -> dict:
        with self._lock:
            return {
                "rules": [rule.describe() for rule in self.rules],
                "lag": self.lag,
                "secret_delay_seconds": self.secret_delay_seconds,
                "token_lifetime_seconds": self.token_lifetime_seconds,
            }


class Journal:
    """The most recent requests, oldest first, for tests that check what a client did and when."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=JOURNAL_LIMIT)
        self._sequence = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def record(
        self,
        service: str,
        method: str,
        path: str,
        query: str,
        status: int,
        fault: bool,
        request_id: str,
        peer: str = "",
        batch: str | None = None,
        tenant: str | None = None,
    ) -> None:
        """One request; `batch` is the request id of the JSON batch an inner request came in; `tenant` the id
        of the tenant the request was for (or None)."""
        now = time.time()
        with self._lock:
            self._sequence += 1
            entry = {
                "seq": self._sequence,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z",
                "ts": round(now, 3),
                "service": service,
                "method": method,
                "path": path,
                "query": query,
                "status": status,
                "fault": fault,
                "request_id": request_id,
                "peer": peer,
                "tenant": tenant,
            }
            if batch is not None:
                entry["batch"] = batch
            self._entries.append(entry)

    def entries(self, service: str | None = None, since: int = 0, tenant: str | None = None) -> list:
        with self._lock:
            return [
                dict(entry)
                for entry in self._entries
                if entry["seq"] > since and (service is None or entry["service"] == service) and (tenant is None or entry["tenant"] == tenant)
            ]


class Stats:
    """Request counters: totals cover Graph and modusCloud; every service is counted by itself too."""

    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._by_service = {name: {"requests": 0, "writes": 0, "batched": 0} for name in FAULT_SERVICES}
            self._faults = 0

    def count(self, service: str, method: str, fault: bool, batch: bool = False) -> None:
        """One HTTP request. A JSON batch is one request and no write by itself: its inner requests count
        as `batched`, and those that write as writes (count_inner)."""
        if service not in self._by_service:
            return
        with self._lock:
            counters = self._by_service[service]
            counters["requests"] += 1
            if method != "GET" and not batch:
                counters["writes"] += 1
            self._faults += fault

    def count_inner(self, service: str, method: str, fault: bool) -> None:
        """One request inside a JSON batch."""
        with self._lock:
            counters = self._by_service[service]
            counters["batched"] += 1
            if method != "GET":
                counters["writes"] += 1
            self._faults += fault

    def snapshot(self) -> dict:
        with self._lock:
            by_service = {name: dict(counters) for name, counters in self._by_service.items()}
            return {
                "requests": sum(by_service[name]["requests"] for name in COUNTED_SERVICES),
                "writes": sum(by_service[name]["writes"] for name in COUNTED_SERVICES),
                "batched": sum(by_service[name]["batched"] for name in COUNTED_SERVICES),
                "by_service": by_service,
                "faults_fired": self._faults,
            }
