"""mem-peak-python: how the lab counts an environment's memory (issue 13,
"Max Memory Used from the sandbox's peak").

Actions (event fields in brackets):
  noop                          nothing: the environment's baseline
  alloc [mb, hold_s]            allocates and touches mb MB here, holds it hold_s s
  workers_apart [mb, hold_s]    starts two worker processes that stay alive; one
                                after the other, each maps and touches mb MB for
                                hold_s s and unmaps it: the sandbox never holds
                                both at once, yet each keeps its own peak
  release                       ends the workers
  tmp_fill [mb]                 writes mb MB to /tmp/fill and keeps the file
  daemon [sleep_s]              leaves a process behind in a session of its own,
                                out of the environment's process group; its pid
Each answer carries env_id (one per execution environment).
"""
import mmap
import os
import time
import uuid

ENV_ID = uuid.uuid4().hex
MB = 1024 * 1024
_workers = []  # (pid, go_w, done_r)


def _hold(mb, hold_s):
    held = [b"\x01" * MB for _ in range(int(mb))]  # repetition writes every page
    time.sleep(float(hold_s))
    return len(held)


def _worker(go_r, done_w, mb, hold_s):
    os.read(go_r, 1)
    m = mmap.mmap(-1, mb * MB)
    chunk = b"\x01" * MB
    for i in range(mb):
        m[i * MB:(i + 1) * MB] = chunk
    time.sleep(hold_s)
    m.close()  # munmap: the pages go back at once, unlike a malloc arena
    os.write(done_w, b"d")
    os.read(go_r, 1)  # blocks until release closes the pipe
    os._exit(0)


def _start_workers(mb, hold_s):
    for _ in range(2):
        go_r, go_w = os.pipe()
        done_r, done_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                # only its own ends: a write end left open would keep its read from ending
                for fd in [go_w, done_r] + [f for _, a, b in _workers for f in (a, b)]:
                    os.close(fd)
                _worker(go_r, done_w, mb, hold_s)
            finally:
                os._exit(1)
        os.close(go_r)
        os.close(done_w)
        _workers.append((pid, go_w, done_r))
    for _, go_w, done_r in _workers:
        os.write(go_w, b"g")
        if os.read(done_r, 1) != b"d":
            raise RuntimeError("worker failed")
    return len(_workers)


def _release():
    exits = []
    while _workers:
        pid, go_w, done_r = _workers.pop()
        os.close(go_w)
        os.close(done_r)
        exits.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    return exits


def _daemon(sleep_s):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            time.sleep(sleep_s)
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    grandchild = int(os.read(r, 32))
    os.close(r)
    return grandchild


def handler(event, context):
    action = event.get("action", "noop")
    out = {"env_id": ENV_ID}
    if action == "alloc":
        out["allocated_mb"] = _hold(event["mb"], event.get("hold_s", 0))
    elif action == "workers_apart":
        out["workers"] = _start_workers(int(event["mb"]), float(event.get("hold_s", 0)))
    elif action == "release":
        out["exits"] = _release()
    elif action == "daemon":
        out["pid"] = _daemon(float(event.get("sleep_s", 60)))
    elif action == "tmp_fill":
        with open("/tmp/fill", "wb") as f:
            for _ in range(int(event["mb"])):
                f.write(b"\x02" * MB)
        out["written_mb"] = os.path.getsize("/tmp/fill") // MB
    return out
