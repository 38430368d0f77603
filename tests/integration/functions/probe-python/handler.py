"""probe-python: the integration tests' harmless probe handler (handler.handler).

Each invocation runs one action named by the event's "action" and reports
what it observed about its own execution environment; the tests compare
those observations with what Lambda promises. Every answer carries:
  env_id      random hex drawn at import: one per execution environment
  count       invocations this environment has served (module state)
  prev_token  the "token" of the previous event this environment served
  request_id  context.aws_request_id
Actions (event fields in brackets):
  info                          the common fields only (the default)
  env [names]                   values of the named environment variables
  context                       the context object's attributes
  tmp_write [name, data]        writes /tmp/<name>
  tmp_read [name]               reads /tmp/<name> (null when absent)
  tmp_isolation [token, sleep]  writes /tmp/iso-<token>, sleeps, lists /tmp/iso-*
  write_outside [paths]         tries to create each path; reports errno, removes
                                what it managed to create
  connect [host, port, timeout] opens and closes one TCP connection
  listen [port]                 keeps a listening socket on 127.0.0.1:<port>
  processes                     the processes this environment can see
  fds                           this process's open descriptors: what each is
                                (readlink) and the inodes of its TCP sockets
  sleep [seconds]               sleeps
  exit [code]                   os._exit(code) without answering
  kill_self [signal]            sends itself a signal
  alloc [mb, hold_s]            allocates and touches mb MB, holds it hold_s s
  flood [bytes]                 writes that many bytes to stdout
  print [text]                  prints text (for log tests)
  echo_len [pad]                the length of event["pad"]
  thread_start                  starts a thread that ticks every 10 ms
  thread_read [sleep]           tick count at start (and after sleeping)
  raise [message]               raises ProbeError(message)
Nothing here reaches outside its environment except `connect`, which only
opens and closes a connection to the address the test names.
"""
import errno
import os
import signal
import socket
import sys
import threading
import tempfile
import time
import uuid

ENV_ID = uuid.uuid4().hex
_count = 0
_last_token = None
_listeners = []
_ticks = 0
_ticker = None

# Init output: the first invocation's log tail must hold it.
print(f"PROBE-INIT env={ENV_ID}", flush=True)


class ProbeError(Exception):
    """The exception the `raise` action throws (its errorType on the wire)."""


def _tick():
    global _ticks
    while True:
        time.sleep(0.01)
        _ticks += 1


def _errno_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else None


def _try_create(path):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        return {"created": False, "errno": e.errno, "errno_name": _errno_name(e), "error": str(e)}
    os.close(fd)
    try:
        os.unlink(path)
    except OSError:
        pass
    return {"created": True, "errno": None, "errno_name": None, "error": None}


