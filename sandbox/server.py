"""The sandbox process: four HTTPS servers (login, Graph, modusCloud, control), each on its own
port and thread, sharing one world state, fault script, journal and request counters."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import directory, tls
from .catalog import GRAPH_CLI_APP_ID
from .control import ControlService
from .faults import Faults, FAULT_SERVICES, Journal, Stats
from .graph import GraphService
from .latency import LatencyModel
from .login import LoginService
from .odata import PageTokens
from .seeding import build_tenant
from .web import Request, Response, json_response

LOG = logging.getLogger("sandbox")
HOST = "127.0.0.1"
SERVICES = ("login", "graph", "moduscloud", "control")
DEFAULT_TENANT = "contoso"
MODUSCLOUD_PREFIX = "/api/v1"
# The workload identity token files: valid this long, written again this often (a platform rotates them too).
FEDERATED_TOKEN_LIFETIME_SECONDS = 3600
FEDERATED_TOKEN_REFRESH_SECONDS = 300


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    sys_version = ""
    timeout = 60

    def setup(self):
        # The TLS handshake runs here, in the connection's own thread, so a slow or failing client
        # never holds up the accept loop.
        self.request.settimeout(self.timeout)
        # Headers and body go out as separate writes; without NODELAY, Nagle's algorithm meets the
        # client's delayed ACK and every response waits ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def _serve(self):
        started = time.monotonic()
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parts.query, self.headers, self._read_body(),
                          peer=self.client_address[0])
        sandbox = self.server.sandbox
        response = sandbox.dispatch(self.server.service, request)
        if sandbox.latency.enabled:
            # The model's time is the whole answer's: what the sandbox itself spent counts towards it. The wait
            # is outside the world's lock, so slow answers do not hold up others.
            delay = sandbox.latency.delay(self.server.service, response.objects or _objects(response),
                                          response.inner, response.sequential) - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format, *args):  # the journal records requests; keep stderr for problems
        LOG.debug("%s %s", self.server.service, format % args)


def _objects(response: Response) -> int:
    """The objects a JSON answer returns (for the latency model): a list's length, else 1."""
    if response.inner is not None or not response.body or not response.body.lstrip().startswith((b"[", b"{")):
        return 0
    try:
        payload = json.loads(response.body)
    except ValueError:
        return 0
    if isinstance(payload, dict):
        payload = next((value for value in payload.values() if isinstance(value, list)), payload)
    return len(payload) if isinstance(payload, list) else 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, service: str, sandbox: "Sandbox", tls_context: ssl.SSLContext):
        self.service = service
        self.sandbox = sandbox
        self.tls_context = tls_context
        super().__init__((HOST, 0), _Handler)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        # Clients that drop connections or refuse the certificate are not server errors.
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, TimeoutError)):
            return
        LOG.error("%s: error serving %s\n%s", self.service, client_address, traceback.format_exc())


def _moduscloud_class():
    """The modusCloud emulator lives in its own module; the rest of the sandbox runs without it."""
    try:
        from .moduscloud import ModusCloudService
    except ModuleNotFoundError as error:
        if error.name != f"{__package__}.moduscloud":
            raise
        return None
    return ModusCloudService


