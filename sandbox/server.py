"""The sandbox process: four HTTPS servers (login, Graph, modusCloud, control; httpd.py), each on its own
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
import tempfile
import threading

from . import directory, tls
from .catalog import GRAPH_CLI_APP_ID
from .control import ControlService
from .faults import Faults, FAULT_SERVICES, Journal, Stats
from .gateway import MODUSCLOUD_PREFIX, ModusCloudGateway, moduscloud_class
from .graph import GraphService
from .httpd import ServiceServer
from .latency import LatencyModel
from .login import LoginService
from .odata import PageTokens
from .secretless import federated_token_file, refresh_federated_tokens, write_secretless_files
from .seeding import build_tenant
from .web import Request, Response, json_response

LOG = logging.getLogger("sandbox")
SERVICES = ("login", "graph", "moduscloud", "control")
DEFAULT_TENANT = "contoso"


class Sandbox:
    """The whole emulator. One lock guards the world (tenants and everything in them)."""

    def __init__(
        self, *, page_size: int = 5, users: int | None = None, groups: int | None = None, seed: int = 0, latency_model: str = "off", moduscloud_variants=()
    ):
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
        self.servers = {name: ServiceServer(name, self, context) for name in SERVICES}
        self.authority_host = self.servers["login"].url
        self.graph_url = self.servers["graph"].url
        self.moduscloud_url = self.servers["moduscloud"].url + MODUSCLOUD_PREFIX
        self.control_url = self.servers["control"].url
        self.federation_issuer = f"{self.authority_host}/federation"
        self.identity_header = secrets.token_urlsafe(24)  # the App Service form's IDENTITY_HEADER
        self.az_path = os.path.join(self.state_dir, "az")
        self._refresher = threading.Event()
        self.services = {"login": LoginService(self), "graph": GraphService(self), "moduscloud": ModusCloudGateway(self), "control": ControlService(self)}
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
            name=name,
            tenant_id=directory.new_id(),
            admin_app_id=directory.new_id(),
            admin_app_object_id=directory.new_id(),
            admin_sp_id=directory.new_id(),
            admin_secret=directory.new_secret_text(),
            admin_secret_key_id=directory.new_id(),
            admin_certificate=certificate,
            admin_certificate_path=path,
            moduscloud_password=directory.new_secret_text(),
        )
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
            self.tenants = {identity.tenant_id: build_tenant(identity, users=users, groups=groups, seed=seed)}
            self.faults.clear()
            self.journal.clear()
            self.stats.clear()
            # The model the sandbox was started with (--latency-model), its usage forgotten.
            self.latency.configure({"preset": self.latency_mode})
            service_class = moduscloud_class()
            self.moduscloud = (
                service_class(login_url=self.authority_host, graph_url=self.graph_url, ca_bundle=self.ca_bundle, variants=self.moduscloud_variants)
                if service_class
                else None
            )
            self._add_org(identity)
            write_secretless_files(self)

    def add_tenant(self, name: str, users: int | None = None, groups: int | None = None, seed: int = 0, moduscloud_variants=None) -> dict:
        """A new tenant and its modusCloud organization; moduscloud_variants: that organization's own variants."""
        with self.lock:
            identity = self.new_identity(name)
            self.tenants[identity.tenant_id] = build_tenant(identity, users=users, groups=groups, seed=seed)
            self._add_org(identity)
            write_secretless_files(self)
            if moduscloud_variants and self.moduscloud is not None:
                self.moduscloud.set_variants(moduscloud_variants, org=identity.default_domain)
            return self.info(identity.tenant_id)

    def _add_org(self, identity: directory.TenantIdentity) -> None:
        if self.moduscloud is not None:
            self.moduscloud.add_org(
                domain=identity.default_domain,
                admin_user=identity.moduscloud_admin,
                admin_password=identity.moduscloud_password,
                domains=[identity.default_domain],
            )

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
            "managed_identity_env": {"IDENTITY_ENDPOINT": f"{self.authority_host}/msi/token", "IDENTITY_HEADER": self.identity_header},
            "managed_identity_client_id": identity.managed_identity_app_id,
            "federated_client_id": identity.federated_app_id,
            "federated_token_file": federated_token_file(self.state_dir, identity.tenant_id),
            "az_path": self.az_path,
            "moduscloud_variants": list(self.moduscloud_variants),
        }

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
                return next((tenant_id for tenant_id, identity in list(self.identities.items()) if identity.moduscloud_admin.lower() == user), None)
        except (IndexError, ValueError, TypeError, AttributeError):
            return None
        return None

    def dispatch(self, service_name: str, request: Request) -> Response:
        service = self.services[service_name]
        tenant_id = self.tenant_of(service_name, request) if service_name in FAULT_SERVICES else None
        rule = self.faults.match(service_name, request.method, request.path, tenant_id) if service_name in FAULT_SERVICES else None
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
            self.journal.record(
                service_name,
                request.method,
                request.path,
                request.query_string,
                response.status,
                rule is not None,
                request.request_id,
                peer=request.peer,
                tenant=tenant_id,
            )
        return response

    @staticmethod
    def _handle(service_name: str, service, request: Request) -> Response:
        try:
            return service.handle(request)
        except Exception:  # a sandbox bug: answer 500 and say so on stderr
            LOG.exception("%s: unhandled error for %s %s", service_name, request.method, request.path)
            return json_response(500, {"error": {"code": "InternalServerError", "message": "sandbox internal error; see its log"}})

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        for name, server in self.servers.items():
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sandbox-{name}", daemon=True).start()
            self._serving.append(server)
        for server in self.servers.values():  # every port answers before anyone is told about it
            with socket.create_connection(server.server_address, timeout=5):
                pass
        threading.Thread(target=refresh_federated_tokens, args=(self, self._refresher), name="sandbox-federated-tokens", daemon=True).start()

    def stop(self) -> None:
        self._refresher.set()
        for server in self._serving:  # shutdown() waits for serve_forever(), so only where it runs
            server.shutdown()
        for server in self.servers.values():
            server.server_close()
        shutil.rmtree(self.state_dir, ignore_errors=True)
