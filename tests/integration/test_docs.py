"""The user documentation against the code it documents.

- every scenario file (scenarios/*.yaml) has docs/scenarios/<id>.md, the
  index links it, and the page names each of the scenario's assertions and
  parameters;
- the man page docs/coldsec.1: every command that `coldsec --help` lists is
  in its SYNOPSIS, and every long option of every command's --help is in
  it; every AWS_* variable src/awsconf.c reads is in it; it renders with no
  warning (`groff -man -ww -z` prints nothing);
- the exit statuses 0-4 are documented in README.md, `coldsec --help`,
  `coldsec run --help` and the man page;
- the relative links of README.md and docs/scenarios/*.md resolve (files,
  and #anchors to Markdown headings);
- docs/design.md's module map names exactly the modules of src/, harness/
  and fuzz/ (one per .c file), each under its own folder's heading, and
  README.md links the design document;
- docs/ci/*.yml are YAML. Checked with libyaml (libyaml-dev is in
  scripts/deps.sh) through ctypes, so no Python package is needed; when
  PyYAML is importable as well, the CI files' structure is checked too.

Needs the built coldsec (COLDSEC_BUILD, default build) and groff (groff-base,
in scripts/deps.sh); starts no lab.
"""
import ctypes
import ctypes.util
import glob
import os
import re
import shutil
import subprocess
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(REPO, "docs")
MAN = os.path.join(DOCS, "coldsec.1")
README = os.path.join(REPO, "README.md")
SCENARIO_DOCS = os.path.join(DOCS, "scenarios")


def coldsec_binary():
    b = os.environ.get("COLDSEC_BUILD", "build")
    b = b if os.path.isabs(b) else os.path.join(REPO, b)
    return os.path.join(b, "coldsec")


def coldsec_help(*args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    r = subprocess.run([coldsec_binary(), *args, "--help"], capture_output=True, text=True, env=env, timeout=30)
    return r


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def man_text():
    """The man page source with troff's escaped hyphens made plain."""
    return read(MAN).replace("\\-", "-").replace("\\&", "")


def man_section(name):
    src = man_text()
    m = re.search(r'^\.SH "?' + re.escape(name) + r'"?\s*$(.*?)(?=^\.SH |\Z)', src, re.M | re.S)
    return m.group(1) if m else ""


def scenario_files():
    files = sorted(glob.glob(os.path.join(REPO, "scenarios", "*.yaml")))
    out = []
    for f in files:
        text = read(f)
        m = re.search(r"^id:\s*([A-Za-z0-9_-]+)\s*$", text, re.M)
        out.append((f, m.group(1) if m else None, text))
    return out


def top_level_block(text, key):
    """Lines of a top-level YAML block (`key:` at column 0 up to the next
    top-level key), enough for the flat scenario files."""
    m = re.search(r"^" + re.escape(key) + r":\s*$(.*?)(?=^[A-Za-z_][\w-]*:|\Z)", text, re.M | re.S)
    return m.group(1) if m else ""


def commands_from_main_help(text):
    """`coldsec --help` lists commands as two-space-indented lines after
    'Commands:' up to the first blank line."""
    m = re.search(r"^Commands:\s*\n(.*?)(?:\n\s*\n|\Z)", text, re.M | re.S)
    if not m:
        return []
    cmds = []
    for line in m.group(1).splitlines():
        w = re.match(r"^\s{2}([a-z][a-z-]*)\b", line)
        if w:
            cmds.append(w.group(1))
    return cmds


def long_options(text):
    return sorted(set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])", text)))


def exit_status_text(text):
    """From the first 'Exit status' (any case) to the next blank line or
    heading: where a help text or README states its exit statuses."""
    m = re.search(r"exit status\W", text, re.I)
    if not m:
        return ""
    rest = text[m.start():]
    end = re.search(r"\n\s*\n(?!\|)|\n#", rest)
    return rest[: end.start()] if end else rest


