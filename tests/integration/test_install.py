"""make install / make uninstall, and an installed coldsec used as a user would.

Installs into a temporary DESTDIR, moves the installed tree elsewhere (the
paths coldsec finds are relative to its own executable), then from an empty
folder outside the repository holding a handler, functions.yaml and a suite
of its own runs the installed `coldsec run` with nothing pointing into the
build tree (PATH: the install's bin/ and /usr/bin:/bin; no COLDSEC_*):
the built-in scenarios are found, the lab starts, and the vulnerable handler
gets its finding. From a folder holding only the handler and a sample event,
`coldsec init` writes the suite and the lab file that `coldsec run` then
runs to the same finding. Then --list-scenarios with a suite-side override,
the man page, and make uninstall leaving the prefix empty.
"""
import json
import os
import shutil
import subprocess
import unittest

from labfixture import REPO, build_dir, tmp_dir

PREFIX = "/opt/coldsec"

# A cross-user leak of the user's own: a module-level cache keyed by the
# document id alone, so the second caller gets the first caller's owner.
HANDLER = '''
cache = {}


def handler(event, context):
    doc = event["doc"]
    if doc not in cache:
        cache[doc] = {"owner": event.get("user_id"), "doc": doc, "title": event.get("title")}
    return cache[doc]
'''

FUNCTIONS = '''functions:
  - name: my-docs
    runtime: python3.12
    handler: handler.handler
    code: my-docs
    memory_mb: 128
    timeout_s: 3
'''

SUITE = '''version: 1
lab:
  config: functions.yaml
targets:
  - function: my-docs
    baseline: {user_id: "{{user.id}}", doc: "/docs/1", title: "notes"}
    scenarios: [cross-user-leak]
'''


def make(*args):
    sanitizer = ["SANITIZER=address"] if os.path.basename(build_dir()) == "asan" else []
    return subprocess.run(["make", "-C", REPO, "--no-print-directory", "-s"] + sanitizer + list(args),
                          capture_output=True, text=True, timeout=600)


