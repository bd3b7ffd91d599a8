# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every sign-in method shares: the interface, the errors, msal's HTTP client, and the
bounded repetition of a sign-in that got a transient answer.

Private to this collection: no compatibility promise outside it.

One file per sign-in method (_auth_<name>.py) holds a subclass of AuthMethod. The connection
(_connection.py) picks one, by the `auth` option or, with `auto`, by asking each in turn whether
the options and the environment make it possible; then the chosen method checks its options
(before any request) and signs in when a token is first needed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import time

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import (
    backoff,
    parse_error_body,
    requests,
    retry_after,
)

# msal is imported by the first sign-in that needs it (load_msal), not when a module starts: a module
# given an access token (the role's modules) never signs in, and saves the import. Whether msal is there
# at all is known without importing it, so that modules and the lookup still fail early without it.
try:
    _MSAL_FOUND = importlib.util.find_spec("msal") is not None
except (ImportError, ValueError):  # pragma: no cover - a broken installation
    _MSAL_FOUND = False
MSAL_IMPORT_ERROR = None if _MSAL_FOUND else "No module named 'msal'"


def load_msal():
    """The msal package, imported on first use (a sign-in)."""
    import msal
    import msal.exceptions  # noqa: F401 (signed_in catches msal.exceptions.MsalError)

    return msal


# A token request changes nothing, so a transient answer of the sign-in host is asked again: bounded in
# attempts and in total wait (seconds), like _http's retries.
TOKEN_MAX_RETRIES = 4
TOKEN_MAX_RETRY_WAIT = 60.0


class TokenError(ApiError):
    """Entra ID issued no token: its HTTP status, error code and description, or why it could not be asked."""

    def __init__(
        self,
        client_id,
        tenant_id,
        status=None,
        code=None,
        message=None,
        request_id=None,
        error_codes=None,
        transient=False,
        retry_after=None,
        attempts=1,
        method=None,
        subject=None,
    ):
        self.error_codes = list(error_codes or [])
        # Throttled (429), a server failure (5xx) or no answer at all: asking again later may work.
        self.transient = transient
        self.retry_after = retry_after  # the seconds Entra asked to wait (Retry-After), if it said
        self.attempts = attempts
        self.method = method
        who = []
        if subject:  # an identity without an application id of its own (managed identity, Azure CLI account)
            who.append("as %s (auth=%s)" % (subject, method) if method else "as %s" % subject)
        elif client_id:
            who.append("for client_id %s" % client_id)
        if tenant_id:
            who.append("in tenant %s" % tenant_id)
        super(TokenError, self).__init__(
            "acquire a Microsoft Graph token", " ".join(who) or None, status=status, code=code, message=message, request_id=request_id
        )

    def _describe(self):
        text = super(TokenError, self)._describe()
        if self.attempts > 1:
            text += " (gave up after %d attempts)" % self.attempts
        return text


class AuthMethod(object):
    """One way of obtaining a Microsoft Graph token. Subclasses set NAME and implement the three steps.

    `connection` is the GraphConnection: its `options` (every connection option, environment
    fallbacks applied), `authority_host`, `graph_url`, `transport` and `secrets`.
    """

    NAME = None
    # Where the token comes from, in the words of an error message.
    DESCRIPTION = None
    # (option, its environment variables) that the method cannot sign in without.
    REQUIRED = ()

    def __init__(self, connection):
        self.connection = connection
        self.options = connection.options

    @classmethod
    def available(cls, options):
        """For auth=auto: None when the options and environment make this method possible, else why not."""
        raise NotImplementedError

    def problems(self):
        """What is missing or wrong in the options for this method (checked before any request)."""
        return self.missing()

    def problem_options(self):
        """The options the method's problems are about: auth (which chose it) and the REQUIRED options not set."""
        return ["auth"] + [name for name, _env in self.REQUIRED if not self.options.get(name)]

    def missing(self):
        """The REQUIRED options that are not set, as one problem naming each with its environment variables."""
        found = ["%s (%s)" % (name, " or ".join(env)) for name, env in self.REQUIRED if not self.options.get(name)]
        return ["auth=%s needs %s" % (self.NAME, ", ".join(found))] if found else []

    def token(self):
        """A Microsoft Graph access token (str), or TokenError / GraphError."""
        raise NotImplementedError

    # Shared helpers for the methods that go through msal

    @property
    def authority(self):
        return "%s/%s" % (self.connection.authority_host, self.options.get("tenant_id"))

    @property
    def scope(self):
        return "%s/.default" % self.connection.graph_url

    def signed_in_as_application(self, credential, **kwargs):
        """A token for the application client_id signing in with `credential` (a secret, a certificate or an
        assertion, as msal's ConfidentialClientApplication takes it), through signed_in's retries."""
        client_id = self.options["client_id"]

        def sign_in(http):
            app = load_msal().ConfidentialClientApplication(
                client_id, client_credential=credential, authority=self.authority, instance_discovery=False, http_client=http
            )
            return app.acquire_token_for_client(scopes=[self.scope])

        return self.signed_in(sign_in, client_id, **kwargs)

    def signed_in(self, sign_in, client_id, max_retries=TOKEN_MAX_RETRIES, sleep=None, secret=None, subject=None):
        return signed_in(
            sign_in,
            client_id,
            self.options.get("tenant_id"),
            self.connection.transport,
            max_retries,
            sleep or self.connection.sleep,
            secret=secret,
            method=self.NAME,
            subject=subject,
        )