def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


def anchors(md_path):
    text = read(md_path)
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M)}


def md_links(md_path):
    text = read(md_path)
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)   # code blocks are not links
    text = re.sub(r"`[^`\n]*`", "", text)                          # nor inline code
    return re.findall(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)


# ---- YAML through libyaml (ctypes): no Python package needed ----------------

class _Mark(ctypes.Structure):
    _fields_ = [("index", ctypes.c_size_t), ("line", ctypes.c_size_t), ("column", ctypes.c_size_t)]


class _ParserHead(ctypes.Structure):
    # The first members of yaml_parser_t (yaml.h): enough to say what failed.
    _fields_ = [("error", ctypes.c_int), ("problem", ctypes.c_char_p), ("problem_offset", ctypes.c_size_t),
                ("problem_value", ctypes.c_int), ("problem_mark", _Mark), ("context", ctypes.c_char_p),
                ("context_mark", _Mark)]


YAML_STREAM_END_EVENT = 2


def libyaml_check(data):
    """Parses data (bytes) as a YAML stream with libyaml. Returns None when
    it is well-formed, else the parser's message with its line."""
    name = ctypes.util.find_library("yaml") or "libyaml-0.so.2"
    lib = ctypes.CDLL(name)
    lib.yaml_parser_initialize.argtypes = [ctypes.c_void_p]
    lib.yaml_parser_set_input_string.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.yaml_parser_parse.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.yaml_event_delete.argtypes = [ctypes.c_void_p]
    lib.yaml_parser_delete.argtypes = [ctypes.c_void_p]
    parser = ctypes.create_string_buffer(8192)     # sizeof(yaml_parser_t) is well under this
    event = ctypes.create_string_buffer(1024)      # sizeof(yaml_event_t) too
    buf = ctypes.create_string_buffer(data, len(data))
    if not lib.yaml_parser_initialize(parser):
        return "yaml_parser_initialize failed"
    try:
        lib.yaml_parser_set_input_string(parser, buf, len(data))
        events = 0
        while True:
            if not lib.yaml_parser_parse(parser, event):
                head = _ParserHead.from_buffer(parser)
                problem = head.problem.decode() if head.problem else "error"
                context = head.context.decode() + ": " if head.context else ""
                return f"line {head.problem_mark.line + 1}: {context}{problem}"
            kind = ctypes.c_int.from_buffer(event).value
            lib.yaml_event_delete(event)
            events += 1
            if kind == YAML_STREAM_END_EVENT:
                return None if events > 2 else "empty document"
    finally:
        lib.yaml_parser_delete(parser)


class TestScenarioPages(unittest.TestCase):
    def test_every_scenario_has_a_page_linked_from_the_index(self):
        scenarios = scenario_files()
        self.assertGreaterEqual(len(scenarios), 6, "scenarios/*.yaml")
        index = read(os.path.join(SCENARIO_DOCS, "README.md"))
        for path, sid, _ in scenarios:
            with self.subTest(scenario=os.path.basename(path)):
                self.assertIsNotNone(sid, f"{path}: no top-level id:")
                page = os.path.join(SCENARIO_DOCS, f"{sid}.md")
                self.assertTrue(os.path.isfile(page), f"docs/scenarios/{sid}.md is missing")
                self.assertIn(f"]({sid}.md)", index, f"docs/scenarios/README.md does not link {sid}.md")

    def test_pages_name_each_assertion_and_parameter(self):
        for path, sid, text in scenario_files():
            page = os.path.join(SCENARIO_DOCS, f"{sid}.md")
            if not os.path.isfile(page):
                continue   # reported by the test above
            doc = read(page)
            asserts = re.findall(r"^\s+id:\s*([A-Za-z0-9_-]+)", top_level_block(text, "assertions"), re.M)
            params = re.findall(r"^  ([A-Za-z_][\w]*):", top_level_block(text, "parameters"), re.M)
            self.assertTrue(asserts, f"{path}: no assertion ids found")
            for a in asserts:
                with self.subTest(scenario=sid, assertion=a):
                    self.assertRegex(doc, r"(?m)^#+ .*\b" + re.escape(a) + r"\b|`" + re.escape(a) + "`",
                                     f"docs/scenarios/{sid}.md does not describe assertion {a}")
            for p in params:
                with self.subTest(scenario=sid, parameter=p):
                    self.assertIn(f"`{p}`", doc, f"docs/scenarios/{sid}.md does not document parameter {p}")

    def test_every_page_is_in_the_index(self):
        index = read(os.path.join(SCENARIO_DOCS, "README.md"))
        ids = {sid for _, sid, _ in scenario_files()}
        for page in glob.glob(os.path.join(SCENARIO_DOCS, "*.md")):
            name = os.path.basename(page)
            if name == "README.md":
                continue
            with self.subTest(page=name):
                self.assertIn(name[:-3], ids, f"docs/scenarios/{name} documents no scenario in scenarios/")
                self.assertIn(f"]({name})", index)


class TestManPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(coldsec_binary(), os.X_OK):
            raise unittest.SkipTest(f"{coldsec_binary()} is not built")
        r = coldsec_help()
        cls.main_help = r.stdout
        cls.commands = commands_from_main_help(r.stdout)

    def test_main_help_lists_commands(self):
        self.assertIn("run", self.commands, self.main_help)
        self.assertGreaterEqual(len(self.commands), 6, self.main_help)

    def test_every_command_is_in_the_synopsis(self):
        synopsis = man_section("SYNOPSIS")
        self.assertTrue(synopsis, "docs/coldsec.1 has no SYNOPSIS")
        for cmd in self.commands:
            with self.subTest(command=cmd):
                self.assertRegex(synopsis, r"(?m)^\.B " + re.escape(cmd) + r"\s*$",
                                 f"coldsec {cmd} is not in the man page's SYNOPSIS")

    def test_every_long_option_of_every_command_is_documented(self):
        man = man_text()
        for cmd in self.commands:
            r = coldsec_help(cmd)
            with self.subTest(command=cmd):
                self.assertEqual(r.returncode, 0, f"coldsec {cmd} --help: {r.stderr}")
                opts = long_options(r.stdout)
                self.assertTrue(opts, f"coldsec {cmd} --help lists no option")
                for o in opts:
                    self.assertIn(f"--{o}", man, f"coldsec {cmd} --{o} is not in docs/coldsec.1")
        for o in long_options(self.main_help):
            self.assertIn(f"--{o}", man, f"coldsec --{o} is not in docs/coldsec.1")

    def test_environment_lists_what_awsconf_reads(self):
        env = man_section("ENVIRONMENT")
        src = read(os.path.join(REPO, "src", "awsconf.c"))
        names = sorted(set(re.findall(r'"(AWS_[A-Z0-9_]+)"', src)))
        self.assertTrue(names)
        for n in names + ["NO_COLOR"]:
            with self.subTest(variable=n):
                self.assertIn(n, env, f"{n} is not in the man page's ENVIRONMENT")

    def test_files_lists_what_a_run_writes(self):
        files = man_section("FILES")
        for f in ("scenarios.yaml", "scenarios/", "report.json", "junit.xml", "results.sarif", "report.html",
                  "plan.json", "invocations.jsonl", "replay/", "journal.json"):
            with self.subTest(file=f):
                self.assertIn(f, files)

    def test_sections(self):
        src = read(MAN)
        for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES",
                  "SECURITY", "SEE ALSO"):
            with self.subTest(section=s):
                self.assertRegex(src, r'(?m)^\.SH "?' + re.escape(s) + r'"?\s*$')

    def test_groff_renders_without_warnings(self):
        groff = shutil.which("groff")
        self.assertIsNotNone(groff, "groff is missing (groff-base, in scripts/deps.sh)")
        r = subprocess.run([groff, "-man", "-ww", "-z", MAN], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout + r.stderr, "", "groff -man -ww -z docs/coldsec.1 printed warnings")


