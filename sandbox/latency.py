"""The latency and throttling model: how long real services take to answer, and when Graph throttles.

Off by default, so tests stay fast. `python -m sandbox serve --latency-model default` turns on the
documented numbers (bench/README.md gives each with its source); the control API reads and changes
them (GET/PUT {control}/latency).

Latency: every answer of a service takes `rtt_ms` (network round trip plus the service's fixed
cost) plus `per_object_ms` for each object it returns, the sandbox's own work included (it waits
only for what is left). A JSON batch ($batch) waits one round trip
plus its slowest inner request (`inner_ms` + its objects), or the sum of them when the batch is
sequential (dependsOn); that is how Graph runs a batch: its gateway fans the inner requests out.

Throttling (Graph only), the Identity and access service's documented pattern: every request
costs resource units (base cost per operation, minus 1 with $select, plus 1 with $expand, minus 1
with $top below 20, never below 1); an application+tenant pair may spend a budget per 10 seconds
that depends on the tenant's size (S under 50 users, M 50-500, L above 500). A request over the
budget is answered 429 with Retry-After (the seconds until enough of the window has passed) and
costs nothing; inside a batch the inner request gets the 429, the batch itself still 200.
"""

from __future__ import annotations

import collections
import copy
import math
import re
import threading
import time

# The documented numbers; bench/README.md gives the source of each.
DEFAULT_MODEL = {
    "rtt_ms": {"graph": 100.0, "moduscloud": 150.0, "login": 150.0},
    "per_object_ms": {"graph": 0.5, "moduscloud": 0.2, "login": 0.0},
    "inner_ms": {"graph": 50.0},
    "throttle": {
        "enabled": True,
        "window_seconds": 10.0,
        "budgets": {"S": 3500, "M": 5000, "L": 8000},
        "size_limits": {"S": 50, "M": 500},  # users: S under 50, M up to 500, L above
    },
}

SERVICES = ("graph", "moduscloud", "login")

# Base resource-unit cost of Graph identity operations (GET unless said); anything else costs 1.
_COSTS = (
    ("GET", re.compile(r"^/applications/?$"), 2),
    ("GET", re.compile(r"^/applications/[^/]+/extensionProperties/?$"), 2),
    ("GET", re.compile(r"^/groups/[^/]+/members/?$"), 3),
    ("GET", re.compile(r"^/groups/[^/]+/transitiveMembers/?$"), 5),
    ("GET", re.compile(r"^/oauth2PermissionGrants(/[^/]+)?/?$"), 2),
    ("GET", re.compile(r"^/servicePrincipals/[^/]+/appRoleAssignments/?$"), 2),
    ("GET", re.compile(r"^/users/?$"), 2),
    ("GET", re.compile(r"^/subscribedSkus/?$"), 3),
    ("POST", re.compile(r"^/directoryObjects/getByIds/?$"), 3),
)


class LatencyError(ValueError):
    """A model setting that cannot be used; the message says which and what is allowed."""


def resource_units(method: str, path: str, query: dict) -> int:
    """The documented cost of one Graph request; `path` without /v1.0, `query` as parse_qs gives it."""
    base = 1
    for cost_method, pattern, cost in _COSTS:
        if method == cost_method and pattern.match(path):
            base = cost
            break
    if "$select" in query:
        base -= 1
    if "$expand" in query:
        base += 1
    top = (query.get("$top") or [None])[0]
    if top is not None:
        try:
            if int(top) < 20:
                base -= 1
        except ValueError:
            pass
    return max(1, base)


