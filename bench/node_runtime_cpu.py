#!/usr/bin/env python3
"""bench/node_runtime_cpu.py — CPU the Node runtime itself spends per invocation (issue 13).

Runs harness/runtimes/node/bootstrap.js (or the bootstraps given) on
fuzz-nested-node's handler against a minimal Runtime API written here (one
keep-alive socket, answers as coldsec-lab gives them), with and without a
coverage file, and reports the bootstrap process's user + system CPU per
invocation: (CPU after --long - CPU after --short) / (--long - --short), so
start-up and the handler's load cancel out. CPU time, not wall time: it
holds on a loaded machine, where `coldsec fuzz` inputs/s do not, since those
also pay for the lab and the fuzzer. Only 127.0.0.1 is used.

usage: bench/node_runtime_cpu.py [--short 300] [--long 3000] [--rounds 2] [BOOTSTRAP.js ...]
  e.g. git show REV:harness/runtimes/node/bootstrap.js > /tmp/old/node/bootstrap.js, then
       bench/node_runtime_cpu.py harness/runtimes/node/bootstrap.js /tmp/old/node/bootstrap.js
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASK_ROOT = os.path.join(ROOT, "harness", "functions", "fuzz-nested-node")
EVENTS = [json.dumps(e).encode() for e in (
    {"user_id": "u-1", "item": "book", "quantity": 1},
    {"user_id": "root", "item": "admin", "quantity": 65536},
    {"user_id": "x", "item": "admin", "quantity": 5},
    {"user_id": "u", "item": "b", "quantity": "7"},
    [1, 2])]


class Conn:
    """The server side of the runtime's one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def read_request(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(self.buf) < length:
            self._fill()
        self.buf = self.buf[length:]
        return head.split(b" ", 1)[0]


def run_once(bootstrap, n, coverage, scratch):
    """CPU seconds (user + system) the bootstrap used for n invocations."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LAMBDA_TASK_ROOT": TASK_ROOT,
           "_HANDLER": "index.handler", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % ls.getsockname()[1]}
    if coverage:
        cov = os.path.join(scratch, "coverage.cov")
        with open(cov, "wb") as f:
            f.write(b"CSCOV001" + bytes(8) + bytes(65536))
        env["COLDSEC_COVERAGE"] = cov
    # The heap flags coldsec-lab gives a 128 MB function.
    p = subprocess.Popen(["node", "--max-semi-space-size=6", "--max-old-space-size=116", bootstrap], env=env,
                         cwd=TASK_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ls.settimeout(60)
    try:
        sock, _ = ls.accept()
    except OSError:
        p.kill()
        p.wait()
        ls.close()
        raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c = Conn(sock)
    done = served = 0
    try:
        while done < n:
            if c.read_request() == b"GET":
                body = EVENTS[served % len(EVENTS)]
                served += 1
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Lambda-Runtime-Aws-Request-Id: r%d\r\nLambda-Runtime-Deadline-Ms: %d\r\n"
                             b"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\n"
                             b"Content-Length: %d\r\n\r\n" % (served, int(time.time() * 1000) + 60000, len(body))
                             + body)
            else:
                sock.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")
                done += 1
    finally:
        sock.close()
        ls.close()
    # The runtime exits once its Runtime API is gone.
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", type=int, default=300)
    ap.add_argument("--long", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("bootstraps", nargs="*", default=[os.path.join(ROOT, "harness", "runtimes", "node", "bootstrap.js")])
    a = ap.parse_args()
    a.bootstraps = [os.path.abspath(b) for b in a.bootstraps]  # node runs in the task root
    scratch = tempfile.mkdtemp(prefix="coldsec-bench-nodecpu-")
    try:
        print("| bootstrap | coverage | round | CPU per invocation (µs) |")
        print("| --- | --- | --- | --- |")
        for rnd in range(1, a.rounds + 1):
            for b in a.bootstraps:
                for coverage in (True, False):
                    lo = run_once(b, a.short, coverage, scratch)
                    hi = run_once(b, a.long, coverage, scratch)
                    us = (hi - lo) / (a.long - a.short) * 1e6
                    print(f"| {os.path.relpath(b, ROOT)} | {'on' if coverage else 'off'} | {rnd} | {us:.0f} |",
                          flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