class LoginHttp(object):
    """The HTTP client msal signs in through (its http_client interface: get, post, close).

    msal's own `verify=` is a session setting that REQUESTS_CA_BUNDLE silently overrides (requests
    issue 3829), so verify and proxies are passed on every request; msal drops its `timeout=` once it
    is given a client, so the timeout is applied here. The last answer is kept because msal tells a 5xx
    only as "HTTP Error: 503" and a 429 only by its body: the status and Retry-After are read from it.
    """

    def __init__(self, transport):
        self.transport = transport
        self.session = transport.session()
        self.last_response = None
        self.direct = False  # True: never through a proxy (the instance metadata service)

    def get(self, url, **kwargs):
        return self._send("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self._send("POST", url, **kwargs)

    def close(self):
        self.session.close()

    def _send(self, method, url, **kwargs):
        self.last_response = None  # stays None when no answer comes
        options = self.transport.request_options(url, direct=self.direct, **kwargs)
        self.last_response = self.session.request(method, url, **options)
        return self.last_response


def signed_in(sign_in, client_id, tenant_id, transport, max_retries, sleep, secret=None, method=None, subject=None):
    """The access token of sign_in(http) -> msal's result, asked again while the answer is transient."""
    sleep = sleep or time.sleep
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        # A new msal application (and client) per attempt: msal's throttle cache lives in the application
        # and would replay a 429 or 5xx, without asking, for its Retry-After (5 s when absent).
        http = LoginHttp(transport)
        try:
            result = sign_in(http)
        except (load_msal().exceptions.MsalError, ValueError, requests.exceptions.RequestException) as exc:
            # msal raises for a 5xx (MsalServiceError), an unusable authority or a body that is not JSON
            # (ValueError), and lets transport errors through.
            failure = token_failure(client_id, tenant_id, http.last_response, attempt, secret, transport, exc=exc, method=method, subject=subject)
        else:
            if "access_token" in result:
                return result["access_token"]
            failure = token_failure(client_id, tenant_id, http.last_response, attempt, secret, transport, result=result, method=method, subject=subject)
        finally:
            http.close()
        if not failure.transient or attempt > max_retries:
            raise failure
        delay = backoff(attempt) if failure.retry_after is None else failure.retry_after
        if waited + delay > TOKEN_MAX_RETRY_WAIT:
            raise failure
        sleep(delay)
        waited += delay


def token_failure(client_id, tenant_id, response, attempt, secret, transport, exc=None, result=None, method=None, subject=None):
    """The TokenError for one failed sign-in: msal's error `result`, or the exception it raised.

    `response` is the sign-in host's last answer (None when none came): its status tells a transient
    failure from a refusal, whatever msal made of it.
    """
    status = response.status_code if response is not None and response.status_code >= 400 else None
    if result is None and status is not None:
        result = _json_object(response)
    result = result or {}
    code, message, request_id = result.get("error"), result.get("error_description"), result.get("correlation_id")
    if status is not None:  # a body that is not Entra's JSON (a gateway's page) still says something
        body_code, body_message, header_request_id = parse_error_body(response)[:3]
        code, message = code or body_code, message or body_message
        request_id = request_id or header_request_id or response.headers.get("x-ms-request-id")
    if not message and exc is not None:
        message = "%s: %s" % (type(exc).__name__, exc)
    tls = isinstance(exc, requests.exceptions.SSLError)
    if tls:
        message = "TLS failure (%s): %s" % (transport.describe(), message)
    elif isinstance(exc, requests.exceptions.ProxyError):
        message = "proxy failure (%s): %s" % (transport.describe(), message)
    # No answer (refused connection, timeout) may come next time, and so may an end to throttling or to
    # a server failure; a TLS failure will not.
    no_answer = isinstance(exc, requests.exceptions.RequestException) and not tls
    transient = no_answer or status == 429 or (status or 0) >= 500
    return TokenError(
        client_id,
        tenant_id,
        status=status,
        code=code,
        message=transport.redact(without(message, secret)),
        request_id=request_id,
        error_codes=result.get("error_codes"),
        transient=transient,
        retry_after=retry_after(response) if status is not None else None,
        attempts=attempt,
        method=method,
        subject=subject,
    )


def _json_object(response):
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def without(text, secret):
    # Entra does not echo secrets, but an error text must never be the way one leaks.
    if text and secret:
        return text.replace(secret, "********")
    return text
