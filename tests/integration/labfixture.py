"""labfixture — starts coldsec-lab for an integration test and talks to it.

A test class describes the functions it needs (fn(...)), starts one Lab in
setUpClass and stops it in tearDownClass:

    lab = Lab([fn("probe")]).start()   # port 0, temp --log-dir, readiness line
    r = lab.invoke("probe", {"action": "info"})   # boto3, LogType=Tail
    lab.raw("POST", "/2015-03-31/functions/probe/invocations", b"{}")
    lab.stop()                                    # TERM, then KILL; checks

Starting: writes the YAML config into a temp folder (code folders are given
relative to it, as the lab resolves them), runs
`$COLDSEC_BUILD/coldsec-lab --config FILE --listen 127.0.0.1:0 --log-dir DIR`
and waits for the one readiness line on stdout; if it does not come in time
the failure carries the lab's stderr.

Stopping (style.md: "TERM then KILL, unexpected signals fail the test"):
SIGTERM, wait, SIGKILL after a timeout; it fails if the lab needed the KILL,
died of a signal, exited non-zero, wrote more than the one line to stdout,
or left any process behind, or its state folder (the lab runs with TMPDIR
in the test's own folder unless lab_env names one). Every function's
environment carries a marker variable unique to this lab
(COLDSEC_TEST_LAB_MARKER), so a process that escaped the lab's process tree
is still found by scanning /proc.

Scratch folders: tmp_dir(prefix[, test]) makes $TMPDIR/coldsec-PREFIX-*,
removed after the test or when the test process exits; every folder a test
makes is named coldsec-* (tests/run.sh fails a run that leaves one in /tmp).

Also here: boto3 clients (retries off, wide connection pool), a raw SigV4
request helper (botocore's SigV4Auth over an AWSRequest, sent with
http.client) for malformed and edge requests, log-tail parsing (START, END,
REPORT) and /proc views of the lab (children, fds, zombies, threads, RSS).
"""
import atexit
import base64
import concurrent.futures
import datetime
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FUNCTIONS = os.path.join(HERE, "functions")
PROBE_PY = os.path.join(FUNCTIONS, "probe-python")
PROBE_NODE = os.path.join(FUNCTIONS, "probe-node")
HARNESS_FUNCTIONS = os.path.join(REPO, "harness", "functions")

DEFAULT_KEY = "AKIDCOLDSECLAB"
DEFAULT_SECRET = "coldsec-lab-secret"
REGION = "us-east-1"
ACCOUNT = "000000000000"
READY_RE = re.compile(r"^coldsec-lab listening on http://127\.0\.0\.1:(\d+)\n$")
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
START_RE = re.compile(r"^START RequestId: (" + UUID_RE + r") Version: \$LATEST$", re.M)
END_RE = re.compile(r"^END RequestId: (" + UUID_RE + r")$", re.M)
MB = 1024 * 1024


def build_dir():
    b = os.environ.get("COLDSEC_BUILD", "build")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def lab_binary():
    return os.path.join(build_dir(), "coldsec-lab")


def hello_c_dir():
    """The built `provided` C sample (the Makefile builds it under build/
    even for sanitizer builds); None when it has not been built."""
    for d in (os.path.join(build_dir(), "functions", "hello-c"),
              os.path.join(REPO, "build", "functions", "hello-c")):
        if os.access(os.path.join(d, "bootstrap"), os.X_OK):
            return d
    return None


def fn(name, runtime="python3.11", handler="handler.handler", code=PROBE_PY,
       memory_mb=128, timeout_s=3, environment=None, reserved_concurrency=None,
       idle_timeout_s=None, max_age_s=None, network=None, description=None,
       max_concurrency=None, environments=None):
    """One function of a test config (the lab's YAML keys, nothing else:
    the lab refuses unknown keys)."""
    f = {"name": name, "runtime": runtime, "handler": handler, "code": code,
         "memory_mb": memory_mb, "timeout_s": timeout_s,
         "environment": dict(environment or {})}
    for k, v in (("reserved_concurrency", reserved_concurrency),
                 ("idle_timeout_s", idle_timeout_s), ("max_age_s", max_age_s),
                 ("network", network), ("description", description),
                 ("max_concurrency", max_concurrency), ("environments", environments)):
        if v is not None:
            f[k] = v
    return f


_scratch_dirs = []


@atexit.register
def _remove_scratch_dirs():
    for d in _scratch_dirs:
        shutil.rmtree(d, ignore_errors=True)


