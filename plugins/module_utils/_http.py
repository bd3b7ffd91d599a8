# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP transport shared by the Graph and modusCloud clients.

Private to this collection: no compatibility promise outside it.

One requests session per client, timeouts on every call, bounded retries that honour
Retry-After, OData paging, and errors that say which operation on which resource failed,
with the service's own code, message and request id. Request bodies are never put into
errors or logs: they may carry secrets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import time
import traceback
import warnings
from typing import Any, Callable, Collection, Iterator, Optional, Tuple
from urllib.parse import urlsplit

try:
    import requests
except ImportError:  # reported by the module through missing_required_lib
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import Transport

DEFAULT_TIMEOUT = 30
# Statuses that mean "the request was not processed, try again later".
RETRY_ALWAYS = frozenset((429, 503))
# A gateway timeout may hide a request that was processed: only repeat it when repeating is harmless.
RETRY_IF_IDEMPOTENT = frozenset((502, 504))
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"))
# A refused connection: the request never reached the service, so any method may be repeated, but
# only a few times and briefly (a service restarting), not for the whole retry budget.
REFUSED_RETRIES = 2
REFUSED_DELAY = 0.5


def connection_failure(exc: BaseException) -> Optional[str]:
    """How a request that got no answer failed: "tls" (certificate verification), "dns" (the host name does
    not resolve), "refused" (nothing listens there), or None (timeouts, resets: possibly transient)."""
    if requests is not None and isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    seen = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, socket.gaierror) or name == "NameResolutionError":
            return "dns"
        if isinstance(current, ConnectionRefusedError):
            return "refused"
        if name in ("SSLCertVerificationError", "CertificateError"):
            return "tls"
        pending.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return None


def connection_advice(kind: str, url: str) -> str:
    """What to check for a connection failure retrying cannot fix."""
    host = urlsplit(url).netloc or url
    if kind == "tls":
        return (
            "the TLS certificate of %s could not be verified: check ca_path (the CA bundle that signed the "
            "service's certificate; a TLS-inspecting proxy has its own CA), or the system's trust store; "
            "validate_certs=false turns verification off (not recommended)" % host
        )
    if kind == "dns":
        return "the host name of %s does not resolve: check the URL option (graph_url, authority_host, api_url or stack) and the controller's DNS" % host
    return (
        "%s refused the connection: check the URL option (graph_url, api_url or stack), its port, and that "
        "the service or proxy is reachable from the controller" % host
    )


def quiet_insecure_warnings() -> None:
    """validate_certs=false is the user's explicit choice: urllib3's InsecureRequestWarning on every request
    would reach Ansible's output as data sent to stderr, so it is silenced (the module docs warn instead)."""
    try:
        from urllib3.exceptions import InsecureRequestWarning
    except ImportError:
        return
    warnings.simplefilter("ignore", InsecureRequestWarning)


def parse_error_body(response: "requests.Response") -> Tuple[Any, Optional[str], Optional[str], Any]:
    """Return (code, message, request_id, details) from any error body shape the two APIs use.

    Graph/OData: {"error": {"code", "message", "details", "innerError": {"request-id"}}};
    Entra login: {"error": "invalid_client", "error_description": "AADSTS...", "error_codes": [..]};
    Proofpoint Essentials: {"errors": [{"status", "error_message", "identifier"}]}, or a plain
    {"message"} / {"error"} / {"detail"} (docs/moduscloud-api.md, Connection, lists every shape seen).
    """
    request_id = response.headers.get("request-id") or response.headers.get("client-request-id")
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return None, text[:300] or None, request_id, None
    code = message = details = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            message = error.get("message")
            if isinstance(message, dict):  # older Graph APIs nest the text
                message = message.get("value")
            details = error.get("details") or None
            inner = error.get("innerError") or error.get("innererror") or {}
            request_id = inner.get("request-id") or request_id
        elif isinstance(error, str):
            code = error
            message = body.get("error_description")
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            message = "; ".join(_describe_essentials_error(item) for item in errors)
        if not message:
            message = body.get("message") or body.get("detail")
    elif isinstance(body, list) and body:
        message = "; ".join(str(item) for item in body)
    return code, message, request_id, details


def _describe_essentials_error(item) -> str:
    if not isinstance(item, dict):
        return str(item)
    text = item.get("error_message") or item.get("message") or str(item)
    if item.get("identifier"):
        text = "%s: %s" % (item["identifier"], text)
    return text