def _connect(host, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        return {"connected": True, "errno": None, "errno_name": None, "error": None}
    except socket.timeout as e:
        return {"connected": False, "errno": errno.ETIMEDOUT, "errno_name": "ETIMEDOUT", "error": str(e)}
    except OSError as e:
        return {"connected": False, "errno": e.errno, "errno_name": _errno_name(e), "error": str(e)}
    finally:
        s.close()


def _processes():
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        out.append({"pid": int(d), "comm": comm})
    return out


def _fds():
    fds = {}
    for d in os.listdir("/proc/self/fd"):
        try:
            fds[d] = os.readlink(f"/proc/self/fd/{d}")
        except OSError:
            pass  # the listing's own descriptor, closed by now
    tcp = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                tcp.update(line.split()[9] for line in f)
        except OSError:
            pass
    return {"fds": fds, "tcp_inodes": sorted(tcp)}


def _action(action, event, context):
    global _ticker
    if action == "info":
        return {}
    if action == "env":
        return {"env": {n: os.environ.get(n) for n in event.get("names", [])},
                "cwd": os.getcwd(), "file": os.path.abspath(__file__)}
    if action == "context":
        return {"function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": str(context.memory_limit_in_mb),
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining_ms": context.get_remaining_time_in_millis()}
    if action == "tmp_write":
        with open(os.path.join("/tmp", event["name"]), "w") as f:
            f.write(event["data"])
        return {"written": True}
    if action == "tmp_read":
        try:
            with open(os.path.join("/tmp", event["name"])) as f:
                return {"data": f.read()}
        except FileNotFoundError:
            return {"data": None}
    if action == "tmp_isolation":
        with open(f"/tmp/iso-{event['token']}", "w") as f:
            f.write(ENV_ID)
        time.sleep(float(event.get("sleep", 1.0)))
        return {"seen": sorted(n for n in os.listdir("/tmp") if n.startswith("iso-"))}
    if action == "tempdir_isolation":
        # Like tmp_isolation, in the TMPDIR the lab gives (the fallback's /tmp).
        d = tempfile.gettempdir()
        with open(os.path.join(d, f"iso-{event['token']}"), "w") as f:
            f.write(ENV_ID)
        time.sleep(float(event.get("sleep", 1.0)))
        return {"tmpdir": d, "runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
                "seen": sorted(n for n in os.listdir(d) if n.startswith("iso-"))}
    if action == "statvfs":
        st = os.statvfs(event["path"])
        return {"bytes": st.f_blocks * st.f_frsize}
    if action == "write_outside":
        return {"results": {p: _try_create(p) for p in event["paths"]}}
    if action == "connect":
        return _connect(event.get("host", "127.0.0.1"), int(event["port"]),
                        float(event.get("timeout", 2.0)))
    if action == "listen":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", int(event.get("port", 0))))
        except OSError as e:
            s.close()
            return {"listening": False, "errno": e.errno, "errno_name": _errno_name(e)}
        s.listen(16)
        _listeners.append(s)  # kept open for the environment's life
        time.sleep(float(event.get("sleep", 0)))
        return {"listening": True, "port": s.getsockname()[1]}
    if action == "fds":
        return _fds()
    if action == "processes":
        return {"processes": _processes(), "pid": os.getpid()}
    if action == "sleep":
        time.sleep(float(event["seconds"]))
        return {"slept": float(event["seconds"])}
    if action == "exit":
        sys.stdout.flush()
        os._exit(int(event["code"]))
    if action == "kill_self":
        sys.stdout.flush()
        os.kill(os.getpid(), int(event.get("signal", signal.SIGKILL)))
        time.sleep(5)
        return {"survived": True}
    if action == "alloc":
        chunk = 8 * 1024 * 1024
        held = []
        for _ in range(int(event["mb"]) // 8):
            held.append(b"\x01" * chunk)  # bytes repetition writes every page
        time.sleep(float(event.get("hold_s", 0)))
        return {"allocated_mb": len(held) * 8}
    if action == "flood":
        total = int(event["bytes"])
        line = b"F" * 1023 + b"\n"
        block = line * 64
        written = 0
        while written < total:
            piece = block[: total - written]
            written += os.write(1, piece)
        return {"written": written}
    if action == "print":
        print(event["text"], flush=True)
        return {"printed": True}
    if action == "echo_len":
        return {"len": len(event.get("pad", ""))}
    if action == "thread_start":
        if _ticker is None:
            _ticker = threading.Thread(target=_tick, daemon=True)
            _ticker.start()
        return {"ticks": _ticks}
    if action == "thread_read":
        before = _ticks
        time.sleep(float(event.get("sleep", 0)))
        return {"ticks": before, "ticks_after": _ticks}
    if action == "raise":
        raise ProbeError(event.get("message", "probe failure"))
    raise ValueError(f"unknown action {action!r}")


def handler(event, context):
    global _count, _last_token
    _count += 1
    if not isinstance(event, dict):
        event = {"action": "info", "raw": event}
    prev = _last_token
    _last_token = event.get("token")
    result = {"env_id": ENV_ID, "count": _count, "prev_token": prev,
              "request_id": getattr(context, "aws_request_id", None)}
    result.update(_action(event.get("action", "info"), event, context))
    return result
