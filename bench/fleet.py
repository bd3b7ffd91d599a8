"""Benchmark: the main playbook for a fleet of tenants, first converge and idempotent rerun, with forks.

    python bench/fleet.py [--tenants N ...] [--forks F] [--latency-model default|off] [--breakdown]

Starts its own sandbox, adds N tenants to it (POST {control_url}/tenants; each has the default small
directory and its own modusCloud organization), writes an inventory with one host per tenant, as an MSP
would, and runs playbooks/configure_azure_sync.yml twice with `--forks F`: the first converge, then the
rerun that should change nothing. For each run it prints:

- **wall s** and **wall s/tenant**: the run's wall time, and divided by the tenants;
- **CPU s/tenant**: the CPU time of ansible-playbook and everything it started (its forks and the module
  processes), divided by the tenants: what a tenant costs this machine, whatever the forks;
- **requests/tenant** and **writes**: Graph and modusCloud requests from the sandbox's stats (HTTP round
  trips; requests inside a JSON batch count once, as the batch), and the write requests in total;
- **changed** and **failed**: totals over the play recap's hosts.

`--breakdown` also prints the requests of the rerun of one tenant by method and path, to see what is read
more than once. The figures are printed, not asserted (targets: a rerun of 100 tenants in 150 s with no
write and changed=0, at most 1.5 s of CPU per tenant).
"""

import argparse
import collections
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a script from bench/: the sandbox package lives at the repository root

from sandbox.launch import RunningSandbox, SandboxStartError, role_vars  # noqa: E402 (needs ROOT on sys.path)

COLLECTIONS = os.path.join(ROOT, ".build", "collections")
PLAYBOOK = os.path.join(ROOT, "playbooks", "configure_azure_sync.yml")
DEFAULT_TENANTS = (20, 100)
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, action="append", metavar="N",
                        help="fleet size to measure (repeatable; default: %s)" % " and ".join(map(str, DEFAULT_TENANTS)))
    parser.add_argument("--forks", type=int, default=20, help="ansible-playbook --forks (default 20)")
    parser.add_argument("--latency-model", choices=("default", "off"), default="default",
                        help="the sandbox's latency and throttling model (default: on)")
    parser.add_argument("--breakdown", action="store_true", help="print one tenant's rerun requests by endpoint")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as workdir:
        try:
            sandbox = RunningSandbox.start(workdir, "--latency-model", options.latency_model)
        except SandboxStartError as error:
            raise SystemExit(str(error))
        with sandbox:
            print("latency model: %s; forks %d" % (options.latency_model, options.forks))
            print("\n%-7s %-8s %7s %13s %12s %16s %7s %8s %7s" % (
                "tenants", "run", "wall s", "wall s/tenant", "CPU s/tenant", "requests/tenant", "writes", "changed",
                "failed"), flush=True)
            for count in options.tenants or DEFAULT_TENANTS:
                sandbox.reset()
                tenants = [sandbox.info] + [sandbox.control("POST", "/tenants", {"name": "t%03d" % index})
                                            for index in range(1, count)]
                inventory = os.path.join(workdir, "inventory-%d.json" % count)
                write_inventory(inventory, tenants)
                for run in ("converge", "rerun"):
                    since = last_journal_seq(sandbox)
                    row = measure(sandbox, inventory, options.forks, workdir)
                    print("%-7d %-8s %7.1f %13.2f %12.2f %16.1f %7d %8d %7d" % (
                        count, run, row["wall"], row["wall"] / count, row["cpu"] / count, row["requests"] / count,
                        row["writes"], row["changed"], row["failed"]), flush=True)
                    if row["failed"] or row["returncode"]:
                        print(row["tail"])
                    if options.breakdown and run == "rerun":
                        print_breakdown(sandbox, since)


def write_inventory(path, tenants):
    hosts = {}
    for info in tenants:
        hosts[info["moduscloud_org"]] = dict(role_vars(info), ansible_connection="local")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds secrets
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)


def last_journal_seq(sandbox):
    entries = sandbox.control("GET", "/journal")["entries"]
    return entries[-1]["seq"] if entries else 0


def measure(sandbox, inventory, forks, workdir):
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                       ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_HOST_KEY_CHECKING="0")
    before = sandbox.stats()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
                          "--forks", str(forks), PLAYBOOK], cwd=workdir, env=environment, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    wall = time.monotonic() - started
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = sandbox.stats()
    recap = RECAP.findall(run.stdout)
    return {"wall": wall,
            "cpu": (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime),
            "requests": after["requests"] - before["requests"], "writes": after["writes"] - before["writes"],
            "changed": sum(int(host[2]) for host in recap),
            "failed": sum(int(host[3]) + int(host[4]) for host in recap), "returncode": run.returncode,
            "tail": run.stdout[-4000:]}


def print_breakdown(sandbox, since):
    """One tenant's share of the rerun: requests by service, method and path (ids replaced by {id})."""
    entries = sandbox.control("GET", "/journal?since=%d" % since)["entries"]
    tenant_paths = collections.Counter()
    for entry in entries:
        if entry["service"] == "login" or entry.get("batch"):
            continue
        path = re.sub(r"/users/[^/]+@[^/]+", "/users/{address}", GUID.sub("{id}", entry["path"]))
        path = re.sub(r"/orgs/[^/]+", "/orgs/{org}", path)
        tenant_paths[(entry["service"], entry["method"], path)] += 1
    tenants = len(sandbox.state()["tenants"])
    print("  rerun requests per tenant by endpoint:")
    for (service, method, path), number in sorted(tenant_paths.items(), key=lambda item: -item[1]):
        print("  %6.1f  %-10s %-6s %s" % (number / tenants, service, method, path))


if __name__ == "__main__":
    main()
