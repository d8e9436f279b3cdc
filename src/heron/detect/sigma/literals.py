"""Required literals of a regular expression, for the prefilter.

``required_literals(pattern)`` returns texts of which at least one occurs in every
string the pattern matches (one text per top-level alternative), or None when no such
text can be read off safely. It is conservative: anything it does not understand
ends the current literal run, quantifiers that allow zero repetitions drop the atom
they apply to, and groups and classes are skipped, never guessed at.
"""

from __future__ import annotations

__all__ = ["required_literals"]

# Escapes that stand for a class, an anchor or a code point: not a literal character.
_NON_LITERAL_ESCAPES = frozenset("dDwWsSbBAzZGpPQEx0123456789uUNkKRXCcaefnrtv")
_MIN_LEN = 1


def _split_alternatives(pattern: str) -> list[str] | None:
    parts, depth, start, i, n = [], 0, 0, 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            end = _class_end(pattern, i)
            if end is None:
                return None
            i = end + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return None
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    if depth != 0:
        return None
    parts.append(pattern[start:])
    return parts


def _class_end(pattern: str, start: int) -> int | None:
    """Index of the ``]`` closing the class opened at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[" and pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            if close < 0:
                return None
            i = close + 2
            continue
        if c == "]":
            return i
        i += 1
    return None


def _group_end(pattern: str, start: int) -> int | None:
    depth, i = 0, start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            end = _class_end(pattern, i)
            if end is None:
                return None
            i = end + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _repeat_min(pattern: str, start: int) -> tuple[int, int] | None:
    """``{n}``, ``{n,}`` or ``{n,m}`` at ``start``: (n, index after it); None if not one."""
    close = pattern.find("}", start)
    if close < 0:
        return None
    body = pattern[start + 1 : close]
    low = body.split(",", 1)[0]
    if not low.isdigit() or not all(part.isdigit() or part == "" for part in body.split(",")):
        return None
    return int(low), close + 1


def _longest_run(branch: str) -> str | None:
    runs: list[str] = []
    cur: list[str] = []
    last_was_char = False

    def flush() -> None:
        if cur:
            runs.append("".join(cur))
            cur.clear()

    i, n = 0, len(branch)
    while i < n:
        c = branch[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            nxt = branch[i + 1]
            if nxt in _NON_LITERAL_ESCAPES:
                flush()
                last_was_char = False
                i += 2
                if nxt in "pPx" and i < n and branch[i] == "{":
                    close = branch.find("}", i)
                    i = n if close < 0 else close + 1
                continue
            cur.append(nxt)
            last_was_char = True
            i += 2
            continue
        if c == "[":
            end = _class_end(branch, i)
            if end is None:
                return None
            flush()
            last_was_char = False
            i = end + 1
            continue
        if c == "(":
            end = _group_end(branch, i)
            if end is None:
                return None
            body = branch[i + 1 : end]
            if body.startswith("?") and body[1:].isalpha() and body[1:] != "P":
                i = end + 1  # inline flags such as (?i): zero-width, the run goes on
                continue
            flush()
            last_was_char = False
            i = end + 1
            continue
        if c in "*?":
            if last_was_char and cur:
                cur.pop()  # the atom may be absent
            flush()
            last_was_char = False
            i += 1
            if i < n and branch[i] == "?":
                i += 1
            continue
        if c == "+":
            flush()
            last_was_char = False
            i += 1
            if i < n and branch[i] == "?":
                i += 1
            continue
        if c == "{":
            rep = _repeat_min(branch, i)
            if rep is not None:
                low, after = rep
                if low == 0 and last_was_char and cur:
                    cur.pop()
                flush()
                last_was_char = False
                i = after
                if i < n and branch[i] == "?":
                    i += 1
                continue
        if c in ".^$":
            flush()
            last_was_char = False
            i += 1
            continue
        cur.append(c)
        last_was_char = True
        i += 1
    flush()
    best = max(runs, key=len, default="")
    return best if len(best) >= _MIN_LEN else None


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lowercased texts one of which every match contains; None if unknown."""
    if "\\Q" in pattern:
        return None
    branches = _split_alternatives(pattern)
    if branches is None:
        return None
    out = set()
    for branch in branches:
        run = _longest_run(branch)
        if run is None:
            return None
        out.add(run.lower())
    return frozenset(out)
