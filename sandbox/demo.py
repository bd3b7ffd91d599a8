"""`make demo`: the collection's main playbook against the bundled sandbox, start to finish.

Starts the sandbox, writes a throw-away inventory for its tenant (one host per tenant, as an MSP
inventory has; the credentials go into a private file, never onto a command line), then runs
playbooks/configure_azure_sync.yml three times - the plan (--check --diff), the apply, and a
second apply that must change nothing - and lets modusCloud's scheduled sync run once with the
key the playbook handed over. Stops the sandbox however it ends. Exits non-zero if a step fails
or the second apply changes anything.

Run from the repository root: python -m sandbox.demo
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from .launch import ROOT, RunningSandbox, SandboxStartError

PLAYBOOK = os.path.join(ROOT, "playbooks", "configure_azure_sync.yml")
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class DemoFailure(Exception):
    """A step that did not do what the demo promises; the message says which."""


def heading(text: str) -> None:
    print("\n" + "=" * 78 + "\n" + text + "\n" + "=" * 78, flush=True)


def write_inventory(workdir: str, info: dict) -> str:
    """One host for the sandbox tenant, as in examples/msp; readable by this user only."""
    tenant = {
        "ansible_connection": "local",
        "azure_user_sync_org": info["moduscloud_org"],
        "azure_user_sync_tenant_id": info["tenant_id"],
        "azure_user_sync_client_id": info["admin_client_id"],
        "azure_user_sync_client_secret": info["admin_client_secret"],
        "azure_user_sync_moduscloud_username": info["moduscloud_user"],
        "azure_user_sync_moduscloud_password": info["moduscloud_password"],
        # The sandbox stands in for login.microsoftonline.com, Graph and modusCloud, with its own CA.
        "azure_user_sync_authority_host": info["authority_host"],
        "azure_user_sync_graph_url": info["graph_url"],
        "azure_user_sync_moduscloud_api_url": info["moduscloud_url"],
        "azure_user_sync_ca_path": info["ca_bundle"],
    }
    inventory = {"moduscloud_tenants": {"hosts": {info["tenant_domain"]: tenant}}}
    path = os.path.join(workdir, "inventory.json")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(inventory, handle, indent=2)
    return path


def run_playbook(inventory: str, workdir: str, *options: str) -> dict:
    """Run the main playbook with its output shown as it comes; return the recap per host."""
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, PLAYBOOK, *options]
    print("$ ansible-playbook -i <inventory> playbooks/configure_azure_sync.yml " + " ".join(options), flush=True)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_DISPLAY_SKIPPED_HOSTS="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_FORCE_COLOR=os.environ.get("ANSIBLE_FORCE_COLOR", "0"),
    )
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    output = []
    for line in process.stdout:
        sys.stdout.write(line)
        output.append(line)
    sys.stdout.flush()
    if process.wait() != 0:
        raise DemoFailure("ansible-playbook %s failed (exit status %d)" % (" ".join(options), process.returncode))
    recap = {
        host: {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable), "failed": int(failed)}
        for host, ok, changed, unreachable, failed in RECAP_LINE.findall("".join(output))
    }
    if not recap:
        raise DemoFailure("ansible-playbook %s printed no play recap" % " ".join(options))
    return recap


def run_scheduled_sync(sandbox: RunningSandbox) -> None:
    """Move modusCloud's clock an hour on: its own sync signs in with the key the playbook handed over."""
    syncs = sandbox.advance_clock(1)["syncs"]
    if not syncs:
        raise DemoFailure("modusCloud ran no scheduled sync")
    for sync in syncs:
        if not sync["ok"]:
            raise DemoFailure("modusCloud's scheduled sync of %s failed: %s" % (sync["org"], sync["error"]))
        groups = sync["groups"]
        print(
            "%s: scheduled sync succeeded at %s - users added %d, updated %d, removed %d; groups added %d, "
            "updated %d" % (sync["org"], sync["time"], sync["added"], sync["updated"], sync["removed"], groups["added"], groups["updated"])
        )


def demo() -> None:
    workdir = tempfile.mkdtemp(prefix="moduscloud-demo-")
    sandbox = None
    try:
        heading("Starting the sandbox (emulated Entra ID sign-in, Microsoft Graph and modusCloud)")
        try:
            sandbox = RunningSandbox.start(workdir)
        except SandboxStartError as error:
            raise DemoFailure(str(error)) from error
        info = sandbox.info
        print("tenant %s, modusCloud organization %s" % (info["tenant_domain"], info["moduscloud_org"]))
        inventory = write_inventory(workdir, info)

        heading("1/4 The plan: --check --diff shows every change and writes nothing")
        run_playbook(inventory, workdir, "--check", "--diff")

        heading("2/4 Apply: register the app, consent, secret, domains, import settings, sync, verify")
        run_playbook(inventory, workdir, "--diff")

        heading("3/4 Apply again: nothing left to change")
        recap = run_playbook(inventory, workdir, "--diff")
        changed = {host: stats["changed"] for host, stats in recap.items() if stats["changed"]}
        if changed:
            raise DemoFailure("the second apply changed something: %s" % changed)
        print("\nSecond apply: changed=0 on every host.")

        heading("4/4 modusCloud's own scheduled sync, an hour later, with the key the playbook handed over")
        run_scheduled_sync(sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    try:
        demo()
    except DemoFailure as failure:
        print("\nDEMO FAILED: %s" % failure, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; the sandbox was stopped.", file=sys.stderr)
        return 130
    print("\nDemo complete: plan, apply, and a second apply with no change.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
