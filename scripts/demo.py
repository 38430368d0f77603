#!/usr/bin/env python3
"""make demo: what coldsec-lab does, shown with boto3 as a user would see it.

Starts the lab on a free loopback port with harness/functions.yaml, then:
cold and warm invocations with their REPORT lines, module-level state that
survives between callers of one environment, parallel invocations that get
environments of their own, a configuration update that retires them all,
then the coldsec driver against the same lab: a forced cold start with a
parallel fan-out, the configuration restored byte for byte, and a clean stop.
"""
import base64
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

import boto3
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = re.compile(r"^REPORT RequestId: \S+\t.*$", re.M)


def start_lab(log_dir):
    lab = subprocess.Popen(
        [os.path.join(ROOT, "build", "coldsec-lab"), "--config",
         os.path.join(ROOT, "harness", "functions.yaml"), "--listen", "127.0.0.1:0",
         "--log-dir", log_dir],
        stdout=subprocess.PIPE, text=True)
    line = lab.stdout.readline().strip()
    if not line.startswith("coldsec-lab listening on "):
        lab.kill()
        sys.exit(f"demo: the lab did not start (got {line!r})")
    return lab, line.rsplit(" ", 1)[1]


def invoke(lam, name, payload=None):
    r = lam.invoke(FunctionName=name, LogType="Tail",
                   Payload=json.dumps(payload or {}).encode())
    body = json.loads(r["Payload"].read())
    tail = base64.b64decode(r["LogResult"]).decode(errors="replace")
    report = REPORT.search(tail)
    return body, report.group(0).replace("\t", "  ") if report else "(no REPORT line)"


def main():
    log_dir = tempfile.mkdtemp(prefix="coldsec-demo-logs-")
    lab, url = start_lab(log_dir)
    print(f"coldsec-lab is up at {url} (log streams in {log_dir})\n")
    lam = boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="AKIDCOLDSECLAB", aws_secret_access_key="coldsec-lab-secret",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=16))
    try:
        print("1. The first invocation starts an environment (cold), the second reuses it (warm):")
        for _ in range(2):
            body, report = invoke(lam, "hello-python")
            print(f"   env {body['env_id']}  invocation #{body['invocation']}  cold={body['cold']}")
            print(f"   {report}")

        print("\n2. Eight callers at once get eight environments of their own:")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: invoke(lam, "hello-node"), range(8)))
        envs = {b["env_id"] for b, _ in results}
        cold = sum("Init Duration" in r for _, r in results)
        print(f"   {len(envs)} distinct environments, {cold} REPORT lines with Init Duration")

        print("\n3. A configuration update retires every warm environment (how coldsec forces cold starts):")
        before, _ = invoke(lam, "hello-python")
        lam.update_function_configuration(
            FunctionName="hello-python", Environment={"Variables": {"GREETING": "hello again"}})
        lam.get_waiter("function_updated").wait(
            FunctionName="hello-python", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        after, report = invoke(lam, "hello-python")
        print(f"   before: env {before['env_id']} invocation #{before['invocation']}")
        print(f"   after:  env {after['env_id']} invocation #{after['invocation']} "
              f"message={after['message']!r}")
        print(f"   {report}")

        print("\n4. coldsec drives the lab as it drives AWS: cold start forced (journaled), 200 invocations"
              " 16 at a time, configuration restored:")
        before = lam.get_function_configuration(FunctionName="hello-python")
        out = tempfile.mkdtemp(prefix="coldsec-demo-reports-")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": out,
               "AWS_CONFIG_FILE": os.path.join(out, "none"), "AWS_SHARED_CREDENTIALS_FILE": os.path.join(out, "none"),
               "AWS_ACCESS_KEY_ID": "AKIDCOLDSECLAB", "AWS_SECRET_ACCESS_KEY": "coldsec-lab-secret",
               "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_LAMBDA": url}
        run = subprocess.run(
            [os.path.join(ROOT, "build", "coldsec"), "fanout", "hello-python", "--cold-start", "--allow-mutation",
             "--count", "200", "--parallel", "16", "--out", out], env=env, capture_output=True, text=True)
        for line in (run.stderr + run.stdout).splitlines():
            print(f"   {line}")
        after = lam.get_function_configuration(FunctionName="hello-python")
        same = all(before.get(k) == after.get(k) for k in before
                   if k not in ("ResponseMetadata", "RevisionId", "LastModified"))
        print(f"   coldsec exit status {run.returncode}; configuration after the run identical to before: {same}")
        if run.returncode != 0 or not same:
            return 1
    finally:
        lab.send_signal(signal.SIGTERM)
        rc = lab.wait(timeout=20)
    print(f"\ncoldsec-lab stopped (exit status {rc}); every environment was killed with it.")
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
