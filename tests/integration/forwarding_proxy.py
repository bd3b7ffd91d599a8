"""A real forwarding proxy (proxy.py, from PyPI) for the tests: started on a free port, its access log kept,
stopped by its process id. Upstream it connects from 127.0.0.2 (proxy_source_address.py), which the
sandbox's journal shows as the peer of every request that came through it.
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY_PEER = "127.0.0.2"


class ForwardingProxy(object):
    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.log_file = os.path.join(self.workdir, "proxy-access.log")
        self.port_file = os.path.join(self.workdir, "proxy.port")
        self.process = None
        self.url = None

    def __enter__(self):
        env = dict(os.environ, PYTHONPATH=HERE)
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proxy",
                "--hostname",
                "127.0.0.1",
                "--port",
                "0",
                "--port-file",
                self.port_file,
                "--plugins",
                "proxy_source_address.SourceAddress",
                "--num-acceptors",
                "1",
                "--num-workers",
                "1",
                "--log-level",
                "INFO",
                "--log-file",
                self.log_file,
            ],
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not (os.path.exists(self.port_file) and open(self.port_file).read().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the forwarding proxy did not start")
            time.sleep(0.1)
        self.url = "http://127.0.0.1:%s" % open(self.port_file).read().strip()
        return self

    def tunnels(self):
        """The CONNECT lines of the proxy's access log (one per tunnel it opened)."""
        if not os.path.exists(self.log_file):
            return []
        with open(self.log_file) as handle:
            return [line for line in handle if " - CONNECT " in line]

    def __exit__(self, *exc_info):
        # proxy.py runs its acceptors in child processes: stop the whole process group it leads.
        if self.process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