class HttpClient(object):
    """A requests session bound to one service root.

    TLS trust, proxies and the timeout come from a Transport (_transport.py) and are passed on every
    request, because REQUESTS_CA_BUNDLE (common in execution environments) overrides a session's
    `verify` otherwise (requests issue 3829). Without a transport, one is made of ca_path and
    validate_certs.
    """

    def __init__(
        self,
        base_url: str,
        headers: Optional[dict] = None,
        ca_path: Optional[str] = None,
        validate_certs: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 6,
        max_retry_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: Optional[Transport] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport or Transport(ca_path, validate_certs, timeout=timeout)
        self.timeout = self.transport.timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._clock = clock
        self.verify = self.transport.verify
        if not self.transport.validate_certs:
            quiet_insecure_warnings()
        self.session = self.transport.session()
        self.session.headers.update({"Accept": "application/json"})
        if headers:
            self.session.headers.update(headers)
        self.request_count = 0

    def url(self, path: str) -> str:
        if path.startswith("https://") or path.startswith("http://"):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        operation: str,
        resource: Optional[str] = None,
        params: Optional[dict] = None,
        json=None,
        headers: Optional[dict] = None,
        expected: Collection[int] = (200, 201, 204),
        retry_when: Optional[Callable[["requests.Response"], bool]] = None,
    ) -> "requests.Response":
        """Send one call and return the response, or raise ApiError.

        `retry_when(response)` lets a caller retry a known transient answer (Graph's eventual
        consistency after a create), within the same total wait budget as throttling.
        """
        method = method.upper()
        url = self.url(path)
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=json, headers=headers, **self.transport.request_options(url, timeout=self.timeout)
                )
                self.request_count += 1
            except requests.exceptions.RequestException as exc:
                failure = connection_failure(exc)
                if failure in ("tls", "dns"):  # the same on every attempt: say what to check at once
                    advice = connection_advice(failure, url)
                    if failure == "tls":
                        advice += " (%s)" % self.transport.describe()
                    raise ApiError(operation, resource, message=self.transport.redact(advice))
                if failure == "refused":
                    if attempt <= REFUSED_RETRIES:
                        self._sleep(REFUSED_DELAY)
                        waited += REFUSED_DELAY
                        continue
                    raise ApiError(operation, resource, message="%s (%d attempts)" % (connection_advice(failure, url), attempt))
                delay = backoff(attempt)
                if method in IDEMPOTENT_METHODS and attempt <= self.max_retries and waited + delay <= self.max_retry_wait:
                    self._sleep(delay)
                    waited += delay
                    continue
                raise ApiError(operation, resource, message=self.transport.redact(_short(exc)))
            if response.status_code in expected:
                return response
            retryable = (
                response.status_code in RETRY_ALWAYS
                or (response.status_code in RETRY_IF_IDEMPOTENT and method in IDEMPOTENT_METHODS)
                or (retry_when is not None and retry_when(response))
            )
            if retryable and attempt <= self.max_retries:
                delay = self._retry_after(response, attempt)
                if waited + delay <= self.max_retry_wait:
                    self._sleep(delay)
                    waited += delay
                    continue
            code, message, request_id, details = parse_error_body(response)
            raise ApiError(operation, resource, response.status_code, code, message, request_id, details)

    def json(self, method: str, path: str, operation: str, resource: Optional[str] = None, **kwargs):
        response = self.request(method, path, operation, resource, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(operation, resource, response.status_code, message="the response is not JSON")

    def paged(
        self, path: str, operation: str, resource: Optional[str] = None, params: Optional[dict] = None, item_key: str = "value", **kwargs
    ) -> Iterator[dict]:
        """Yield every item of an OData collection, following @odata.nextLink as given (never built by hand)."""
        url, query = path, params
        while url:
            page = self.json("GET", url, operation, resource, params=query, **kwargs) or {}
            yield from page.get(item_key) or []
            url, query = page.get("@odata.nextLink"), None

    def _retry_after(self, response: "requests.Response", attempt: int) -> float:
        seconds = retry_after(response)
        return backoff(attempt) if seconds is None else seconds


def retry_after(response: "requests.Response") -> Optional[float]:
    """The seconds a response's Retry-After asks to wait, or None (absent, or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass  # an HTTP date: the caller falls back to backoff rather than parse calendars here
    return None


def backoff(attempt: int) -> float:
    """The pause before repeating a request for the attempt-th time: doubling from 1 s, at most 30 s."""
    return min(2.0 ** (attempt - 1), 30.0)


def _short(exc: BaseException) -> str:
    text = "%s: %s" % (type(exc).__name__, exc)
    return text if len(text) < 400 else text[:400] + "..."
