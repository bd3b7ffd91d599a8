"""Benchmark: playbooks/fleet_health.yml over many tenants, against a sandbox it starts itself.

    python bench/fleet_health.py [--tenants N] [--forks F ...]

It adds N tenants to the sandbox (default 8, the default tenant included), configures them all in
one run of playbooks/configure_azure_sync.yml (not timed), then runs the fleet health playbook once
per --forks value and prints the wall time of the run, the seconds per tenant, and the requests per
tenant the run made to Graph, the sign-in host and modusCloud (from {control_url}/stats). These are
the figures docs/many-tenants.md uses to size forks and AWX job slices. The figures are printed, not
asserted: a benchmark reports, tests decide.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a script from bench/: the sandbox package lives at the repository root

from sandbox.launch import RunningSandbox, SandboxStartError, role_vars  # noqa: E402 (needs ROOT on sys.path)

COLLECTIONS = os.path.join(ROOT, ".build", "collections")
PLAYBOOKS = os.path.join(ROOT, "playbooks")


def tenant_vars(info):
    return dict(role_vars(info), ansible_connection="local")


def playbook(name, inventory, workdir, forks, extra=None):
    command = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "-i",
        inventory,
        os.path.join(PLAYBOOKS, name + ".yml"),
        "--forks",
        str(forks),
    ]
    if extra:
        command += ["-e", json.dumps(extra)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    started = time.monotonic()
    completed = subprocess.run(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (name, completed.stdout[-4000:]))
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=8, help="how many tenants (default 8)")
    parser.add_argument("--forks", type=int, action="append", help="forks to measure (repeatable; default 1, 4, 8)")
    options = parser.parse_args()
    forks_list = options.forks or [1, 4, 8]

    with tempfile.TemporaryDirectory(prefix="bench-fleet-health-") as workdir:
        try:
            sandbox = RunningSandbox.start(workdir)
        except SandboxStartError as error:
            raise SystemExit(str(error))
        with sandbox:
            infos = [sandbox.info] + [sandbox.control("POST", "/tenants", json={"name": "bench%d" % number}) for number in range(1, options.tenants)]
            inventory = os.path.join(workdir, "inventory.json")
            with open(inventory, "w") as handle:
                json.dump({"all": {"hosts": dict(("tenant%02d" % number, tenant_vars(info)) for number, info in enumerate(infos))}}, handle)
            print("Configuring %d tenants in one run (not timed) ..." % len(infos), flush=True)
            playbook("configure_azure_sync", inventory, workdir, max(forks_list))
            sandbox.advance_clock(1)  # every organization's scheduled sync runs once

            print("\n%-6s %8s %8s %15s %15s %15s" % ("forks", "seconds", "s/tenant", "Graph req/tenant", "sign-in/tenant", "modusCloud/tenant"))
            for forks in forks_list:
                before = sandbox.stats()["by_service"]
                seconds = playbook("fleet_health", inventory, workdir, forks, {"fleet_health_dir": os.path.join(workdir, "reports")})
                after = sandbox.stats()["by_service"]
                per = dict(
                    (service, (after[service]["requests"] - before[service]["requests"]) / float(len(infos))) for service in ("graph", "login", "moduscloud")
                )
                print(
                    "%-6d %8.1f %8.2f %15.1f %15.1f %15.1f" % (forks, seconds, seconds / len(infos), per["graph"], per["login"], per["moduscloud"]), flush=True
                )
            print("\n%d tenants, %d CPU cores on this machine." % (len(infos), os.cpu_count() or 0))


if __name__ == "__main__":
    main()
