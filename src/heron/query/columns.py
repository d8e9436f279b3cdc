"""The stages that drop or rename columns: ``project-away`` and ``project-rename``."""

from __future__ import annotations

import fnmatch

from sqlglot import exp

from heron.query import ast
from heron.query.compile import Block, PipelineCompiler, alias
from heron.query.errors import QueryTypeError, UnknownFieldError
from heron.query.schema import QType
from heron.query.scope import suggest_name

__all__ = ["project_away", "project_rename"]


def project_away(pc: PipelineCompiler, block: Block, stage: ast.ProjectAway) -> Block:
    """Drop the named columns (``*`` wildcards allowed)."""
    if not block.plain:
        block = pc.wrap(block)
    removed: list[str] = []
    for ref in stage.names:
        matched = _match_columns(pc, block, ref)
        removed.extend(m for m in matched if m not in removed)
    if block.columns is not None and len(removed) == len(block.columns):
        raise pc.ctx.error(QueryTypeError, "project-away would remove every column", stage.span)
    block.select.set(
        "expressions", [exp.Star(except_=[exp.column(n, quoted=True) for n in removed])]
    )
    block.star = False
    if block.columns is not None:
        block.columns = {n: t for n, t in block.columns.items() if n not in removed}
    if block.json_column in removed:
        block.json_column = None
    block.text_columns = tuple(c for c in block.text_columns if c not in removed)
    return block


def _match_columns(pc: PipelineCompiler, block: Block, ref: ast.FieldRef) -> list[str]:
    if block.columns is None:
        if "*" in ref.name:
            raise pc.ctx.error(
                QueryTypeError,
                "wildcards need known columns",
                ref.span,
                hint="name the columns, or project the ones you want",
            )
        return [ref.name]
    if "*" in ref.name:
        matched = [c for c in block.columns if fnmatch.fnmatchcase(c, ref.name)]
        if not matched:
            raise pc.ctx.error(UnknownFieldError, f"no column matches '{ref.name}'", ref.span)
        return matched
    if ref.name in block.columns:
        return [ref.name]
    close = suggest_name(ref.name, list(block.columns))
    hint = None
    if block.json_column is not None and close is None:
        hint = (
            f"'{ref.name}' is not a column (extra fields live in {block.json_column}); "
            "project the fields you want instead"
        )
    raise pc.ctx.error(
        UnknownFieldError,
        f"unknown column '{ref.name}'" + (f" — did you mean '{close}'?" if close else ""),
        ref.span,
        hint,
    )


def project_rename(pc: PipelineCompiler, block: Block, stage: ast.ProjectRename) -> Block:
    """Rename columns, keeping the others."""
    if not block.plain:
        block = pc.wrap(block)
    renames: dict[str, str] = {}
    for new, old in stage.pairs:
        (matched,) = _match_columns(pc, block, old)
        renames[matched] = new.name
    if block.columns is None:
        select_list: list[exp.Expr] = [
            exp.Star(except_=[exp.column(o, quoted=True) for o in renames]),
            *[alias(exp.column(o, quoted=True), n) for o, n in renames.items()],
        ]
    else:
        select_list = [
            alias(exp.column(c, quoted=True), renames[c])
            if c in renames
            else exp.column(c, quoted=True)
            for c in block.columns
        ]
        columns: dict[str, QType] = {}
        for c, t in block.columns.items():
            pc.check_unique(renames.get(c, c), columns, stage)
            columns[renames.get(c, c)] = t
        block.columns = columns
    block.select.set("expressions", select_list)
    block.star = False
    if block.json_column in renames:
        block.json_column = None
    block.text_columns = tuple(c for c in block.text_columns if c not in renames)
    return block
