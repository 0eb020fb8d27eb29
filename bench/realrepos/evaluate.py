"""Precision and recall of npm-guard's workflow rules on real repositories.

`corpus.json` lists public repositories that publish to npm from GitHub Actions, each at
the commit that was labelled; `labels.json` holds, per repository, what a person found
reading its files: every step that publishes (where, how, and with which credential) and
every finding of an earlier npm-guard, labelled TP or FP with the reason. The
repositories themselves are never stored here: bring each one to `--corpus DIR` as
`DIR/<owner>+<name>` (a clone at the labelled commit), then

    python bench/realrepos/evaluate.py --corpus DIR [--npm-guard PATH] [--output FILE]

scans every repository as its own repository (`npm-guard scan --format json
--no-ignores .` in its root), matches each finding against the labels by rule, file and
line, and reports per rule TP / FP / unlabelled, precision, and the share of token-based
publish steps found. Unlabelled findings are listed so a person can read them against the
file and add them to `labels.json`; until then they count in neither column, and the
report says how many there are.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Rules that report a publish that uses a long-lived token (found = one of these lies in
# the publish step, or in the composite action / reusable workflow the step runs).
PUBLISH_RULES = frozenset(
    {
        "workflow-publish-with-long-lived-token",
        "workflow-token-shadows-oidc",  # the name before the publishing-model rework
        "workflow-publish-token-fallback",
    }
)
# Old rule ids → current ones, for renames that kept the rule's meaning (so its labels
# still hold). A rule whose meaning changed is not listed: its findings come back
# unlabelled and are read again.
RENAMED: dict[str, str] = {}
TOKEN_BASED = frozenset({"token", "token+oidc"})


def load(name: str) -> object:
    with open(HERE / name, encoding="utf-8") as handle:
        return json.load(handle)


def current_id(rule: str) -> str:
    return RENAMED.get(rule, rule)


def step_ranges(path: Path) -> dict[int, int]:
    """Start line → end line of every step (a `- ` item of a `steps:` sequence)."""
    import yaml

    try:
        text = path.read_text("utf-8", errors="replace")
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError):
        return {}
    ranges: dict[int, int] = {}

    def walk(node: object) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if (
                    isinstance(key, yaml.ScalarNode)
                    and key.value == "steps"
                    and isinstance(value, yaml.SequenceNode)
                ):
                    for item in value.value:
                        ranges[item.start_mark.line + 1] = last_line(item)
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    walk(root)
    return ranges


def last_line(node: object) -> int:
    """The last line (1-based) with content of a YAML node: a block collection's own end
    mark is where the next token starts, so it is taken from its last value."""
    import yaml

    if isinstance(node, yaml.MappingNode) and node.value:
        return last_line(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value:
        return last_line(node.value[-1])
    mark = node.end_mark  # type: ignore[attr-defined]
    return int(mark.line) if mark.column == 0 else int(mark.line) + 1


def scan(npm_guard: str, directory: Path) -> list[dict[str, object]]:
    proc = subprocess.run(
        [npm_guard, "scan", "--format", "json", "--no-ignores", "."],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{directory}: npm-guard exited {proc.returncode}: {proc.stderr[-400:]}")
    report = json.loads(proc.stdout)
    findings: list[dict[str, object]] = report["findings"]
    return findings


def _rule(finding: Mapping[str, object]) -> str:
    return str(finding.get("ruleId") or finding.get("rule_id") or finding.get("rule"))


def _where(finding: Mapping[str, object]) -> tuple[str, int]:
    location = finding.get("location")
    if isinstance(location, Mapping):
        return str(location.get("path")), int(location.get("line", 1))  # type: ignore[call-overload]
    return str(finding.get("path") or finding.get("file")), int(finding.get("line", 1))  # type: ignore[call-overload]


def via_files(step: Mapping[str, object]) -> set[str]:
    """Files a publish step runs that may carry the finding instead of the step itself."""
    via = str(step.get("via", ""))
    found = set()
    for word in via.replace(",", " ").replace("(", " ").replace(")", " ").split():
        word = word.strip("`'\"").split(":")[0]
        if word.startswith("./"):
            word = word[2:]
        if word.endswith((".yml", ".yaml")) or ("/" in word and "action" in word):
            found.add(word)
            if not word.endswith((".yml", ".yaml")):
                found.add(word.rstrip("/") + "/action.yml")
                found.add(word.rstrip("/") + "/action.yaml")
    return found


def evaluate(
    corpus: Sequence[Mapping[str, object]],
    labels: Mapping[str, Mapping[str, object]],
    corpus_dir: Path,
    npm_guard: str,
) -> dict[str, object]:
    per_rule: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    unlabelled: list[dict[str, object]] = []
    wrong: list[dict[str, object]] = []
    publish_total = publish_found = 0
    other_registry_total = other_registry_found = 0
    missed: list[dict[str, object]] = []
    scanned = 0
    absent = []
    for entry in corpus:
        repo = str(entry["repo"])
        directory = corpus_dir / repo.replace("/", "+")
        if not directory.is_dir():
            absent.append(repo)
            continue
        scanned += 1
        label = labels.get(repo, {})
        known: dict[tuple[str, str, int], str] = {}
        reasons: dict[tuple[str, str, int], str] = {}
        for item in label.get("findings", []):  # type: ignore[attr-defined]
            key = (current_id(item["rule"]), item["file"], int(item["line"]))
            known[key] = item["label"]
            reasons[key] = item.get("reason", "")
        findings = scan(npm_guard, directory)
        for finding in findings:
            rule = current_id(_rule(finding))
            path, line = _where(finding)
            verdict = known.get((rule, path, line))
            if verdict is None:
                per_rule[rule]["unlabelled"] += 1
                unlabelled.append(
                    {
                        "repo": repo,
                        "rule": rule,
                        "file": path,
                        "line": line,
                        "message": finding.get("message"),
                    }
                )
            else:
                per_rule[rule][verdict] += 1
                if verdict == "FP":
                    wrong.append(
                        {
                            "repo": repo,
                            "rule": rule,
                            "file": path,
                            "line": line,
                            "reason": reasons[(rule, path, line)],
                        }
                    )
        ranges: dict[str, dict[int, int]] = {}
        for step in label.get("publish_steps", []):  # type: ignore[attr-defined]
            if step.get("auth") not in TOKEN_BASED:
                continue
            file = str(step["file"])
            if file not in ranges:
                ranges[file] = step_ranges(directory / file)
            start = int(step["step_line"])
            end = ranges[file].get(start, max(start, int(step.get("command_line", start))))
            places = via_files(step)
            found = any(
                current_id(_rule(f)) in {current_id(r) for r in PUBLISH_RULES}
                and (
                    (_where(f)[0] == file and start <= _where(f)[1] <= end)
                    or _where(f)[0] in places
                )
                for f in findings
            )
            if step.get("registry") == "npmjs":
                publish_total += 1
                publish_found += found
            else:
                other_registry_total += 1
                other_registry_found += found
            if not found and step.get("registry") == "npmjs":
                missed.append(
                    {
                        "repo": repo,
                        "file": file,
                        "line": start,
                        "how": step.get("how"),
                        "via": step.get("via"),
                        "auth": step.get("auth"),
                    }
                )
    tp = sum(c["TP"] for c in per_rule.values())
    fp = sum(c["FP"] for c in per_rule.values())
    return {
        "repositories": scanned,
        "absent": absent,
        "per_rule": {rule: dict(counts) for rule, counts in sorted(per_rule.items())},
        "tp": tp,
        "fp": fp,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "unlabelled": unlabelled,
        "false_positives": wrong,
        "token_publish_steps": publish_total,
        "token_publish_steps_found": publish_found,
        "recall": round(publish_found / publish_total, 3) if publish_total else None,
        "other_registry_token_publish_steps": other_registry_total,
        "other_registry_token_publish_steps_found": other_registry_found,
        "missed_publish_steps": missed,
    }


def render(result: Mapping[str, object]) -> str:
    lines = [
        f"Repositories scanned: {result['repositories']}",
        "",
        "| rule | TP | FP | unlabelled | precision |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    per_rule: Mapping[str, Mapping[str, int]] = result["per_rule"]  # type: ignore[assignment]
    for rule, counts in per_rule.items():
        tp, fp = counts.get("TP", 0), counts.get("FP", 0)
        precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        lines.append(
            f"| {rule} | {tp} | {fp} | {counts.get('unlabelled', 0)} | {precision} |"
            + (f" ({counts['debatable']} debatable)" if counts.get("debatable") else "")
        )
    lines += [
        "",
        f"Precision (labelled findings): {result['precision']} "
        f"({result['tp']} right, {result['fp']} wrong; "
        f"{len(result['unlabelled'])} unlabelled)",  # type: ignore[arg-type]
        f"Token-based publish steps to npmjs found: {result['token_publish_steps_found']} of "
        f"{result['token_publish_steps']} ({result['recall']})",
        f"(to other registries: {result['other_registry_token_publish_steps_found']} of "
        f"{result['other_registry_token_publish_steps']})",
    ]
    if result["missed_publish_steps"]:
        lines += ["", "Missed token-based publish steps:"]
        for miss in result["missed_publish_steps"]:  # type: ignore[attr-defined]
            where = f"{miss['repo']} {miss['file']}:{miss['line']}"
            lines.append(f"- {where} {miss['how']} ({miss['auth']})")
    if result["false_positives"]:
        lines += ["", "Findings labelled wrong:"]
        for item in result["false_positives"]:  # type: ignore[attr-defined]
            where = f"{item['repo']} {item['file']}:{item['line']}"
            lines.append(f"- {where} [{item['rule']}] {item['reason']}")
    if result["unlabelled"]:
        lines += ["", "Unlabelled findings (read each against its file, then label it):"]
        for item in result["unlabelled"]:  # type: ignore[attr-defined]
            where = f"{item['repo']} {item['file']}:{item['line']}"
            lines.append(f"- {where} [{item['rule']}] {item['message']}")
    return "\n".join(lines) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", required=True, type=Path, help="directory of <owner>+<name> clones"
    )
    parser.add_argument("--npm-guard", default=shutil.which("npm-guard") or "npm-guard")
    parser.add_argument("--json", type=Path, help="also write the full result as JSON here")
    parser.add_argument("--output", type=Path, help="write the Markdown report here")
    args = parser.parse_args(list(argv) if argv is not None else None)
    corpus: list[dict[str, object]] = load("corpus.json")  # type: ignore[assignment]
    labels: dict[str, dict[str, object]] = load("labels.json")  # type: ignore[assignment]
    result = evaluate(corpus, labels, args.corpus, os.path.abspath(args.npm_guard))
    text = render(result)
    if args.output:
        args.output.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