class TestExitStatuses(unittest.TestCase):
    def check(self, where, text):
        part = exit_status_text(text)
        self.assertTrue(part, f"{where}: no 'Exit status' text")
        for n in range(5):
            self.assertRegex(part, r"(?<![\w.])" + str(n) + r"(?![\w.])", f"{where}: exit status {n} not documented")
        self.assertIn("restore", part, f"{where}: exit status 4 should say to run coldsec restore")

    def test_readme(self):
        readme = read(README)
        m = re.search(r"\*\*Exit status\*\*.*?(?=\n\*\*|\n#)", readme, re.S)
        self.assertIsNotNone(m, "README.md: no **Exit status** paragraph")
        self.check("README.md", m.group(0))

    def test_main_help(self):
        if not os.access(coldsec_binary(), os.X_OK):
            self.skipTest("coldsec is not built")
        self.check("coldsec --help", coldsec_help().stdout)

    def test_run_help(self):
        if not os.access(coldsec_binary(), os.X_OK):
            self.skipTest("coldsec is not built")
        self.check("coldsec run --help", coldsec_help("run").stdout)

    def test_man_page(self):
        sec = man_section("EXIT STATUS")
        self.assertTrue(sec, "docs/coldsec.1: no EXIT STATUS section")
        for n in range(5):
            self.assertRegex(sec, r"(?m)^\.B " + str(n) + r"\s*$", f"docs/coldsec.1: exit status {n}")
        self.assertIn("restore", sec)


class TestLinks(unittest.TestCase):
    def check_links(self, md):
        base = os.path.dirname(md)
        links = md_links(md)
        self.assertTrue(links, f"{md}: no links found")
        for target in links:
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
                continue   # absolute URLs
            path, _, frag = target.partition("#")
            with self.subTest(file=os.path.relpath(md, REPO), link=target):
                dest = os.path.normpath(os.path.join(base, path)) if path else md
                self.assertTrue(os.path.exists(dest), f"{target}: {os.path.relpath(dest, REPO)} does not exist")
                if frag and dest.endswith(".md") and os.path.isfile(dest):
                    self.assertIn(frag, anchors(dest), f"{target}: no heading #{frag}")

    def test_readme_links(self):
        self.check_links(README)

    def test_scenario_page_links(self):
        for md in sorted(glob.glob(os.path.join(SCENARIO_DOCS, "*.md"))):
            self.check_links(md)

    def test_readme_points_to_the_docs(self):
        readme = read(README)
        for s in ("docs/scenarios/", "docs/report-format.md", "man -l docs/coldsec.1", "docs/ci/github-actions.yml",
                  "docs/ci/gitlab-ci.yml", "make demo", "make test"):
            with self.subTest(text=s):
                self.assertIn(s, readme)


