"""Node.js through the lab (issue 2, "Runtimes"): the hello-node (CommonJS)
and hello-node-esm samples answer through boto3 with the log tail, warm
state and the function's environment; the Node probe shows async and
callback handlers, the Lambda variables, /tmp and error reporting.
"""
import os
import unittest

import labfixture as lf
from labfixture import Lab, fn

SAMPLES = {
    "hello-node": os.path.join(lf.HARNESS_FUNCTIONS, "hello-node"),
    "hello-node-esm": os.path.join(lf.HARNESS_FUNCTIONS, "hello-node-esm"),
}


class LabNodeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        functions = [
            fn("node-probe", runtime="nodejs20.x", handler="index.handler", code=lf.PROBE_NODE,
               environment={"GREETING": "hi"}),
            fn("node-probe-cb", runtime="nodejs20.x", handler="index.callback", code=lf.PROBE_NODE),
            fn("node-crash", runtime="nodejs20.x", handler="index.handler", code=lf.PROBE_NODE),
        ]
        # the samples come from another part of the project: a missing one
        # fails its own test, not the whole class
        cls.present = {n for n, d in SAMPLES.items() if os.path.isdir(d)}
        for n in sorted(cls.present):
            functions.append(fn(n, runtime="nodejs20.x", handler="index.handler", code=SAMPLES[n],
                                environment={"GREETING": f"hello from {n}"}))
        cls.lab = Lab(functions).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def _sample(self, name):
        self.assertIn(name, self.present, f"{SAMPLES[name]} is missing")
        lab = self.lab
        first = lab.invoke(name, {"key": "value"})
        p = lf.assert_ok(self, first)
        lf.assert_log_shape(self, first, memory_mb=128, cold=True)
        self.assertEqual(first.version, "$LATEST")
        self.assertEqual(p["message"], f"hello from {name}")
        self.assertEqual(p["runtime"], "node")
        self.assertEqual(p["invocation"], 1)
        self.assertIs(p["cold"], True)
        second = lab.invoke(name, {})
        q = lf.assert_ok(self, second)
        lf.assert_log_shape(self, second, memory_mb=128, cold=False)
        self.assertEqual(q["env_id"], p["env_id"])
        self.assertEqual(q["invocation"], 2)
        self.assertIs(q["cold"], False)

    def test_hello_node_commonjs(self):
        self._sample("hello-node")

    def test_hello_node_esm(self):
        self._sample("hello-node-esm")

    def test_node_probe_async_handler_environment_and_tmp(self):
        lab = self.lab
        first = lab.invoke("node-probe", {"action": "env", "names": [
            "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME", "GREETING", "_HANDLER"]})
        p = lf.assert_ok(self, first)
        rid = lf.assert_log_shape(self, first, cold=True)
        self.assertEqual(p["request_id"], rid)
        self.assertIn(f"PROBE-NODE-INIT env={p['env_id']}", first.log)
        self.assertEqual(p["env"], {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "LAMBDA_TASK_ROOT": "/var/task",
                                    "AWS_LAMBDA_FUNCTION_NAME": "node-probe", "GREETING": "hi",
                                    "_HANDLER": "index.handler"})
        self.assertEqual(p["cwd"], "/var/task")
        ctx = lf.assert_ok(self, lab.invoke("node-probe", {"action": "context"}))
        self.assertEqual(ctx["function_name"], "node-probe")
        self.assertEqual(ctx["invoked_function_arn"], lab.arn("node-probe"))
        self.assertEqual(ctx["memory_limit_in_mb"], "128")
        self.assertGreater(ctx["remaining_ms"], 0)
        self.assertLessEqual(ctx["remaining_ms"], 3000)
        tok = lf.unique("node")
        lf.assert_ok(self, lab.invoke("node-probe", {"action": "tmp_write", "name": "n", "data": tok}))
        r = lf.assert_ok(self, lab.invoke("node-probe", {"action": "tmp_read", "name": "n"}))
        self.assertEqual(r["data"], tok)
        self.assertEqual(r["env_id"], p["env_id"])
        self.assertEqual(r["count"], 4)

    def test_node_callback_handler(self):
        r = lf.assert_ok(self, self.lab.invoke("node-probe-cb", {"action": "info"}))
        self.assertEqual(r["style"], "callback")
        self.assertEqual(r["count"], 1)

    def test_node_unhandled_error_keeps_the_environment(self):
        lab = self.lab
        p0 = lf.assert_ok(self, lab.invoke("node-probe", {"action": "info"}))
        inv = lab.invoke("node-probe", {"action": "raise", "message": "node says no"})
        self.assertEqual(inv.status, 200)
        self.assertEqual(inv.function_error, "Unhandled", repr(inv))
        body = inv.payload
        self.assertEqual(body["errorType"], "ProbeError")
        self.assertEqual(body["errorMessage"], "node says no")
        self.assertIsInstance(body.get("trace"), list, body)
        nxt = lf.assert_ok(self, lab.invoke("node-probe", {"action": "info"}))
        self.assertEqual(nxt["env_id"], p0["env_id"])

    def test_node_exit_is_runtime_exit_error(self):
        lab = self.lab
        p0 = lf.assert_ok(self, lab.invoke("node-crash", {"action": "info"}))
        inv = lab.invoke("node-crash", {"action": "exit", "code": 4})
        self.assertEqual(inv.function_error, "Unhandled", repr(inv))
        rid = inv.start_id
        self.assertEqual(inv.payload, {"errorType": "Runtime.ExitError",
                                       "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: "
                                                       f"exit status 4"})
        nxt = lab.invoke("node-crash", {"action": "info"})
        self.assertTrue(nxt.cold)
        self.assertNotEqual(lf.assert_ok(self, nxt)["env_id"], p0["env_id"])