def tmp_dir(prefix, test=None):
    """A new private folder in $TMPDIR named coldsec-PREFIX-XXXXXXXX (tests/run.sh
    fails a run that leaves coldsec-* in /tmp): removed after the test when
    test (a TestCase) is given, else when the test process exits (for helpers
    that build an environment or an output folder outside any test)."""
    d = tempfile.mkdtemp(prefix=prefix if prefix.startswith("coldsec-") else f"coldsec-{prefix}")
    if test is not None:
        test.addCleanup(shutil.rmtree, d, True)
    else:
        _scratch_dirs.append(d)
    return d


def unique(prefix="m"):
    """A unique marker string (for a function's environment, file names...)."""
    return f"{prefix}-{uuid.uuid4().hex}"


def runtime_procs(marker):
    """The processes carrying marker other than bubblewrap itself: the
    runtime (and anything it started)."""
    return [p for p in processes_with(marker) if p.comm != "bwrap"]


def _q(s):
    return json.dumps(str(s))  # a JSON string is a valid double-quoted YAML scalar


def render_config(functions, base_dir, region=REGION, account_id=ACCOUNT,
                  credentials=None, update_delay_ms=None, account_concurrency=None):
    lines = [f"region: {_q(region)}", f"account_id: {_q(account_id)}"]
    if update_delay_ms is not None:
        lines.append(f"update_delay_ms: {int(update_delay_ms)}")
    if account_concurrency is not None:
        lines.append(f"account_concurrency: {int(account_concurrency)}")
    if credentials is not None:
        lines.append("credentials:")
        for ak, sk in credentials:
            lines.append(f"  - access_key_id: {_q(ak)}")
            lines.append(f"    secret_access_key: {_q(sk)}")
    lines.append("functions:")
    for f in functions:
        lines.append(f"  - name: {_q(f['name'])}")
        lines.append(f"    runtime: {_q(f['runtime'])}")
        if f.get("handler") is not None:
            lines.append(f"    handler: {_q(f['handler'])}")
        code = f["code"]
        if os.path.isabs(code):
            code = os.path.relpath(code, base_dir)
        lines.append(f"    code: {_q(code)}")
        for k in ("memory_mb", "timeout_s", "reserved_concurrency", "idle_timeout_s", "max_age_s",
                  "max_concurrency", "environments"):
            if k in f:
                lines.append(f"    {k}: {int(f[k])}")
        if "description" in f:
            lines.append(f"    description: {_q(f['description'])}")
        if "network" in f:
            lines.append(f"    network: {f['network']}")
        if f["environment"]:
            lines.append("    environment:")
            for k, v in f["environment"].items():
                lines.append(f"      {k}: {_q(v)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# /proc views


class Proc:
    __slots__ = ("pid", "ppid", "state", "comm", "starttime", "threads")

    def __init__(self, pid, ppid, state, comm, starttime, threads):
        self.pid, self.ppid, self.state, self.comm = pid, ppid, state, comm
        self.starttime, self.threads = starttime, threads

    def __repr__(self):
        return f"<pid {self.pid} ppid {self.ppid} {self.state} {self.comm}>"


def read_proc(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    lp, rp = data.find("("), data.rfind(")")
    rest = data[rp + 2:].split()
    return Proc(int(pid), int(rest[1]), rest[0], data[lp + 1:rp], int(rest[19]), int(rest[17]))


def proc_table():
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            p = read_proc(d)
            if p is not None:
                table[p.pid] = p
    return table


def descendants(pid, table=None):
    """Every process below pid in the process tree (not pid itself)."""
    table = table or proc_table()
    children = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c.pid)
    return out


def processes_with(marker):
    """Processes (other than this one) whose environment or command line
    holds marker."""
    needle = marker.encode()
    found = []
    for p in proc_table().values():
        if p.pid == os.getpid():
            continue
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{p.pid}/{part}", "rb") as f:
                    if needle in f.read():
                        found.append(p)
                        break
            except OSError:
                pass
    return found


def still_running(procs):
    """Those of procs (seen earlier) that still exist: same pid, same start."""
    out = []
    for p in procs:
        q = read_proc(p.pid)
        if q is not None and q.starttime == p.starttime:
            out.append(q)
    return out


def wait_for(predicate, timeout, interval=0.05):
    """Polls predicate until it returns a true value or timeout passes;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Log tails


def parse_report(log, request_id=None):
    """The REPORT line's fields, {"RequestId": ..., "Duration": "1.23 ms", ...},
    with "_raw" holding the line; None when there is none."""
    for line in log.split("\n"):
        if not line.startswith("REPORT RequestId: "):
            continue
        fields = line.split("\t")
        out = {"_raw": line}
        for part in fields:
            if not part:
                continue
            k, sep, v = part.partition(": ")
            if k == "REPORT RequestId":
                k = "RequestId"
            out[k] = v if sep else None
        if request_id is None or out.get("RequestId") == request_id:
            return out
    return None


class Invocation:
    """One Invoke's answer, as seen through boto3."""

    def __init__(self, resp, elapsed):
        self.resp = resp
        self.elapsed = elapsed
        self.status = resp["StatusCode"]
        self.body = resp["Payload"].read() if "Payload" in resp else b""
        self.function_error = resp.get("FunctionError")
        self.version = resp.get("ExecutedVersion")
        self.request_id = resp.get("ResponseMetadata", {}).get("RequestId")
        self.headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        lr = resp.get("LogResult")
        self.log_raw = base64.b64decode(lr) if lr is not None else None
        self.log = self.log_raw.decode("utf-8", "replace") if lr is not None else None

    @property
    def payload(self):
        return json.loads(self.body) if self.body else None

    @property
    def report(self):
        return parse_report(self.log or "")

    @property
    def start_id(self):
        m = START_RE.search(self.log or "")
        return m.group(1) if m else None

    @property
    def init_duration(self):
        rep = self.report
        if rep is None or "Init Duration" not in rep:
            return None
        return float(rep["Init Duration"].split()[0])

    @property
    def cold(self):
        return self.init_duration is not None

    def __repr__(self):
        return (f"<Invocation {self.status} error={self.function_error} body={self.body[:300]!r} "
                f"log={(self.log or '')[-600:]!r}>")


class Raw:
    """A raw HTTP answer."""

    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    @property
    def error_type(self):
        """x-amzn-ErrorType as botocore reads it: before the first ':' and
        after the last '#'."""
        v = self.header("x-amzn-ErrorType")
        if v is None:
            return None
        return v.split(":")[0].split("#")[-1]

    @property
    def message(self):
        try:
            b = self.json()
        except ValueError:
            return None
        return b.get("message", b.get("Message"))

    def __repr__(self):
        return f"<Raw {self.status} {self.reason} {self.headers} {self.body[:400]!r}>"


class _FixedTimeSigV4(botocore.auth.SigV4Auth):
    """SigV4Auth with a chosen signing time (for clock-skew tests)."""

    def __init__(self, credentials, service, region, when):
        super().__init__(credentials, service, region)
        self._when = when

    def add_auth(self, request):
        request.context["timestamp"] = self._when.strftime(botocore.auth.SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        sts = self.string_to_sign(request, canonical)
        self._inject_signature_to_request(request, self.signature(sts, request))


_live_labs = set()


@atexit.register
def _kill_leftover_labs():
    for lab in list(_live_labs):
        lab.kill()


class LabError(AssertionError):
    pass


class Lab:
    """One coldsec-lab process for a test class."""

    def __init__(self, functions, credentials=None, region=REGION, account_id=ACCOUNT,
                 update_delay_ms=None, sandbox=None, config_text=None, ready_timeout=20,
                 extra_args=(), lab_env=None, log_dir=True, account_concurrency=None):
        self.marker = "coldsec-test-" + uuid.uuid4().hex
        self.account_concurrency = account_concurrency
        self.functions = {}
        for f in functions:
            f = dict(f)
            f["environment"] = dict(f["environment"], COLDSEC_TEST_LAB_MARKER=self.marker)
            self.functions[f["name"]] = f
        self.credentials = credentials
        self.key, self.secret = (credentials[0] if credentials else (DEFAULT_KEY, DEFAULT_SECRET))
        self.region, self.account_id = region, account_id
        self.update_delay_ms = update_delay_ms
        self.sandbox = sandbox
        self.config_text = config_text
        self.ready_timeout = ready_timeout
        self.extra_args = list(extra_args)
        self.lab_env = dict(lab_env or {})
        self.keep_logs = log_dir  # False: no --log-dir (the streams live in the lab's state folder)
        self.proc = None
        self.port = None
        self.url = None
        self.stdout_lines = []
        self.returncode = None
        self._clients = {}
        self._lock = threading.Lock()

    # -- life ---------------------------------------------------------------

    def arn(self, name):
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def env_of(self, name, **extra):
        """A function's configured environment (marker included) plus extra:
        what an UpdateFunctionConfiguration must send to keep the marker."""
        return dict(self.functions[name]["environment"], **extra)

    def start(self):
        binary = lab_binary()
        if not os.access(binary, os.X_OK):
            raise LabError(f"{binary} is missing: build it with `make` (COLDSEC_BUILD={build_dir()})")
        self.tmp = tempfile.mkdtemp(prefix="coldsec-lab-test-")
        self.log_dir = os.path.join(self.tmp, "logs")
        os.mkdir(self.log_dir)
        self.config_path = os.path.join(self.tmp, "lab.yaml")
        text = self.config_text
        if text is None:
            text = render_config(self.functions.values(), self.tmp, self.region, self.account_id,
                                 self.credentials, self.update_delay_ms, self.account_concurrency)
        with open(self.config_path, "w") as f:
            f.write(text)
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        # The lab's own TMPDIR (unless the test gives one): its state folder
        # goes there, so stop() can check the lab removed it and a killed
        # lab's folder goes with self.tmp.
        env = dict(os.environ, **self.lab_env)
        self.lab_tmp = None
        if "TMPDIR" not in self.lab_env:
            self.lab_tmp = env["TMPDIR"] = os.path.join(self.tmp, "tmp")
            os.mkdir(self.lab_tmp)
        args = [binary, "--config", self.config_path, "--listen", "127.0.0.1:0"]
        if self.keep_logs:
            args += ["--log-dir", self.log_dir]
        if self.sandbox:
            args += ["--sandbox", self.sandbox]
        args += self.extra_args
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, cwd=self.tmp, env=env)
        _live_labs.add(self)
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.ready_timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                break
        if not self.stdout_lines:
            rc = self.proc.poll()
            why = (f"exited with status {rc}" if rc is not None
                   else f"printed no readiness line within {self.ready_timeout}s")
            tail = self.stderr_tail()
            self.kill()
            raise LabError(f"coldsec-lab {why}; stderr:\n{tail}")
        m = READY_RE.match(self.stdout_lines[0])
        if not m:
            tail = self.stderr_tail()
            self.kill()
            raise LabError(f"bad readiness line {self.stdout_lines[0]!r}; stderr:\n{tail}")
        self.port = int(m.group(1))
        if self.port == 0:
            self.kill()
            raise LabError("readiness line names port 0")
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def _read_stdout(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.stdout_lines.append(line.decode("utf-8", "replace"))
            self._ready.set()
        self._ready.set()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def stderr_tail(self, n=6000):
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - n))
                return f.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return "(no stderr)"

    def kill(self):
        """Emergency stop (no checks): SIGKILL to the lab, then to any process
        carrying this lab's marker (by pid). Only processes this test started."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for p in processes_with(self.marker):
            try:
                os.kill(p.pid, signal.SIGKILL)
            except OSError:
                pass
        self._cleanup()

    def _cleanup(self):
        _live_labs.discard(self)
        for c in self._clients.values():
            c.close()
        self._clients.clear()
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
            self._stderr = None
        if getattr(self, "tmp", None) and not os.environ.get("COLDSEC_KEEP_LAB_DIRS"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def stop(self, sig=signal.SIGTERM, timeout=20, settle=5):
        """Stops the lab with sig and checks that it went cleanly: exit status
        0 (no signal, no KILL needed), nothing more on stdout, and no process
        left: neither one it had below it nor one carrying its marker, within
        settle seconds of its exit. settle=0 checks the instant it has exited:
        the lab reaps its whole tree before it exits, so anything of it still
        in /proc then (a zombie too) was handed to init instead.
        Returns how long the stop took."""
        if self.proc is None or self.returncode is not None:
            return 0.0
        if self.proc.poll() is not None:
            self.returncode = self.proc.returncode
            tail = self.stderr_tail()
            self.kill()
            raise LabError(f"coldsec-lab had already exited (status {self.returncode}) "
                           f"before it was stopped; stderr:\n{tail}")
        before = descendants(self.pid)
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        problems = []
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
            problems.append(f"did not exit within {timeout}s of {sig.name}: needed SIGKILL")
        took = time.monotonic() - t0
        self._reader.join(5)
        if not problems and self.returncode < 0:
            problems.append(f"died of signal {-self.returncode} after {sig.name}")
        elif not problems and self.returncode != 0:
            problems.append(f"exited with status {self.returncode} after {sig.name}")
        if len(self.stdout_lines) != 1:
            problems.append(f"stdout held {len(self.stdout_lines)} lines, not exactly the "
                            f"readiness line: {self.stdout_lines[:5]!r}")
        clean = wait_for(lambda: not (still_running(before) or processes_with(self.marker)), settle)
        if not clean:
            problems.append(f"left processes behind: tree {still_running(before)}, "
                            f"marked {processes_with(self.marker)}")
        if self.lab_tmp and os.listdir(self.lab_tmp):
            problems.append(f"left its state folder behind: {sorted(os.listdir(self.lab_tmp))} in {self.lab_tmp}")
        if problems:
            tail = self.stderr_tail()
            self.kill()
            raise LabError("coldsec-lab " + "; ".join(problems) + f"; stderr:\n{tail}")
        self._cleanup()
        return took

    # -- /proc views of the lab ----------------------------------------------

    def children(self):
        return descendants(self.pid)

    def zombies(self):
        return [p for p in self.children() if p.state == "Z"]

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def fds(self):
        out = {}
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                out[int(fd)] = os.readlink(f"/proc/{self.pid}/fd/{fd}")
            except OSError:
                pass
        return out

    def status_field(self, name):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split(":", 1)[1].strip()
        return None

    def threads(self):
        return int(self.status_field("Threads"))

    def rss_kb(self):
        return int(self.status_field("VmRSS").split()[0])

    def hwm_kb(self):
        return int(self.status_field("VmHWM").split()[0])

    # -- clients --------------------------------------------------------------

    def client(self, access_key=None, secret=None, region=None, read_timeout=60):
        key = (access_key or self.key, secret or self.secret, region or self.region, read_timeout)
        with self._lock:
            c = self._clients.get(key)
            if c is None:
                session = boto3.session.Session(aws_access_key_id=key[0], aws_secret_access_key=key[1],
                                                region_name=key[2])
                c = session.client(
                    "lambda", endpoint_url=self.url,
                    config=botocore.config.Config(
                        retries={"total_max_attempts": 1, "mode": "standard"},
                        read_timeout=read_timeout, connect_timeout=5,
                        max_pool_connections=64, parameter_validation=True))
                self._clients[key] = c
            return c

    def invoke(self, name, event=None, payload=None, tail=True, invocation_type="RequestResponse",
               qualifier=None, client=None):
        """Invokes through boto3; returns an Invocation (boto3 raises
        ClientError for service errors)."""
        if payload is None:
            payload = json.dumps(event if event is not None else {}).encode()
        kw = {"FunctionName": name, "InvocationType": invocation_type, "Payload": payload}
        if tail:
            kw["LogType"] = "Tail"
        if qualifier is not None:
            kw["Qualifier"] = qualifier
        t0 = time.monotonic()
        resp = (client or self.client()).invoke(**kw)
        return Invocation(resp, time.monotonic() - t0)

    def invoke_parallel(self, name, events, client=None):
        """Invokes once per event, all released together by a barrier;
        returns the Invocations (or exceptions) in order."""
        barrier = threading.Barrier(len(events))

        def one(ev):
            barrier.wait()
            try:
                return self.invoke(name, ev, client=client)
            except Exception as e:  # noqa: BLE001 - returned to the test
                return e

        with concurrent.futures.ThreadPoolExecutor(len(events)) as ex:
            return list(ex.map(one, events))

    def wait_updated(self, name, client=None):
        (client or self.client()).get_waiter("function_updated").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def raw(self, method, path, body=b"", headers=None, query=None, sign=True,
            access_key=None, secret=None, region=None, service="lambda", when=None,
            timeout=30, tamper_body=None, tamper_headers=None, tamper_path=None):
        """One request over a fresh http.client connection. path is the wire
        path (percent-encoded as the caller wants it sent); query a wire query
        string without '?'. Signed with botocore's SigV4Auth unless sign is
        False; `when` fixes the signing time; tamper_body replaces the body
        after signing, tamper_headers overrides headers and tamper_path the
        path (query kept) after signing."""
        if isinstance(body, str):
            body = body.encode()
        target = path + (("?" + query) if query else "")
        headers = dict(headers or {})
        if sign:
            req = botocore.awsrequest.AWSRequest(method=method, url=self.url + target,
                                                 data=body, headers=headers)
            creds = botocore.credentials.Credentials(access_key or self.key, secret or self.secret)
            if when is None:
                auth = botocore.auth.SigV4Auth(creds, service, region or self.region)
            else:
                auth = _FixedTimeSigV4(creds, service, region or self.region, when)
            auth.add_auth(req)
            headers = dict(req.headers.items())
        if tamper_body is not None:
            body = tamper_body
        if tamper_headers:
            headers.update(tamper_headers)
        if tamper_path is not None:
            target = tamper_path + (("?" + query) if query else "")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Raw(r.status, r.reason, hdrs, data)
        finally:
            conn.close()

    def invocations_path(self, name):
        return f"/2015-03-31/functions/{name}/invocations"

    def send_bytes(self, data, timeout=10, read=True, shutdown=True):
        """Writes raw bytes on a fresh TCP connection and returns what came
        back before the lab closed it or timeout passed (b"" when nothing)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        got = b""
        try:
            try:
                s.sendall(data)
                if shutdown:
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the lab may close early on a bad request: read its answer
            if read:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        break
                    except ConnectionResetError:
                        break
                    if not chunk:
                        break
                    got += chunk
        finally:
            s.close()
        return got

    def find_log_files(self, name):
        """Full-log files of a function: {stream_name: path} where stream_name
        is "YYYY/MM/DD/[$LATEST]<32 hex>" relative to <log-dir>/<function>."""
        root = os.path.join(self.log_dir, name)
        out = {}
        pat = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                out[rel] = os.path.join(dirpath, f) if pat.match(rel) else None
        return out