class Sandbox:
    """The whole emulator. One lock guards the world (tenants and everything in them)."""

    def __init__(self, *, page_size: int = 5, users: int | None = None, groups: int | None = None, seed: int = 0,
                 latency_model: str = "off", moduscloud_variants=()):
        self.lock = threading.RLock()
        self.latency = LatencyModel()
        self.latency_mode = latency_model
        self.moduscloud_variants = tuple(moduscloud_variants)  # the service's answers after every reset
        self.page_size = page_size
        self.initial_directory = {"users": users, "groups": groups, "seed": seed}
        self.faults, self.journal, self.stats = Faults(), Journal(), Stats()
        self.page_tokens = PageTokens(os.urandom(32))
        self.state_dir = tempfile.mkdtemp(prefix="sandbox-")
        ca = tls.make_ca()
        server = tls.make_server_cert(ca)
        self.ca_bundle = os.path.join(self.state_dir, "ca.pem")
        with open(self.ca_bundle, "wb") as handle:
            handle.write(ca.cert_pem)
        cert_path, key_path = os.path.join(self.state_dir, "server.pem"), os.path.join(self.state_dir, "server.key")
        with open(cert_path, "wb") as handle:
            handle.write(server.cert_pem + ca.cert_pem)
        tls.write_private(key_path, server.key_pem)
        context = tls.server_context(cert_path, key_path)
        self.signing_key = tls.make_self_signed("sandbox token signing", days=30)
        self.servers = {name: _Server(name, self, context) for name in SERVICES}
        self.authority_host = self.servers["login"].url
        self.graph_url = self.servers["graph"].url
        self.moduscloud_url = self.servers["moduscloud"].url + MODUSCLOUD_PREFIX
        self.control_url = self.servers["control"].url
        self.federation_issuer = f"{self.authority_host}/federation"
        self.identity_header = secrets.token_urlsafe(24)  # the App Service form's IDENTITY_HEADER
        self.az_path = os.path.join(self.state_dir, "az")
        self._refresher = threading.Event()
        self.services = {"login": LoginService(self), "graph": GraphService(self),
                         "moduscloud": ModusCloudGateway(self), "control": ControlService(self)}
        self.identities = {}
        self.tenants = {}
        self.moduscloud = None
        self._serving = []
        self.default_tenant_id = self.new_identity(DEFAULT_TENANT).tenant_id
        self.reset(**self.initial_directory)

    # ------------------------------------------------------------------ world

    def new_identity(self, name: str) -> directory.TenantIdentity:
        certificate = tls.make_self_signed(f"{name} sandbox automation")
        path = os.path.join(self.state_dir, f"admin-{name}.pem")
        tls.write_private(path, certificate.key_pem + certificate.cert_pem)
        identity = directory.TenantIdentity(
            name=name, tenant_id=directory.new_id(), admin_app_id=directory.new_id(),
            admin_app_object_id=directory.new_id(), admin_sp_id=directory.new_id(),
            admin_secret=directory.new_secret_text(), admin_secret_key_id=directory.new_id(),
            admin_certificate=certificate, admin_certificate_path=path,
            moduscloud_password=directory.new_secret_text())
        self.identities[identity.tenant_id] = identity
        return identity

    def tenant(self, key: str):
        """A tenant by id or by any of its domain names, as Entra resolves the path segment."""
        key = (key or "").lower()
        found = self.tenants.get(key)
        if found is None:
            found = next((t for t in self.tenants.values() if key in t.domain_names()), None)
        return found

    @property
    def default_tenant(self) -> directory.Tenant:
        return self.tenants[self.default_tenant_id]

    def reset(self, users: int | None = None, groups: int | None = None, seed: int = 0) -> None:
        """Only the default tenant, with its identity kept, a fresh directory and a fresh modusCloud;
        no faults, an empty journal and zeroed counters."""
        with self.lock:
            for tenant_id, identity in list(self.identities.items()):
                if tenant_id != self.default_tenant_id:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(identity.admin_certificate_path)
                    del self.identities[tenant_id]
            identity = self.identities[self.default_tenant_id]
            self.tenants = {identity.tenant_id: build_tenant(identity, users=users, groups=groups,
                                                                       seed=seed)}
            self.faults.clear()
            self.journal.clear()
            self.stats.clear()
            # The model the sandbox was started with (--latency-model), its usage forgotten.
            self.latency.configure({"preset": self.latency_mode})
            service_class = _moduscloud_class()
            self.moduscloud = service_class(login_url=self.authority_host, graph_url=self.graph_url,
                                            ca_bundle=self.ca_bundle,
                                            variants=self.moduscloud_variants) if service_class else None
            self._add_org(identity)
            self.write_secretless_files()

    def add_tenant(self, name: str, users: int | None = None, groups: int | None = None, seed: int = 0,
                   moduscloud_variants=None) -> dict:
        """A new tenant and its modusCloud organization; moduscloud_variants: that organization's own variants."""
        with self.lock:
            identity = self.new_identity(name)
            self.tenants[identity.tenant_id] = build_tenant(identity, users=users, groups=groups, seed=seed)
            self._add_org(identity)
            self.write_secretless_files()
            if moduscloud_variants and self.moduscloud is not None:
                self.moduscloud.set_variants(moduscloud_variants, org=identity.default_domain)
            return self.info(identity.tenant_id)

    def _add_org(self, identity: directory.TenantIdentity) -> None:
        if self.moduscloud is not None:
            self.moduscloud.add_org(domain=identity.default_domain, admin_user=identity.moduscloud_admin,
                                    admin_password=identity.moduscloud_password, domains=[identity.default_domain])

    def info(self, tenant_id: str | None = None) -> dict:
        identity = self.identities[tenant_id or self.default_tenant_id]
        return {
            "authority_host": self.authority_host,
            "graph_url": self.graph_url,
            "moduscloud_url": self.moduscloud_url,
            "control_url": self.control_url,
            "ca_bundle": self.ca_bundle,
            "tenant_id": identity.tenant_id,
            "tenant_domain": identity.default_domain,
            "tenant_initial_domain": identity.initial_domain,
            "admin_client_id": identity.admin_app_id,
            "admin_client_secret": identity.admin_secret,
            "admin_certificate_path": identity.admin_certificate_path,
            "admin_certificate_thumbprint": identity.admin_certificate.sha1_thumbprint,
            "admin_user": f"admin@{identity.initial_domain}",
            "public_client_id": GRAPH_CLI_APP_ID,
            "moduscloud_user": identity.moduscloud_admin,
            "moduscloud_password": identity.moduscloud_password,
            "moduscloud_org": identity.default_domain,
            "moduscloud_available": self.moduscloud is not None,
            "managed_identity_env": {"IDENTITY_ENDPOINT": f"{self.authority_host}/msi/token",
                                     "IDENTITY_HEADER": self.identity_header},
            "managed_identity_client_id": identity.managed_identity_app_id,
            "federated_client_id": identity.federated_app_id,
            "federated_token_file": self.federated_token_file(identity.tenant_id),
            "az_path": self.az_path,
            "moduscloud_variants": list(self.moduscloud_variants),
        }

    # ------------------------------------------------------------------ secretless sign-ins

    def federated_token_file(self, tenant_id: str) -> str:
        return os.path.join(self.state_dir, f"federated-token-{tenant_id}.jwt")

    def write_secretless_files(self) -> None:
        """Each tenant's workload identity token file, and the az stand-in with the accounts it is signed in as
        (each tenant's automation identity)."""
        with self.lock:
            tenants = list(self.tenants.values())
            login = self.services["login"]
            for tenant in tenants:
                _write_private(self.federated_token_file(tenant.id),
                               login.federated_token(tenant, FEDERATED_TOKEN_LIFETIME_SECONDS))
            accounts = {"authority_host": self.authority_host, "ca_bundle": self.ca_bundle,
                        "default_tenant": self.default_tenant_id,
                        "tenants": {tenant.id: {"names": sorted([tenant.id, *tenant.domain_names()]),
                                                "client_id": tenant.identity.admin_app_id,
                                                "client_secret": tenant.identity.admin_secret}
                                    for tenant in tenants}}
        os.makedirs(self.az_path, exist_ok=True)
        _write_private(os.path.join(self.az_path, "accounts.json"), json.dumps(accounts))
        script = os.path.join(self.az_path, "az")
        if not os.path.exists(script):
            _write_private(script, f"#!{sys.executable}\n" + AZ_STAND_IN)
            os.chmod(script, 0o700)

    def _refresh_federated_tokens(self) -> None:
        while not self._refresher.wait(FEDERATED_TOKEN_REFRESH_SECONDS):
            try:
                self.write_secretless_files()
            except OSError:  # the state directory is going away: the sandbox is stopping
                return

    # ------------------------------------------------------------------ requests

    def tenant_of(self, service_name: str, request: Request) -> str | None:
        """The id of the tenant a request is made for (or by), as far as it says: the login path's tenant,
        Graph's token's tid, modusCloud's X-User admin. None when it cannot tell."""
        try:
            if service_name == "login":
                tenant = self.tenant(request.path.strip("/").split("/")[0])
                return tenant.id if tenant else None
            if service_name == "graph":
                token = (request.headers.get("Authorization") or "").partition(" ")[2].strip()
                payload = token.split(".")[1]
                claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                return str(claims.get("tid") or "").lower() or None
            if service_name == "moduscloud":
                user = (request.headers.get("X-User") or "").lower()
                return next((tenant_id for tenant_id, identity in list(self.identities.items())
                             if identity.moduscloud_admin.lower() == user), None)
        except (IndexError, ValueError, TypeError, AttributeError):
            return None
        return None

    def dispatch(self, service_name: str, request: Request) -> Response:
        service = self.services[service_name]
        tenant_id = self.tenant_of(service_name, request) if service_name in FAULT_SERVICES else None
        rule = self.faults.match(service_name, request.method, request.path, tenant_id) \
            if service_name in FAULT_SERVICES else None
        if rule is not None and self.faults.kill_point(rule):
            self._handle(service_name, service, request)  # the request reaches the service; its answer is lost
            response = service.fault_response(rule, request)
        elif rule is not None:
            response = service.fault_response(rule, request)
        else:
            response = self._handle(service_name, service, request)
        response.headers.setdefault("request-id", request.request_id)
        response.headers.setdefault("client-request-id", request.client_request_id)
        if service_name in FAULT_SERVICES:
            self.stats.count(service_name, request.method, rule is not None, batch=response.inner is not None)
            self.journal.record(service_name, request.method, request.path, request.query_string,
                                response.status, rule is not None, request.request_id, peer=request.peer,
                                tenant=tenant_id)
        return response

    @staticmethod
    def _handle(service_name: str, service, request: Request) -> Response:
        try:
            return service.handle(request)
        except Exception:  # a sandbox bug: answer 500 and say so on stderr
            LOG.exception("%s: unhandled error for %s %s", service_name, request.method, request.path)
            return json_response(500, {"error": {"code": "InternalServerError",
                                                 "message": "sandbox internal error; see its log"}})

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        for name, server in self.servers.items():
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sandbox-{name}",
                             daemon=True).start()
            self._serving.append(server)
        for server in self.servers.values():  # every port answers before anyone is told about it
            with socket.create_connection(server.server_address, timeout=5):
                pass
        threading.Thread(target=self._refresh_federated_tokens, name="sandbox-federated-tokens", daemon=True).start()

    def stop(self) -> None:
        self._refresher.set()
        for server in self._serving:  # shutdown() waits for serve_forever(), so only where it runs
            server.shutdown()
        for server in self.servers.values():
            server.server_close()
        shutil.rmtree(self.state_dir, ignore_errors=True)