class LabNodeMemoryTest(unittest.TestCase):
    """Lambda's memory semantics for Node (issue 13): V8 is started with the
    heap limits Lambda's bootstrap derives from the memory size, so garbage
    is collected under pressure and only what a handler keeps kills it."""

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([
            fn("heap-128", runtime="nodejs20.x", code=lf.PROBE_NODE, handler="index.handler", memory_mb=128),
            fn("heap-512", runtime="nodejs20.x", code=lf.PROBE_NODE, handler="index.handler", memory_mb=512),
            fn("garbage-128", runtime="nodejs20.x", code=lf.PROBE_NODE, handler="index.handler", memory_mb=128),
            fn("retain-128", runtime="nodejs20.x", code=lf.PROBE_NODE, handler="index.handler", memory_mb=128),
        ]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def test_heap_flags_follow_the_memory_size(self):
        for name, mb in (("heap-128", 128), ("heap-512", 512)):
            p = lf.assert_ok(self, self.lab.invoke(name, {"action": "heap"}))
            new_space = mb // 10
            self.assertEqual(p["exec_argv"], ["--expose-gc", f"--max-semi-space-size={new_space // 2}",
                                              f"--max-old-space-size={mb - new_space}"], name)
            # V8's limit is old space plus three semi-spaces: about the
            # memory size (146 MB at 128), where V8's default is gigabytes
            self.assertLess(p["heap_size_limit"], mb * 1024 * 1024 * 5 // 4, name)

    def test_garbage_only_stays_alive_and_retention_runs_out_of_memory(self):
        lab = self.lab
        first = lf.assert_ok(self, lab.invoke("garbage-128", {"action": "garbage", "mb": 8}))
        # 200 x 8 MB: 12.5 times the memory size, all of it dropped
        for i in range(199):
            inv = lab.invoke("garbage-128", {"action": "garbage", "mb": 8})
            p = lf.assert_ok(self, inv)
            self.assertEqual(p["env_id"], first["env_id"], f"invocation {i + 2} ran in a new environment")
        errors = []
        for _ in range(40):
            inv = lab.invoke("retain-128", {"action": "retain", "mb": 8})
            if inv.function_error:
                errors.append(inv.payload)
                break
        self.assertEqual(len(errors), 1, "keeping 8 MB per call never ran out of 128 MB")
        self.assertIn(errors[0]["errorType"], ("Runtime.OutOfMemory", "Runtime.ExitError"), errors[0])


if __name__ == "__main__":
    unittest.main()
