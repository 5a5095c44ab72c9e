"""`sbc lint --format sarif` writes SARIF 2.1.0: each log, for policies that
trigger every lint rule (the golden files of tests/golden/lint), with
suppressions and several files, validates against the schema of the objects
it emits (sarif-2.1.0-emitted.schema.json, transcribed from the
specification), and holds what code scanning needs: rule ids that index the
driver's rules, one location per result, levels, suppressions.

usage: sarif_test.py SBC SOURCE_DIR
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema

SBC, SOURCE = sys.argv[1:3]
schema = json.load(open(os.path.join(SOURCE, "tests/sarif/sarif-2.1.0-emitted.schema.json")))
jsonschema.Draft7Validator.check_schema(schema)
# `uri` and `uri-reference` checked here (RFC 3986: a scheme, then no
# space or control character): jsonschema checks them only when an optional
# module is installed, and would otherwise pass any string.
formats = jsonschema.FormatChecker()
URI_TEXT = re.compile(r"^[^\x00-\x20\x7f<>\"{}|\\^`]*$")


@formats.checks("uri")
def is_uri(value):
    return not isinstance(value, str) or bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and URI_TEXT.match(value))


@formats.checks("uri-reference")
def is_uri_reference(value):
    return not isinstance(value, str) or bool(URI_TEXT.match(value))


validator = jsonschema.Draft7Validator(schema, format_checker=formats)
failures = []

# The format checks can fail.
for value, fmt in [("not a uri", "uri"), ("policy.sbpolicy", "uri"), ("a b", "uri-reference")]:
    if formats.conforms(value, fmt):
        failures.append(f"`{value}` passes as {fmt}")
if not formats.conforms("file:///tmp/p.sbpolicy", "uri") or not formats.conforms("p.sbpolicy", "uri-reference"):
    failures.append("a URI is refused")

# A log that breaks the schema is refused (the check can fail).
bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "fatal", "message": {"text": "m"}}]}]}
if not list(validator.iter_errors(bad)):
    failures.append("the schema accepts a result of level `fatal`")

work = tempfile.mkdtemp(prefix="sbpolicy-sarif-")
files = []
for golden in sorted(glob.glob(os.path.join(SOURCE, "tests/golden/lint/*.golden"))):
    text = open(golden).read()
    policy = text.split(";;; EXPECTED")[0].split("\n", 1)[1]
    name = os.path.join(work, os.path.basename(golden).replace(".golden", ".sbpolicy"))
    open(name, "w").write(policy)
    files.append(name)

seen_rules = set()
for batch in [files[:1], files[1:10], files[10:]]:
    run = subprocess.run([SBC, "lint", "--format", "sarif", *[os.path.basename(f) for f in batch]], cwd=work,
                         capture_output=True, text=True)
    if run.returncode not in (0, 1):
        failures.append(f"exit {run.returncode}: {run.stderr}")
        continue
    log = json.loads(run.stdout)
    for e in validator.iter_errors(log):
        failures.append(f"{'/'.join(map(str, e.absolute_path))}: {e.message}")
    driver = log["runs"][0]["tool"]["driver"]
    ids = [r["id"] for r in driver["rules"]]
    for r in log["runs"][0]["results"]:
        if ids[r["ruleIndex"]] != r["ruleId"]:
            failures.append(f"ruleIndex {r['ruleIndex']} is not {r['ruleId']}")
        if len(r.get("locations", [])) != 1:
            failures.append(f"{r['ruleId']}: {len(r.get('locations', []))} locations")
        seen_rules.add(r["ruleId"])

lint_codes = {r["code"] for r in json.loads(subprocess.run([SBC, "lint", "--list-rules", "--format", "json"],
                                                              capture_output=True, text=True).stdout)["rules"]}
missing = lint_codes - seen_rules
if missing:
    failures.append(f"no SARIF result for {sorted(missing)}")
print(f"sarif: {len(files)} policies in 3 logs, {len(seen_rules)} rules seen; {len(failures)} failures")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