def _write_private(path: str, text: str) -> None:
    """Written beside the target and moved over it (a reader never sees half a file), readable by us only."""
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


# The Azure CLI stand-in: `az account get-access-token --resource R [--tenant T] [--output json]`, signed in as
# each tenant's automation identity (accounts.json beside it); `az logout` signs it out.
AZ_STAND_IN = textwrap.dedent("""\
    import json, os, ssl, sys, time, urllib.error, urllib.parse, urllib.request

    HERE = os.path.dirname(os.path.abspath(__file__))
    ACCOUNTS = os.path.join(HERE, "accounts.json")
    SIGNED_OUT = os.path.join(HERE, "signed-out")


    def fail(message, status=1):
        sys.stderr.write("ERROR: %s\\n" % message)
        sys.exit(status)


    def option(args, *names):
        for name in names:
            if name in args:
                index = args.index(name)
                if index + 1 < len(args):
                    return args[index + 1]
        return None


    def main(args):
        if args[:1] == ["logout"]:
            open(SIGNED_OUT, "w").close()
            return
        if args[:1] == ["login"]:
            if os.path.exists(SIGNED_OUT):
                os.unlink(SIGNED_OUT)
            return
        if args[:2] != ["account", "get-access-token"]:
            fail("the sandbox's az stand-in only knows: account get-access-token, login, logout", 2)
        if os.path.exists(SIGNED_OUT) or not os.path.exists(ACCOUNTS):
            fail("Please run 'az login' to setup account.")
        with open(ACCOUNTS) as handle:
            accounts = json.load(handle)
        resource = option(args, "--resource") or "https://management.core.windows.net/"
        wanted = (option(args, "--tenant", "-t") or accounts["default_tenant"]).lower()
        tenant = next((key for key, value in accounts["tenants"].items() if wanted in value["names"]), None)
        if tenant is None:
            fail("AADSTS90002: Tenant '%s' not found. Run 'az login --tenant %s' first." % (wanted, wanted))
        account = accounts["tenants"][tenant]
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": account["client_id"],
                                       "client_secret": account["client_secret"],
                                       "scope": resource.rstrip("/") + "/.default"}).encode()
        request = urllib.request.Request("%s/%s/oauth2/v2.0/token" % (accounts["authority_host"], tenant), data=form)
        context = ssl.create_default_context(cafile=accounts["ca_bundle"])
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                token = json.load(answer)
        except urllib.error.HTTPError as error:
            body = json.load(error)
            fail("%s: %s" % (body.get("error"), body.get("error_description")))
        expires_on = int(time.time()) + int(token["expires_in"])
        json.dump({"accessToken": token["access_token"], "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000",
                                                                                       time.localtime(expires_on)),
                   "expires_on": expires_on, "subscription": "00000000-0000-0000-0000-000000000000",
                   "tenant": tenant, "tokenType": "Bearer"}, sys.stdout, indent=2)
        sys.stdout.write("\\n")


    main(sys.argv[1:])
    """)


def _moduscloud_error(status: int, message: str, identifier: str, headers: dict | None = None) -> Response:
    """An error in modusCloud's envelope, as compact JSON like every modusCloud answer."""
    body = json.dumps({"errors": [{"status": status, "error_message": message, "identifier": identifier}]},
                      separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


class ModusCloudGateway:
    """Hands /api/v1 on the modusCloud port to the emulator written in sandbox/moduscloud/."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def handle(self, request: Request) -> Response:
        service = self.sandbox.moduscloud
        if service is None:
            return _moduscloud_error(503, "the modusCloud emulator (sandbox/moduscloud/) is not installed", "")
        if not (request.path + "/").startswith(MODUSCLOUD_PREFIX + "/"):
            return _moduscloud_error(404, "not found", request.path)
        status, headers, body = service.handle(request.method, request.path, request.query, request.headers,
                                               request.body)
        return Response(status, body, dict(headers))

    def fault_response(self, rule, request: Request) -> Response:
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        message = rule.message or f"injected fault: HTTP {rule.status}"
        return _moduscloud_error(rule.status, message, rule.code or "", headers)
