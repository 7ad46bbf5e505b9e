"""Judges the PromQL of a built tree with Prometheus' own parser (`promtool check rules`).

Usage: promtool-check.py TREE

- Every PrometheusRule's `spec.groups` is written out as a plain rules file and checked.
- Every query of every dashboard ConfigMap (label grafana_dashboard: "1") becomes a recording
  rule in one more rules file, after Grafana's interval variables are replaced by a duration and
  the other variables by a label value, as Grafana does before it sends the query.
Exits non-zero when promtool rejects anything, naming the file it came from.
"""

import json
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

GRAFANA_INTERVALS = re.compile(r"\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?")
GRAFANA_VARIABLES = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}?")


def grafana_to_promql(expr: str) -> str:
    expr = GRAFANA_INTERVALS.sub("5m", expr)
    return GRAFANA_VARIABLES.sub("x", expr)


def promtool(groups: list, origin: str, scratch: pathlib.Path) -> bool:
    path = scratch / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}))
    run = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{origin}: promtool rejects it:\n{run.stdout}{run.stderr}")
        # Name the dashboard panel of each rejected query.
        for group, rule in re.findall(r'group "([^"]+)", rule (\d+)', run.stdout + run.stderr):
            rules = next(g["rules"] for g in groups if g["name"] == group)
            where = rules[int(rule) - 1].get("labels", {}).get("origin")
            if where:
                print(f"  rule {rule} is the query of {where}")
        return False
    return True


def main(tree: pathlib.Path) -> int:
    ok = True
    rules = queries = 0
    recordings = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        for file in sorted(tree.rglob("*.yaml")):
            for doc in yaml.safe_load_all(file.read_text()):
                if not isinstance(doc, dict):
                    continue
                if doc.get("kind") == "PrometheusRule":
                    groups = doc["spec"]["groups"]
                    rules += sum(len(g["rules"]) for g in groups)
                    ok &= promtool(groups, str(file.relative_to(tree)), scratch)
                labels = (doc.get("metadata") or {}).get("labels") or {}
                if doc.get("kind") == "ConfigMap" and labels.get("grafana_dashboard") == "1":
                    for text in doc["data"].values():
                        dashboard = json.loads(text)
                        for panel in dashboard["panels"]:
                            for target in panel.get("targets", []):
                                queries += 1
                                recordings.append(
                                    {
                                        "record": f"homelabc:check:{queries}",
                                        "expr": grafana_to_promql(target["expr"]),
                                        "labels": {"origin": f"{file.relative_to(tree)} / {panel['title']}"},
                                    }
                                )
        if recordings:
            ok &= promtool([{"name": "dashboard-queries", "rules": recordings}], "dashboard queries", scratch)
    print(f"promtool: {rules} alerting rules, {queries} dashboard queries, {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
