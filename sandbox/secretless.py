"""Secretless sign-ins against the sandbox: each tenant's workload identity token file (written again while the
sandbox runs, as a platform rotates it) and the `az` stand-in signed in as each tenant's automation identity."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading

# The workload identity token files: valid this long, written again this often (a platform rotates them too).
FEDERATED_TOKEN_LIFETIME_SECONDS = 3600
FEDERATED_TOKEN_REFRESH_SECONDS = 300


def federated_token_file(state_dir: str, tenant_id: str) -> str:
    return os.path.join(state_dir, f"federated-token-{tenant_id}.jwt")


def write_secretless_files(sandbox) -> None:
    """Each tenant's workload identity token file, and the az stand-in with the accounts it is signed in as
    (each tenant's automation identity)."""
    with sandbox.lock:
        tenants = list(sandbox.tenants.values())
        login = sandbox.services["login"]
        for tenant in tenants:
            _write_private(federated_token_file(sandbox.state_dir, tenant.id), login.federated_token(tenant, FEDERATED_TOKEN_LIFETIME_SECONDS))
        accounts = {
            "authority_host": sandbox.authority_host,
            "ca_bundle": sandbox.ca_bundle,
            "default_tenant": sandbox.default_tenant_id,
            "tenants": {
                tenant.id: {
                    "names": sorted([tenant.id, *tenant.domain_names()]),
                    "client_id": tenant.identity.admin_app_id,
                    "client_secret": tenant.identity.admin_secret,
                }
                for tenant in tenants
            },
        }
    os.makedirs(sandbox.az_path, exist_ok=True)
    _write_private(os.path.join(sandbox.az_path, "accounts.json"), json.dumps(accounts))
    script = os.path.join(sandbox.az_path, "az")
    if not os.path.exists(script):
        _write_private(script, f"#!{sys.executable}\n" + AZ_STAND_IN)
        os.chmod(script, 0o700)


def refresh_federated_tokens(sandbox, stop: threading.Event) -> None:
    """Write the token files again every FEDERATED_TOKEN_REFRESH_SECONDS until `stop` is set."""
    while not stop.wait(FEDERATED_TOKEN_REFRESH_SECONDS):
        try:
            write_secretless_files(sandbox)
        except OSError:  # the state directory is going away: the sandbox is stopping
            return


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
