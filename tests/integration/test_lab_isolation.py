"""coldsec-lab's sandbox (issue 2, third "Done means" bullet): /tmp private
to an environment and kept while it lives, a read-only filesystem elsewhere,
the Lambda environment variables, the Runtime API on the environment's own
127.0.0.1:9001, and no way from an environment to the lab's API port, to
another environment or to the host's loopback. A `network: host` function
is the control that shows the same connections do work where allowed.

The lab runs with --sandbox bwrap: these are the properties of the
bubblewrap sandbox, not of the fallback.
"""
import os
import shutil
import socket
import subprocess
import unittest

import labfixture as lf
from labfixture import Lab, fn

REFUSED = ("ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "ETIMEDOUT")
READ_ONLY = ("EROFS", "EACCES", "EPERM")


def _bwrap_usable():
    if shutil.which("bwrap") is None:
        return False
    r = subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
                        "--proc", "/proc", "true"], capture_output=True)
    return r.returncode == 0


class LabIsolationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not _bwrap_usable():
            raise unittest.SkipTest("bubblewrap with namespaces is not usable on this machine")
        cls.lab_secret = lf.unique("lab-only")
        cls.lab = Lab([
            fn("iso-probe", environment={"GREETING": "hi"}),
            fn("iso-peer"),
            fn("iso-host", network="host"),
            fn("iso-bind", timeout_s=10),
            fn("iso-tmp-par", timeout_s=10),
            fn("iso-tmp-seq"),
            fn("iso-tmp-retire"),
            fn("iso-fs"),
            fn("iso-spare", environment={"ROUND": "0"}),
        ], sandbox="bwrap", lab_env={"COLDSEC_TEST_LAB_ONLY": cls.lab_secret}).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def call(self, name, event):
        return lf.assert_ok(self, self.lab.invoke(name, event, tail=False))

    # -- environment variables and layout -----------------------------------

    def test_lambda_environment_variables(self):
        lab = self.lab
        names = ["AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME",
                 "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                 "_HANDLER", "GREETING", "COLDSEC_TEST_LAB_ONLY"]
        p = self.call("iso-probe", {"action": "env", "names": names})
        env = p["env"]
        self.assertEqual(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001")
        self.assertEqual(env["LAMBDA_TASK_ROOT"], "/var/task")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "iso-probe")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128")
        self.assertEqual(env["AWS_REGION"], lab.region)
        self.assertEqual(env["AWS_DEFAULT_REGION"], lab.region)
        self.assertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/iso-probe")
        self.assertRegex(env["AWS_LAMBDA_LOG_STREAM_NAME"] or "",
                         r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(env["_HANDLER"], "handler.handler")
        self.assertEqual(env["GREETING"], "hi")
        self.assertIsNone(env["COLDSEC_TEST_LAB_ONLY"], "the lab's own environment leaks into functions")
        self.assertEqual(p["file"], "/var/task/handler.py", "code is not at /var/task")
        self.assertEqual(p["cwd"], "/var/task")

    def test_context_object(self):
        lab = self.lab
        p = self.call("iso-probe", {"action": "context"})
        self.assertEqual(p["function_name"], "iso-probe")
        self.assertEqual(p["function_version"], "$LATEST")
        self.assertEqual(p["invoked_function_arn"], lab.arn("iso-probe"))
        self.assertEqual(p["memory_limit_in_mb"], "128")
        self.assertEqual(p["log_group_name"], "/aws/lambda/iso-probe")
        self.assertGreater(p["remaining_ms"], 0)
        self.assertLessEqual(p["remaining_ms"], 3000)

    def test_own_pid_namespace(self):
        p = self.call("iso-probe", {"action": "processes"})
        comms = [x["comm"] for x in p["processes"]]
        self.assertNotIn("coldsec-lab", comms, "the environment sees the lab's process")
        self.assertLessEqual(len(comms), 6, f"the environment sees host processes: {comms}")
        self.assertLess(p["pid"], 10, f"the runtime is pid {p['pid']}: not in its own PID namespace")
        self.assertIn(p["pid"], [x["pid"] for x in p["processes"]])

    # -- filesystem ---------------------------------------------------------------

    def test_writing_outside_tmp_fails(self):
        tok = lf.unique("coldsec-probe")
        paths = [f"/var/task/{tok}", f"/etc/{tok}", f"/{tok}", f"/usr/{tok}", f"/var/{tok}"]
        p = self.call("iso-fs", {"action": "write_outside", "paths": paths + [f"/tmp/{tok}"]})
        res = p["results"]
        try:
            for path in paths:
                with self.subTest(path=path):
                    self.assertFalse(res[path]["created"], f"{path} could be created inside the sandbox")
                    self.assertIn(res[path]["errno_name"], READ_ONLY, res[path])
            self.assertTrue(res[f"/tmp/{tok}"]["created"], f"/tmp is not writable: {res[f'/tmp/{tok}']}")
        finally:
            host = [os.path.join(lf.PROBE_PY, tok), f"/etc/{tok}", f"/{tok}", f"/usr/{tok}", f"/var/{tok}"]
            leaked = [h for h in host if os.path.exists(h)]
            for h in leaked:
                os.unlink(h)
        self.assertEqual(leaked, [], "the probe's writes reached the host filesystem")

    def test_tmp_is_private_between_environments(self):
        toks = [lf.unique("a"), lf.unique("b")]
        results = self.lab.invoke_parallel("iso-tmp-par", [
            {"action": "tmp_isolation", "token": t, "sleep": 1.0} for t in toks])
        ps = [lf.assert_ok(self, r) for r in results]
        self.assertNotEqual(ps[0]["env_id"], ps[1]["env_id"], "the two invocations shared an environment")
        for t, p in zip(toks, ps):
            self.assertEqual(p["seen"], [f"iso-{t}"], "/tmp is shared between environments")
        for t in toks:
            self.assertFalse(os.path.exists(f"/tmp/iso-{t}"), "the environment's /tmp is the host's /tmp")

    def test_host_tmp_is_invisible(self):
        name = lf.unique("host-file")
        with open(f"/tmp/{name}", "w") as f:
            f.write("host")
        try:
            p = self.call("iso-probe", {"action": "tmp_read", "name": name})
        finally:
            os.unlink(f"/tmp/{name}")
        self.assertIsNone(p["data"], "the host's /tmp is visible in the environment")

    def test_tmp_is_lambdas_512_mb(self):
        p = self.call("iso-fs", {"action": "statvfs", "path": "/tmp"})
        self.assertEqual(p["bytes"], 512 * 1024 * 1024)

    def test_tmp_survives_within_an_environment(self):
        tok = lf.unique("keep")
        w = self.call("iso-tmp-seq", {"action": "tmp_write", "name": "kept", "data": tok})
        for _ in range(3):
            r = self.call("iso-tmp-seq", {"action": "tmp_read", "name": "kept"})
            self.assertEqual(r["env_id"], w["env_id"])
            self.assertEqual(r["data"], tok, "/tmp lost between invocations of one environment")

    def test_tmp_is_gone_when_the_environment_is_retired(self):
        lab = self.lab
        tok = lf.unique("gone")
        w = self.call("iso-tmp-retire", {"action": "tmp_write", "name": "retired", "data": tok})
        crash = lab.invoke("iso-tmp-retire", {"action": "exit", "code": 1})
        self.assertEqual(crash.function_error, "Unhandled", repr(crash))
        r = self.call("iso-tmp-retire", {"action": "tmp_read", "name": "retired"})
        self.assertNotEqual(r["env_id"], w["env_id"])
        self.assertIsNone(r["data"], "a new environment sees the retired environment's /tmp")
        # and after a configuration update
        self.call("iso-tmp-retire", {"action": "tmp_write", "name": "retired2", "data": tok})
        lab.client().update_function_configuration(
            FunctionName="iso-tmp-retire",
            Environment={"Variables": lab.env_of("iso-tmp-retire", ROUND="2")})
        lab.wait_updated("iso-tmp-retire")
        r2 = self.call("iso-tmp-retire", {"action": "tmp_read", "name": "retired2"})
        self.assertNotEqual(r2["env_id"], r["env_id"])
        self.assertIsNone(r2["data"], "/tmp survived the configuration update")

    def test_each_start_is_its_own_whether_prepared_ahead_or_not(self):
        """The first start of a sandbox shape sets bwrap up on the clock; the
        starts after a configuration update come from a sandbox the lab
        prepared ahead (harness/lab_sandbox.h, "Spares"). Either way the
        runtime has its own start's variables, an empty /tmp, and no
        descriptor but 0-2 and its own TCP sockets (not the stub's channel or
        executable)."""
        lab = self.lab
        seen = set()
        for rnd in range(3):
            if rnd:
                lab.client().update_function_configuration(
                    FunctionName="iso-spare",
                    Environment={"Variables": lab.env_of("iso-spare", ROUND=str(rnd))})
                lab.wait_updated("iso-spare")
            with self.subTest(round=rnd):
                env = self.call("iso-spare", {"action": "env", "names": ["ROUND"]})
                self.assertEqual(env["env"]["ROUND"], str(rnd), "a start ran with another start's variables")
                self.assertNotIn(env["env_id"], seen, "a configuration update kept the environment")
                seen.add(env["env_id"])
                tmp = self.call("iso-spare", {"action": "tmp_read", "name": "kept"})
                self.assertIsNone(tmp["data"])
                self.call("iso-spare", {"action": "tmp_write", "name": "kept", "data": "x"})
                p = self.call("iso-spare", {"action": "fds"})
                tcp = {f"socket:[{i}]" for i in p["tcp_inodes"]}
                extra = {fd: what for fd, what in p["fds"].items()
                         if int(fd) > 2 and what not in tcp}
                self.assertEqual(extra, {}, "the runtime inherited descriptors it must not have")

    # -- network ------------------------------------------------------------------

    def test_runtime_api_is_on_the_environments_own_loopback(self):
        p = self.call("iso-probe", {"action": "connect", "host": "127.0.0.1", "port": 9001})
        self.assertTrue(p["connected"], f"the environment cannot reach its Runtime API on 127.0.0.1:9001: {p}")

    def test_cannot_connect_to_the_lab_api(self):
        lab = self.lab
        p = self.call("iso-probe", {"action": "connect", "host": "127.0.0.1", "port": lab.port})
        self.assertFalse(p["connected"], "a sandboxed environment reached the lab's API port")
        self.assertIn(p["errno_name"], REFUSED, p)
        # control: the same probe on the host network does reach it
        h = self.call("iso-host", {"action": "connect", "host": "127.0.0.1", "port": lab.port})
        self.assertTrue(h["connected"], f"control failed: a host-network function cannot reach the lab: {h}")

    def test_cannot_connect_to_the_hosts_loopback(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        try:
            p = self.call("iso-probe", {"action": "connect", "host": "127.0.0.1", "port": port})
            h = self.call("iso-host", {"action": "connect", "host": "127.0.0.1", "port": port})
        finally:
            srv.close()
        self.assertFalse(p["connected"], "a sandboxed environment reached a host loopback listener")
        self.assertIn(p["errno_name"], REFUSED, p)
        self.assertTrue(h["connected"], f"control failed: host-network function cannot reach the host: {h}")

    def test_cannot_connect_to_another_environment(self):
        peer = self.call("iso-peer", {"action": "listen", "port": 0})
        self.assertTrue(peer["listening"], peer)
        port = peer["port"]
        own = self.call("iso-peer", {"action": "connect", "host": "127.0.0.1", "port": port})
        self.assertEqual(own["env_id"], peer["env_id"])
        self.assertTrue(own["connected"], f"control failed: the peer cannot reach its own listener: {own}")
        other = self.call("iso-probe", {"action": "connect", "host": "127.0.0.1", "port": port})
        self.assertFalse(other["connected"], "an environment reached another environment's listener")
        self.assertIn(other["errno_name"], REFUSED, other)
        host = self.call("iso-host", {"action": "connect", "host": "127.0.0.1", "port": port})
        self.assertFalse(host["connected"], "a sandboxed environment's listener is on the host network")

    def test_environments_have_separate_network_namespaces(self):
        port = 40000 + (os.getpid() % 20000)
        results = self.lab.invoke_parallel("iso-bind", [
            {"action": "listen", "port": port, "sleep": 1.0} for _ in range(2)])
        ps = [lf.assert_ok(self, r) for r in results]
        self.assertNotEqual(ps[0]["env_id"], ps[1]["env_id"])
        for p in ps:
            self.assertTrue(p["listening"], f"two environments share a network namespace: {p}")
            self.assertEqual(p["port"], port)


if __name__ == "__main__":
    unittest.main()