class TestCiExamples(unittest.TestCase):
    def ci_files(self):
        files = sorted(glob.glob(os.path.join(DOCS, "ci", "*.yml")))
        self.assertTrue(files, "docs/ci/*.yml")
        return files

    def test_ci_files_are_yaml(self):
        for f in self.ci_files():
            with self.subTest(file=os.path.basename(f)):
                with open(f, "rb") as fh:
                    err = libyaml_check(fh.read())
                self.assertIsNone(err, f"{f}: {err}")

    def test_libyaml_check_can_fail(self):
        self.assertIsNone(libyaml_check(b"a: [1, 2]\nb: {c: d}\n"))
        self.assertIsNotNone(libyaml_check(b"a: [1, 2\nb: c\n"))
        self.assertIsNotNone(libyaml_check(b"a:\n  - x\n y: z\n"))

    def test_ci_files_do_what_readme_says(self):
        gh = read(os.path.join(DOCS, "ci", "github-actions.yml"))
        gl = read(os.path.join(DOCS, "ci", "gitlab-ci.yml"))
        for s in ("github/codeql-action/upload-sarif", "results.sarif", "category:", "--shard", "matrix",
                  "upload-artifact", "coldsec report", "security-events: write"):
            with self.subTest(file="github-actions.yml", text=s):
                self.assertIn(s, gh)
        for s in ("junit: reports/*/junit.xml", "--shard", "CI_NODE_INDEX", "exit_codes", "when: always"):
            with self.subTest(file="gitlab-ci.yml", text=s):
                self.assertIn(s, gl)
        readme = read(README)
        for text in (gh, gl):
            self.assertIn(text.strip(), readme, "README.md shows docs/ci files as they are")

    def test_ci_structure(self):
        try:
            import yaml   # PyYAML: optional, not in scripts/deps.sh
        except ImportError:
            self.skipTest("PyYAML is not installed; libyaml checked the syntax")
        gh = yaml.safe_load(read(os.path.join(DOCS, "ci", "github-actions.yml")))
        on = gh.get("on", gh.get(True))   # YAML 1.1 reads a bare `on` as true
        self.assertIsNotNone(on)
        job = gh["jobs"]["coldsec"]
        self.assertIn("shard", job["strategy"]["matrix"])
        uses = [s.get("uses", "") for s in job["steps"]]
        self.assertTrue(any(u.startswith("github/codeql-action/upload-sarif") for u in uses), uses)
        gl = yaml.safe_load(read(os.path.join(DOCS, "ci", "gitlab-ci.yml")))
        self.assertEqual(gl["coldsec"]["artifacts"]["reports"]["junit"], "reports/*/junit.xml")
        self.assertEqual(gl["coldsec"]["allow_failure"]["exit_codes"], [3])


class TestDesign(unittest.TestCase):
    """docs/design.md changes with the code: its module map is the modules there are."""
    DESIGN = os.path.join(DOCS, "design.md")

    def mapped(self):
        """{folder: set of module names} from the '## Module map' tables: the
        backticked names of each row's first cell, under '### `folder/`'."""
        text = read(self.DESIGN)
        m = re.search(r"^## Module map\n(.*?)(?=^## )", text, re.M | re.S)
        self.assertIsNotNone(m, "docs/design.md has no '## Module map' section")
        out, folder = {}, None
        for line in m.group(1).splitlines():
            h = re.match(r"^### `([a-z]+)/`", line)
            if h:
                folder = h.group(1)
                out.setdefault(folder, set())
                continue
            row = re.match(r"^\| ([^|]+) \|", line)
            if folder and row and not re.match(r"^-+$|^module$", row.group(1).strip()):
                out[folder] |= set(re.findall(r"`([a-z0-9_]+)`", row.group(1)))
        return out

    def test_module_map_matches_the_code(self):
        mapped = self.mapped()
        for folder in ("src", "harness", "fuzz"):
            with self.subTest(folder=folder):
                have = {os.path.basename(f)[:-2] for f in glob.glob(os.path.join(REPO, folder, "*.c"))}
                self.assertTrue(have)
                named = mapped.get(folder, set())
                self.assertEqual(sorted(have - named), [], f"modules of {folder}/ missing from docs/design.md")
                self.assertEqual(sorted(named - have), [], f"docs/design.md names modules {folder}/ does not have")

    def test_module_map_check_can_fail(self):
        # the parser really reads the tables: a known module is found, a made-up one is not
        mapped = self.mapped()
        self.assertIn("engine", mapped["src"])
        self.assertIn("lab_pool", mapped["harness"])
        self.assertNotIn("no_such_module", mapped["src"])

    def test_readme_links_the_design(self):
        self.assertIn("(docs/design.md)", read(README))


if __name__ == "__main__":
    unittest.main()
