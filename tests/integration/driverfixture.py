"""driverfixture — runs build/coldsec against a Lab and reads what it left.

    env = coldsec_env(lab)                 # credentials, region, endpoint of the lab
    r = run_coldsec(["invoke", "probe"], env)
    p = start_coldsec([...], env)          # Popen, for signals and kill -9
    wait_stopped(p)                        # the COLDSEC_TEST_STOP_AT hook stopped it

The environment given to coldsec is built from nothing but what the test
names (plus PATH), so a developer's own ~/.aws or AWS_* variables can never
leak into a run: HOME is a fresh folder and the shared files point nowhere
unless a test writes them.
"""
import json
import os
import subprocess

from labfixture import build_dir, tmp_dir, wait_for


def coldsec_binary():
    return os.path.join(build_dir(), "coldsec")


def coldsec_env(lab, **extra):
    home = tmp_dir("coldsec-home-")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials"),
        "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
        "AWS_ACCESS_KEY_ID": lab.key,
        "AWS_SECRET_ACCESS_KEY": lab.secret,
        "AWS_REGION": lab.region,
        "AWS_ENDPOINT_URL_LAMBDA": lab.url,
    }
    # ASan builds: leaks are errors, and the report must reach the test.
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_coldsec(args, env, timeout=120, input=None, cwd=None):
    return subprocess.run([coldsec_binary()] + list(args), env=env, capture_output=True,
                          timeout=timeout, input=input, cwd=cwd)


def start_coldsec(args, env, cwd=None):
    return subprocess.Popen([coldsec_binary()] + list(args), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd)


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def wait_stopped(p, timeout=60):
    """Waits until p is stopped (SIGSTOP from the test hook) or has exited;
    returns True when stopped."""
    wait_for(lambda: proc_state(p.pid) in ("T", "t") or p.poll() is not None, timeout)
    return proc_state(p.pid) in ("T", "t")


def comparable_config(cfg):
    """A configuration without what every update necessarily changes, as
    canonical JSON bytes: equal bytes mean an identical configuration."""
    cfg = {k: v for k, v in cfg.items()
           if k not in ("ResponseMetadata", "RevisionId", "LastModified", "LastUpdateStatus",
                        "LastUpdateStatusReason", "LastUpdateStatusReasonCode")}
    return json.dumps(cfg, sort_keys=False).encode()


def journals_under(folder):
    out = []
    for root, _dirs, files in os.walk(folder):
        out += [os.path.join(root, f) for f in files if f == "journal.json"]
    return sorted(out)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def runs_under(folder):
    return sorted(os.path.join(folder, d) for d in os.listdir(folder))


def wait_exit(p, timeout=60):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"coldsec did not exit within {timeout}s; stderr:\n{err.decode(errors='replace')}")
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")
