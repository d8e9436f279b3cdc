"""``heron rules test PATH…``: run rule test files (detections as code) on a virtual clock."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

__all__ = ["rules_test"]


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one PASS/FAIL line a test; json: one object a test.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also list each test's detections.")
def rules_test(paths: tuple[Path, ...], output_format: str, verbose: bool) -> None:
    """Run rule tests: YAML files with rule paths, events and expected detections.

    Events replay in event-time order and every correlation window closes at the end,
    so old data exercises correlations like live data. Exits 1 when a test fails.
    """
    # Imported here: ``heron --help`` must not pay for the Sigma machinery.
    from heron.errors import HeronError
    from heron.rules.testing import find_test_files, load_test_file, run_rule_test

    passed = failed = 0
    for file in find_test_files(list(paths)):
        try:
            tests = load_test_file(file)
        except HeronError as exc:
            failed += 1
            _report(output_format, str(file), False, [str(exc)], [])
            continue
        for test in tests:
            try:
                outcome = run_rule_test(test)
            except HeronError as exc:
                failed += 1
                _report(output_format, test.name, False, [str(exc)], [])
                continue
            passed += outcome.passed
            failed += not outcome.passed
            shown = (
                [f"{d.rule_name} ({len(d.event_ids)} events)" for d in outcome.detections]
                if verbose
                else []
            )
            _report(
                output_format, f"{test.name} ({file.name})", outcome.passed, outcome.failures, shown
            )
    if output_format == "table":
        click.echo(f"{passed} passed, {failed} failed")
    if failed:
        sys.exit(1)


def _report(fmt: str, name: str, ok: bool, failures: list[str], detections: list[str]) -> None:
    if fmt == "json":
        row = {"test": name, "passed": ok, "failures": failures}
        if detections:
            row["detections"] = detections
        click.echo(orjson.dumps(row).decode())
        return
    click.echo(f"{'PASS' if ok else 'FAIL'}  {name}")
    for reason in failures:
        click.echo(f"      {reason}")
    for line in detections:
        click.echo(f"      - {line}")