# ---------------------------------------------------------------------------
# Assertions shared by the test modules


def assert_log_shape(tc, inv, memory_mb=None, cold=None, request_id=None):
    """The decoded tail holds START, END and REPORT for one request id in
    Lambda's format; returns the request id."""
    tc.assertIsNotNone(inv.log, f"no X-Amz-Log-Result: {inv!r}")
    tc.assertLessEqual(len(inv.log_raw), 4096, "X-Amz-Log-Result is more than the last 4 KB")
    starts = START_RE.findall(inv.log)
    tc.assertTrue(starts, f"no START line in {inv.log!r}")
    rid = starts[-1]
    if request_id is not None:
        tc.assertEqual(rid, request_id)
    tc.assertIn(rid, END_RE.findall(inv.log), f"no END line for {rid} in {inv.log!r}")
    rep = parse_report(inv.log, rid)
    tc.assertIsNotNone(rep, f"no REPORT line for {rid} in {inv.log!r}")
    raw = rep["_raw"]
    tc.assertTrue(raw.endswith("\t"), f"REPORT line lacks the trailing tab: {raw!r}")
    pat = (r"^REPORT RequestId: " + re.escape(rid) +
           r"\tDuration: (\d+\.\d{2}) ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB"
           r"\tMax Memory Used: (\d+) MB\t(?:Init Duration: (\d+\.\d{2}) ms\t)?$")
    m = re.match(pat, raw)
    tc.assertIsNotNone(m, f"REPORT line not in Lambda's format: {raw!r}")
    duration, billed = float(m.group(1)), int(m.group(2))
    tc.assertGreaterEqual(billed, max(1, math.ceil(duration)), raw)
    tc.assertLessEqual(billed, math.ceil(duration) + 1, raw)
    if memory_mb is not None:
        tc.assertEqual(int(m.group(3)), memory_mb, raw)
    tc.assertGreater(int(m.group(4)), 0, f"Max Memory Used is 0: {raw!r}")
    tc.assertLessEqual(int(m.group(4)), int(m.group(3)) + 64, raw)
    if cold is True:
        tc.assertIsNotNone(m.group(5), f"cold invocation without Init Duration: {raw!r}")
    elif cold is False:
        tc.assertIsNone(m.group(5), f"warm invocation with Init Duration: {raw!r}")
    return rid


def assert_ok(tc, inv):
    tc.assertEqual(inv.status, 200, repr(inv))
    tc.assertIsNone(inv.function_error, repr(inv))
    return inv.payload


def assert_client_error(tc, ctx, code, status, codes=None):
    """ctx: the assertRaises context of a botocore ClientError."""
    err = ctx.exception.response
    got = err.get("Error", {}).get("Code")
    if codes:
        tc.assertIn(got, codes, err)
    else:
        tc.assertEqual(got, code, err)
    tc.assertEqual(err.get("ResponseMetadata", {}).get("HTTPStatusCode"), status, err)
    return err


def assert_lab_healthy(tc, lab, name):
    """The lab process lives and still serves an invocation."""
    tc.assertTrue(lab.alive(), f"coldsec-lab died; stderr:\n{lab.stderr_tail()}")
    inv = lab.invoke(name, {"action": "info"}, tail=False)
    tc.assertEqual(inv.status, 200, repr(inv))
    tc.assertIsNone(inv.function_error, repr(inv))


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