class LatencyModel:
    """The active model; `enabled` False (the default) makes every method a no-op."""

    def __init__(self):
        self._lock = threading.Lock()
        self.enabled = False
        self.settings = copy.deepcopy(DEFAULT_MODEL)
        self._spent = collections.defaultdict(collections.deque)  # (app, tenant) -> deque of (time, units)
        self.throttled = 0

    # ------------------------------------------------------------------ configuration

    def use_default(self) -> None:
        with self._lock:
            self.enabled = True
            self.settings = copy.deepcopy(DEFAULT_MODEL)
            self._spent.clear()

    def turn_off(self) -> None:
        with self._lock:
            self.enabled = False
            self._spent.clear()

    def configure(self, body) -> None:
        """PUT {control}/latency: {"enabled"?, "rtt_ms"?, "per_object_ms"?, "inner_ms"?, "throttle"?}; given keys
        replace those of the current model (service by service); nothing changes when any part is invalid."""
        if not isinstance(body, dict):
            raise LatencyError("the body must be a JSON object")
        allowed = {"enabled", "rtt_ms", "per_object_ms", "inner_ms", "throttle", "preset"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise LatencyError(f"unknown keys {unknown}; allowed: {sorted(allowed)}")
        preset = body.get("preset")
        if preset not in (None, "default", "off"):
            raise LatencyError(f"preset must be 'default' or 'off', not {preset!r}")
        settings = copy.deepcopy(DEFAULT_MODEL if preset else self.settings)
        enabled = {"default": True, "off": False}.get(preset, self.enabled)
        if "enabled" in body:
            if not isinstance(body["enabled"], bool):
                raise LatencyError("enabled must be true or false")
            enabled = body["enabled"]
        for name in ("rtt_ms", "per_object_ms", "inner_ms"):
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, dict):
                raise LatencyError(f"{name} must be an object of service name to milliseconds")
            for service, number in value.items():
                if service not in SERVICES:
                    raise LatencyError(f"{name}: unknown service {service!r}; allowed: {list(SERVICES)}")
                settings[name][service] = _milliseconds(number, f"{name}.{service}")
        throttle = body.get("throttle")
        if throttle is not None:
            settings["throttle"] = _throttle(throttle, settings["throttle"])
        with self._lock:
            self.enabled = enabled
            self.settings = settings
            self._spent.clear()

    def clear_usage(self) -> None:
        """Forget the resource units spent (POST {control}/reset); the settings stay."""
        with self._lock:
            self._spent.clear()
            self.throttled = 0

    def describe(self) -> dict:
        with self._lock:
            return {"enabled": self.enabled, **copy.deepcopy(self.settings), "throttled": self.throttled}

    # ------------------------------------------------------------------ latency

    def delay(self, service: str, objects: int = 0, inner=None, sequential: bool = False) -> float:
        """Seconds an answer of `service` waits: one round trip plus its objects, or, for a batch, plus its
        inner requests ((objects) each) run side by side or, when `sequential`, one after the other."""
        if not self.enabled:
            return 0.0
        settings = self.settings
        seconds = settings["rtt_ms"].get(service, 0.0)
        per_object = settings["per_object_ms"].get(service, 0.0)
        if inner is not None:
            costs = [settings["inner_ms"].get(service, 0.0) + count * per_object for count in inner]
            seconds += sum(costs) if sequential else max(costs, default=0.0)
        else:
            seconds += objects * per_object
        return seconds / 1000.0

    # ------------------------------------------------------------------ throttling

    def admit(self, app_id: str, tenant_id: str, users: int, units: int, now: float | None = None):
        """None when the request may run (its units are spent), else the whole seconds to wait (Retry-After)."""
        if not self.enabled:
            return None
        throttle = self.settings["throttle"]
        if not throttle["enabled"]:
            return None
        now = time.monotonic() if now is None else now
        window = throttle["window_seconds"]
        budget = throttle["budgets"][tenant_size(users, throttle["size_limits"])]
        with self._lock:
            spent = self._spent[(app_id, tenant_id)]
            while spent and spent[0][0] <= now - window:
                spent.popleft()
            used = sum(units_spent for _, units_spent in spent)
            if used + units <= budget:
                spent.append((now, units))
                return None
            # Wait until enough of the window has expired to make room for this request.
            freed, wait = 0, window
            for when, units_spent in spent:
                freed += units_spent
                if used - freed + units <= budget:
                    wait = when + window - now
                    break
            self.throttled += 1
            return max(1, math.ceil(wait))

    def usage(self, app_id: str, tenant_id: str, users: int, now: float | None = None) -> float:
        """The share of the budget spent in the current window (for x-ms-throttle-limit-percentage)."""
        throttle = self.settings["throttle"]
        now = time.monotonic() if now is None else now
        budget = throttle["budgets"][tenant_size(users, throttle["size_limits"])]
        with self._lock:
            spent = self._spent.get((app_id, tenant_id)) or ()
            return sum(units for when, units in spent if when > now - throttle["window_seconds"]) / budget


def tenant_size(users: int, limits: dict) -> str:
    if users < limits["S"]:
        return "S"
    if users <= limits["M"]:
        return "M"
    return "L"


def _milliseconds(value, name: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or value > 600000:
        raise LatencyError(f"{name} must be a number of milliseconds from 0 to 600000, not {value!r}")
    return float(value)


def _throttle(value, current: dict) -> dict:
    if not isinstance(value, dict):
        raise LatencyError("throttle must be an object")
    allowed = {"enabled", "window_seconds", "budgets", "size_limits"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise LatencyError(f"throttle: unknown keys {unknown}; allowed: {sorted(allowed)}")
    result = copy.deepcopy(current)
    if "enabled" in value:
        if not isinstance(value["enabled"], bool):
            raise LatencyError("throttle.enabled must be true or false")
        result["enabled"] = value["enabled"]
    if "window_seconds" in value:
        window = value["window_seconds"]
        if not isinstance(window, (int, float)) or isinstance(window, bool) or not 0 < window <= 3600:
            raise LatencyError(f"throttle.window_seconds must be a number of seconds from 0 to 3600, not {window!r}")
        result["window_seconds"] = float(window)
    for name, keys in (("budgets", ("S", "M", "L")), ("size_limits", ("S", "M"))):
        if name not in value:
            continue
        given = value[name]
        if not isinstance(given, dict) or set(given) - set(keys):
            raise LatencyError(f"throttle.{name} must be an object with keys from {list(keys)}")
        for key, number in given.items():
            if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                raise LatencyError(f"throttle.{name}.{key} must be a positive integer, not {number!r}")
            result[name][key] = number
    return result
