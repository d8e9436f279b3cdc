"""The score as tables on the terminal."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from heron.simulate.score import Score

__all__ = ["print_score"]


def print_score(score: Score, console: Console | None = None) -> None:
    # Piped output is not cut to 80 columns: rule names are long.
    console = console or Console(soft_wrap=True, width=None if sys.stdout.isatty() else 140)
    chains = Table(title="Attack chains (recall = labelled steps covered by an alert)")
    for col in ("chain", "recall", "covered", "missed", "alerts", "rules"):
        chains.add_column(col)
    for c in score.chains:
        missed = [s for s in c.steps if s not in c.covered]
        chains.add_row(
            c.chain_id, f"{c.recall:.2f}", f"{len(c.covered)}/{len(c.steps)}",
            ", ".join(missed) or "-", str(c.alerts), "\n".join(c.rules) or "-",
        )  # fmt: skip
    console.print(chains)
    rules = Table(title="Rules (true positive: an alert holding a labelled event)")
    for col in ("rule", "level", "alerts", "true pos.", "benign", "precision"):
        rules.add_column(col)
    for r in score.rules:
        rules.add_row(
            r.rule_name, r.level, str(r.alerts), str(r.true_positives),
            str(r.alerts - r.true_positives), f"{r.precision:.2f}",
        )  # fmt: skip
    console.print(rules)
    console.print(
        f"alerts {score.alerts}, true positive {score.true_positives}, "
        f"precision {score.precision:.3f}; benign alerts {score.benign_alerts} over "
        f"{score.days} days = {score.benign_per_day:.2f} a day; labelled events found in "
        f"the store {score.found_events}/{score.labelled_events}"
    )