def tree(root):
    out = []
    for d, dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, n), root) for n in dirs + files]
    return sorted(out)


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.destdir = tmp_dir("coldsec-install-")
        r = make("install", f"DESTDIR={cls.destdir}", f"PREFIX={PREFIX}")
        if r.returncode != 0:
            raise AssertionError(f"make install failed: {r.stdout}{r.stderr}")
        cls.root = cls.destdir + PREFIX
        # Relocated: a copy under another path, the DESTDIR one kept for uninstall.
        cls.moved = os.path.join(tmp_dir("coldsec-moved-"), "tools")
        shutil.copytree(cls.root, cls.moved, symlinks=True)

    def user_folder(self, override=False):
        work = tmp_dir("coldsec-user-", self)
        os.mkdir(os.path.join(work, "my-docs"))
        with open(os.path.join(work, "my-docs", "handler.py"), "w") as f:
            f.write(HANDLER)
        with open(os.path.join(work, "functions.yaml"), "w") as f:
            f.write(FUNCTIONS)
        with open(os.path.join(work, "suite.yaml"), "w") as f:
            f.write(SUITE)
        if override:
            # A suite-side file for a built-in id: the built-in text with a
            # title of ours (any valid scenario would do).
            os.mkdir(os.path.join(work, "scenarios"))
            with open(os.path.join(self.moved, "share/coldsec/scenarios/tmp-residue.yaml")) as f:
                text = f.read()
            with open(os.path.join(work, "scenarios", "tmp-residue.yaml"), "w") as f:
                f.write(text)
        return work

    def env(self):
        home = tmp_dir("coldsec-home-", self)
        env = {"PATH": os.path.join(self.moved, "bin") + ":/usr/bin:/bin", "HOME": home,
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "none"),
               "AWS_CONFIG_FILE": os.path.join(home, "none")}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TMPDIR"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def test_layout(self):
        files = tree(self.root)
        for want in ("bin/coldsec", "bin/coldsec-lab", "bin/coldsec-fuzz", "libexec/coldsec/coldsec-lab-stub",
                     "share/coldsec/scenarios/cross-user-leak.yaml",
                     "share/coldsec/scenarios/catalogs/injection.yaml",
                     "share/coldsec/runtimes/python/bootstrap.py", "share/coldsec/runtimes/node/bootstrap.js",
                     "share/coldsec/fuzz/events/sqs.json", "share/coldsec/fuzz/lambda.dict",
                     "share/man/man1/coldsec.1"):
            self.assertIn(want, files)
        self.assertEqual(len([f for f in files if f.startswith("share/coldsec/scenarios/") and f.endswith(".yaml")
                              and "/catalogs/" not in f]),
                         len([f for f in os.listdir(os.path.join(REPO, "scenarios")) if f.endswith(".yaml")]))

    def test_run_from_a_user_folder(self):
        work = self.user_folder()
        r = subprocess.run(["coldsec", "run", "suite.yaml", "--out", "out", "--quiet"], cwd=work, env=self.env(),
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)   # 1: findings at or above the gate
        self.assertNotIn(REPO, r.stdout + r.stderr)
        runs = os.listdir(os.path.join(work, "out"))
        self.assertEqual(len(runs), 1)
        with open(os.path.join(work, "out", runs[0], "report.json")) as f:
            report = json.load(f)
        found = [(x["target"], x["scenario"]) for x in report["findings"]]
        self.assertIn(("my-docs", "cross-user-leak"), found)
        self.assertTrue(all(s["id"] == "cross-user-leak" for s in report["scenarios"]), report["scenarios"])
        # The lab found its runtimes and its sandbox stub (libexec/) in the moved tree.
        with open(os.path.join(work, "out", runs[0], "lab.log")) as f:
            lab_log = f.read()
        self.assertNotIn("no prepared sandboxes", lab_log)
        self.assertNotIn("not found (give --runtimes", lab_log)

    def test_init_then_run(self):
        # Nothing but the user's code and a sample event of theirs.
        work = tmp_dir("coldsec-user-", self)
        with open(os.path.join(work, "handler.py"), "w") as f:
            f.write(HANDLER)
        with open(os.path.join(work, "event.json"), "w") as f:
            json.dump({"user_id": "u-1", "doc": "/docs/1", "title": "notes"}, f)
        r = subprocess.run(["coldsec", "init", "--handler", ".", "--event", "event.json"], cwd=work, env=self.env(),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(sorted(os.listdir(work)), ["coldsec-lab.yaml", "coldsec.yaml", "event.json", "handler.py"])
        with open(os.path.join(work, "coldsec.yaml")) as f:
            self.assertIn("{{user.id}}", f.read())
        r = subprocess.run(["coldsec", "run", "coldsec.yaml", "--scenario", "cross-user-leak", "--out", "out",
                            "--quiet"], cwd=work, env=self.env(), capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)   # 1: findings at or above the gate
        self.assertNotIn(REPO, r.stdout + r.stderr)
        runs = os.listdir(os.path.join(work, "out"))
        with open(os.path.join(work, "out", runs[0], "report.json")) as f:
            report = json.load(f)
        self.assertIn("cross-user-leak", [x["scenario"] for x in report["findings"]], report["findings"])
        self.assertNotIn(REPO, json.dumps(report))

    def test_fuzz_finds_its_seeds(self):
        work = self.user_folder()
        with open(os.path.join(work, "event.json"), "w") as f:
            json.dump({"user_id": "u1", "doc": "/docs/1", "title": "notes"}, f)
        r = subprocess.run(["coldsec", "fuzz", "--target", "my-docs", "--lab-config", "functions.yaml", "--event",
                            "event.json", "--time", "2s", "--", "-runs=20"], cwd=work, env=self.env(),
                           capture_output=True, text=True, timeout=300)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        self.assertNotIn("not found: seeds and material", r.stderr)
        self.assertNotIn("no catalog material", r.stderr)
        seeds = os.listdir(os.path.join(work, "reports", "fuzz", "my-docs", "corpus"))
        shipped = [f for f in os.listdir(os.path.join(self.moved, "share/coldsec/fuzz/events")) if f.endswith(".json")]
        for name in shipped:
            self.assertIn(f"seed-{name}", seeds)

    def test_list_scenarios_with_override(self):
        work = self.user_folder(override=True)
        r = subprocess.run(["coldsec", "run", "--list-scenarios", "suite.yaml"], cwd=work, env=self.env(),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = {ln.split()[0]: ln for ln in r.stdout.splitlines()}
        builtin = os.path.realpath(os.path.join(self.moved, "share/coldsec/scenarios"))
        self.assertIn(f"{builtin}/cross-user-leak.yaml (built-in)", lines["cross-user-leak"])
        self.assertIn(os.path.join(work, "scenarios", "tmp-residue.yaml"), lines["tmp-residue"])
        self.assertIn(f"overrides built-in {builtin}/tmp-residue.yaml", lines["tmp-residue"])
        self.assertEqual(sorted(lines), sorted(f[:-5] for f in os.listdir(os.path.join(REPO, "scenarios"))
                                               if f.endswith(".yaml")))

    def test_man_page(self):
        page = os.path.join(self.moved, "share/man/man1/coldsec.1")
        if shutil.which("man"):
            env = dict(self.env(), MANPATH=os.path.join(self.moved, "share/man"), MANPAGER="cat", PAGER="cat",
                       MANWIDTH="80")
            r = subprocess.run(["man", "coldsec"], env=env, capture_output=True, text=True, timeout=60)
        else:
            r = subprocess.run(["groff", "-man", "-Tutf8", page], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout.replace("\u2010", "-").replace("\u2212", "-")
        for want in ("--list-scenarios", "coldsec init", "coldsec replay", "coldsec fuzz"):
            self.assertIn(want, text)

    def test_uninstall_leaves_the_prefix_empty(self):
        dest = tmp_dir("coldsec-uninstall-", self)
        os.makedirs(dest + PREFIX)
        r = make("install", f"DESTDIR={dest}", f"PREFIX={PREFIX}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(tree(dest + PREFIX), [])
        r = make("uninstall", f"DESTDIR={dest}", f"PREFIX={PREFIX}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(tree(dest + PREFIX), [])


if __name__ == "__main__":
    unittest.main()
