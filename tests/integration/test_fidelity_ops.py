"""bench/fidelity's survey holds: every ELBv2 and ECS operation an ALB + ECS
workflow uses answers, and the operations sluice refuses (with InvalidAction /
UnknownOperationException and a reason) are exactly those the README lists,
for each botocore model on the machine."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, SOURCE, check, check_eq, report, run_case  # noqa: E402


def readme_refused():
    text = open(os.path.join(SOURCE, "README.md")).read()
    sec = text[text.index("### Operations"):]
    sec = sec[:sec.index("\n## ")]
    out = {}
    for svc, label in (("elbv2", "- ELBv2:"), ("ecs", "- ECS:")):
        part = sec[sec.index(label):]
        part = part[len(label):]
        end = part.find("\n- ")
        part = part if end < 0 else part[:end]
        out[svc] = set(re.findall(r"\b([A-Z][a-z]+(?:[A-Z][A-Za-z]*)+)\b", part))
    return out


def test_survey():
    p = subprocess.run([os.path.join(SOURCE, "bench", "fidelity"), "--build", BUILD, "--json"],
                       capture_output=True, text=True, timeout=120)
    check_eq(p.returncode, 0, "every workflow operation answers (%s)" % p.stderr[-500:])
    survey = json.loads(p.stdout)
    listed = readme_refused()
    check(len(survey) >= 1, "at least Debian's model")
    for model, s in survey.items():
        for svc in ("elbv2", "ecs"):
            ops = set(s[svc]["answered"]) | set(s[svc]["refused"])
            refused = set(s[svc]["refused"])
            check_eq(sorted(refused), sorted(listed[svc] & ops),
                     "%s %s: refused = the README's list" % (model, svc))
            for op, why in s[svc]["refused"].items():
                check(why, "%s %s %s says why it is refused" % (model, svc, op))


run_case(test_survey)
report()
