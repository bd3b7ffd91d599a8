"""The Entra sign-in host in front of a FakeGraph, for tests whose code signs in as an application.

It answers OpenID discovery and the token endpoint (client credentials): an application of the FakeGraph's
tenant presenting one of its current client secrets gets an access token the FakeGraph knows (its admin
consent then decides what the token may read); anything else gets Entra's refusal. Every other request goes
on to the FakeGraph. It records every request it is sent, in the shape ScriptedAdapter records them.
"""

from urllib.parse import parse_qs, unquote, urlsplit

from requests.adapters import BaseAdapter

from ..module_utils.fake_transport import JSON_HEADERS, make_response

LOGIN = "https://login.test"


def sign_in_error(status, error, code, description):
    """Entra's error body: its first line names the AADSTS code, the lines after it are for Microsoft support."""
    text = "AADSTS%d: %s\r\nTrace ID: 0b7e4c1a-fake\r\nCorrelation ID: 5d2f9e60-fake" % (code, description)
    return status, {"error": error, "error_codes": [code], "error_description": text, "correlation_id": "5d2f9e60-fake"}


class FakeSignIn(BaseAdapter):
    """The sign-in host at `base` (an authority host: {base}/{tenant}/oauth2/v2.0/token) before `graph`."""

    def __init__(self, graph, base=LOGIN):
        super().__init__()
        self.graph = graph
        self.base = base.rstrip("/")
        self.unavailable = False  # every token request gets Entra's 503 (discovery still answers)
        self.calls = []

    def token_requests(self):
        return [call for call in self.calls if call["url"].startswith(self.base + "/") and call["path"].endswith("/oauth2/v2.0/token")]

    @staticmethod
    def form(call):
        """The form of a recorded token request, one value per field."""
        return dict((key, values[0]) for key, values in parse_qs(call["body"] or "").items())

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        self.calls.append(
            {
                "method": request.method,
                "url": request.url,
                "host": url.hostname,
                "path": unquote(url.path),
                "query": dict((key, values[0]) for key, values in parse_qs(url.query).items()),
                "body": body,
                "headers": dict(request.headers),
                "verify": kwargs.get("verify"),
            }
        )
        if not request.url.startswith(self.base + "/"):
            return self.graph.send(request, **kwargs)
        path = unquote(url.path)[len(urlsplit(self.base).path) :]
        tenant = path.split("/")[1]
        if path.endswith("/v2.0/.well-known/openid-configuration"):
            return make_response(request, *self._discovery(tenant), headers=JSON_HEADERS)
        if request.method == "POST" and path.endswith("/oauth2/v2.0/token"):
            return make_response(request, *self._token(tenant, self.form(self.calls[-1])), headers=JSON_HEADERS)
        raise AssertionError("FakeSignIn does not answer %s %s" % (request.method, request.url))

    def close(self):
        pass

    def _discovery(self, tenant):
        base = "%s/%s" % (self.base, tenant)
        return 200, {"authorization_endpoint": base + "/oauth2/v2.0/authorize", "token_endpoint": base + "/oauth2/v2.0/token", "issuer": base + "/v2.0"}

    def _token(self, tenant, form):
        if self.unavailable:
            return sign_in_error(503, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
        known = set([self.graph.tenant_id.lower()] + [domain["id"].lower() for domain in self.graph.tenant_domains])
        if tenant.lower() not in known:
            return sign_in_error(400, "invalid_request", 90002, "Tenant '%s' not found." % tenant)
        app = next((app for app in self.graph.applications.values() if app["appId"] == form.get("client_id")), None)
        if app is None:
            return sign_in_error(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory." % form.get("client_id"))
        current = [self.graph.secret_texts.get(credential["keyId"]) for credential in app["passwordCredentials"]]
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret") or form["client_secret"] not in current:
            return sign_in_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            )
        return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": self.graph.issue_token(app["appId"])}
