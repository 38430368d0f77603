"""bg-child-python: a handler that leaves processes running after it answers
(handler.handler), for the tests that check the lab leaves nothing behind.

Each invocation starts, and does not wait for, a sleeping Python process
whose command line carries the event's "marker" (so a test finds it in
/proc), in one of two ways named by the event's "mode":
  child   a plain child of the runtime, in the runtime's process group
  daemon  a double-forked, setsid() grandchild: it leaves the runtime's
          process group and session, and its parent exits at once, so it is
          an orphan (re-parented to whatever reaps orphans there)
and answers {"started": mode, "pid": <the sleeper's pid as seen here>}.
Also "zombie": a child that exits at once and is never waited for, so the
runtime carries a zombie until it dies.
"""
import os
import subprocess
import sys

SLEEP = "import sys, time; time.sleep(float(sys.argv[1]))"


def handler(event, context):
    mode = event.get("mode", "child")
    marker = str(event.get("marker", "bg-child"))
    seconds = str(float(event.get("seconds", 300)))
    if mode == "child":
        p = subprocess.Popen([sys.executable, "-c", SLEEP, seconds, marker],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        return {"started": mode, "pid": p.pid}
    if mode == "daemon":
        r, w = os.pipe()
        first = os.fork()
        if first == 0:
            os.close(r)
            os.setsid()
            second = os.fork()
            if second == 0:
                os.close(w)
                fd = os.open(os.devnull, os.O_RDWR)
                for i in (0, 1, 2):
                    os.dup2(fd, i)
                os.execv(sys.executable, [sys.executable, "-c", SLEEP, seconds, marker])
            os.write(w, str(second).encode())
            os._exit(0)
        os.close(w)
        pid = int(os.read(r, 32) or b"0")
        os.close(r)
        os.waitpid(first, 0)
        return {"started": mode, "pid": pid}
    if mode == "zombie":
        p = subprocess.Popen([sys.executable, "-c", "pass", marker])
        # No wait(): Popen's own reaping happens only when Popen objects are
        # collected, so keep it referenced at module level.
        _kept.append(p)
        return {"started": mode, "pid": p.pid}
    raise ValueError(f"unknown mode {mode!r}")


_kept = []
