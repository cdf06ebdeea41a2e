"""docs/api.md's table of problem codes holds exactly the codes the code can answer, each under its status.

The codes are read from the source (ast), not from running it, so that a code nobody has a test for is still held:
- a DomainError (or subclass) raised anywhere in api/, models/ or geo/: its `code="..."`, or its class's default
  code, under the class's status (RuleViolation 422, Conflict 409, ...);
- a field rule, `coded("...", ...)`, and a geometry rule, `GeometryError("...", ...)`: 422 (through marshmallow);
- api/errors.py's tables: `_HTTP_CODES` (the generic code of each status) and `_MARSHMALLOW_CODES` (marshmallow's
  own messages; their status depends on where they arise, so only the code is held), and its literal `problem(...)`.
A code raised through a variable cannot be read, and fails the test unless it is accounted for in ACCOUNTED_FOR.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("api", "models", "geo")
DOCS = ROOT / "docs" / "api.md"
FIELD_RULES = 422
# Codes passed on through a variable, and where the literals they carry are collected instead.
ACCOUNTED_FOR = {("api/fields.py", "coded(exc.code, exc.message)"): "the GeometryError(...) codes of geo/"}
CODE = re.compile(r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def _files() -> list[Path]:
    return sorted(p for package in SOURCES for p in (ROOT / package).rglob("*.py"))


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def domain_errors() -> dict[str, tuple[int, str]]:
    """Every DomainError class in the source, by name: (status, default code), inherited where not set."""
    declared: dict[str, tuple[list[str], dict[str, object]]] = {}
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                attrs = {
                    target.id: statement.value.value
                    for statement in node.body
                    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
                    for target in statement.targets
                    if isinstance(target, ast.Name)
                }
                # bases by plain name only: `class Schema(ma.Schema)` is no subclass of itself
                declared[node.name] = (
                    [b.id for b in node.bases if isinstance(b, ast.Name) and b.id != node.name],
                    attrs,
                )

    def resolve(name: str, key: str) -> object | None:
        if name not in declared:
            return None
        bases, attrs = declared[name]
        if key in attrs:
            return attrs[key]
        return next((found for base in bases if (found := resolve(base, key)) is not None), None)

    def is_domain_error(name: str) -> bool:
        return name == "DomainError" or any(is_domain_error(b) for b in declared.get(name, ([], {}))[0])

    return {
        name: (int(resolve(name, "status")), str(resolve(name, "code")))  # type: ignore[arg-type]
        for name in declared
        if is_domain_error(name)
    }


def source_codes() -> tuple[dict[str, set[int]], set[str], list[str]]:
    """(code -> the statuses it is answered with), codes whose status depends on where they arise, and the calls
    whose code cannot be read."""
    errors = domain_errors()
    with_status: dict[str, set[int]] = defaultdict(set)
    without_status: set[str] = set()
    unreadable: list[str] = []
    for path in _files():
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            keywords = {k.arg: k.value for k in node.keywords}
            first = node.args[0] if node.args else None
            if name in errors:
                status, default = errors[name]
                code = _literal(keywords["code"]) if "code" in keywords else default
            elif name in ("coded", "GeometryError"):
                status, code = FIELD_RULES, _literal(first)
            elif name == "problem" and where == "api/errors.py" and isinstance(first, ast.Constant):
                status, code = first.value, _literal(node.args[1])
            else:
                continue
            if code is None:
                if (where, ast.unparse(node)) not in ACCOUNTED_FOR:
                    unreadable.append(f"{where}:{node.lineno} {ast.unparse(node)[:80]}")
                continue
            with_status[code].add(status)
        if where == "api/errors.py":
            tables = {
                t.id: statement.value
                for statement in tree.body
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Dict)
                for t in statement.targets
                if isinstance(t, ast.Name)
            }
            for key, value in zip(tables["_HTTP_CODES"].keys, tables["_HTTP_CODES"].values, strict=True):
                with_status[_literal(value)].add(key.value)  # type: ignore[union-attr,index]
            without_status.update(_literal(v) for v in tables["_MARSHMALLOW_CODES"].values)  # type: ignore[misc]
    return dict(with_status), without_status - set(with_status), unreadable


def documented_codes() -> dict[str, set[int]]:
    """code -> statuses, from the errors section of docs/api.md: its table (`| 409 | `a`, `b` ... |`) and any
    "409 `code`" pair in its prose."""
    text = DOCS.read_text()
    section = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    found: dict[str, set[int]] = defaultdict(set)
    for line in section.splitlines():
        row = re.match(r"\|\s*(\d{3})\s*\|(.*)\|\s*\Z", line)
        if row:
            for token in re.findall(r"`([^`]+)`", row.group(2)):
                if CODE.match(token):
                    found[token].add(int(row.group(1)))
        else:
            for status, token in re.findall(r"\b(\d{3}) `([a-z0-9-]+)`", line):
                found[token].add(int(status))
    return dict(found)


def test_the_collectors_see_the_codes_they_are_meant_to():
    with_status, without_status, _ = source_codes()
    documented = documented_codes()

    assert domain_errors()["RuleViolation"] == (422, "rule-violation")
    assert domain_errors()["Conflict"] == (409, "conflict")
    assert with_status["own-account"] == {409}  # Conflict(..., code="own-account")
    assert with_status["outside-parent"] == {422}  # RuleViolation(..., code=...)
    assert with_status["not-found"] >= {404}  # NotFound(...) without a code, and the HTTP table
    assert with_status["ring-not-closed"] == {422}  # GeometryError("ring-not-closed", ...)
    assert with_status["nul-character"] == {422}  # coded("nul-character", ...)
    assert with_status["internal-error"] == {500}
    assert {"required", "unknown-field", "null", "malformed-json"} <= without_status | set(with_status)
    assert len(with_status) > 60
    assert documented["malformed-json"] == {400} and len(documented) > 60


def test_every_code_the_code_can_answer_is_documented_under_its_status_and_no_other():
    with_status, without_status, unreadable = source_codes()
    documented = documented_codes()
    drift = []

    for code, statuses in sorted(with_status.items()):
        if code not in documented:
            drift.append(f"{code}: answered as {sorted(statuses)}, not in docs/api.md")
        elif statuses != documented[code]:
            drift.append(f"{code}: answered as {sorted(statuses)}, documented under {sorted(documented[code])}")
    for code in sorted(without_status - set(documented)):
        drift.append(f"{code}: answered, not in docs/api.md")
    for code in sorted(set(documented) - set(with_status) - without_status):
        drift.append(f"{code}: in docs/api.md under {sorted(documented[code])}, but nothing answers it")

    assert unreadable == [], "codes passed through a variable: make them literals or account for them"
    assert drift == []
