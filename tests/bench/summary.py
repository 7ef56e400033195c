"""The last step of `make bench`: every goal of docs/benchmarks.md in one table at its top.

Each benchmark writes its own section with its goals met or not; this reads them back (rows
whose last cell says **met** or **NOT met**), with the run date and machine of the section
they come from, and writes them as the `## Summary` section, so a reader sees at once whether
anything is missed and whether all sections come from the same machine.

    python -m tests.bench.summary            # print and write the summary
    python -m tests.bench.summary --check    # exit 1 if a goal is not met
"""

from __future__ import annotations

import argparse
import re
import sys

from tests.bench.run import DOCS

TITLE = "## Summary"
_SECTION = re.compile(r"^## (.+?)\n(.*?)(?=^## |\Z)", re.S | re.M)
_RUN = re.compile(r"^Run (\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC)", re.M)
_CPU = re.compile(r"^- CPU: (.+)$", re.M)


def goal_rows(text: str) -> list[dict[str, str]]:
    rows = []
    for title, body in _SECTION.findall(text):
        if f"## {title}" == TITLE:
            continue
        run, cpu = _RUN.search(body), _CPU.search(body)
        for line in body.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("|") or len(cells) < 3:
                continue
            verdict = ("NOT met" if "**NOT met**" in cells[-1]
                       else "met" if "**met**" in cells[-1] else None)
            if verdict is None:
                continue
            if cells[-1] in ("**met**", "**NOT met**"):  # goal | measured | limit | verdict
                goal, value = f"{cells[0]} (limit {cells[2]})", cells[1]
            else:  # label | ... | value | goal: verdict
                goal = f"{cells[0]}: {cells[-1].split(':')[0]}"
                value = cells[-2]
            rows.append({"section": title, "goal": goal, "value": value, "verdict": verdict,
                         "run": run.group(1) if run else "?", "cpu": cpu.group(1) if cpu else "?"})
    return rows


def render(rows: list[dict[str, str]]) -> str:
    missed = [r for r in rows if r["verdict"] != "met"]
    machines = sorted({r["cpu"] for r in rows})
    lines = [TITLE, "",
             f"{len(rows)} goals, {len(rows) - len(missed)} met"
             + (f", **{len(missed)} NOT met**" if missed else "") + "; measured on "
             + (machines[0] if len(machines) == 1 else " and ".join(machines)) + ".", "",
             "| section | goal | measured | verdict | run |", "|---|---|--:|---|---|"]
    for r in rows:
        verdict = "**met**" if r["verdict"] == "met" else "**NOT met**"
        lines.append(f"| {r['section']} | {r['goal']} | {r['value']} | {verdict} | {r['run']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.summary")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is not met")
    args = parser.parse_args(argv)
    text = DOCS.read_text()
    rows = goal_rows(text)
    summary = render(rows)
    print(summary)
    existing = re.compile(rf"^{re.escape(TITLE)}\n.*?(?=^## )", re.S | re.M)
    if existing.search(text):
        text = existing.sub(lambda _m: summary + "\n", text, count=1)
    else:
        first = text.find("\n## ")
        text = text[:first + 1] + summary + "\n" + text[first + 1:]
    DOCS.write_text(text)
    if args.check and any(r["verdict"] != "met" for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
