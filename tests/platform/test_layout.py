"""The shape of the code that the next domains will copy: one-way imports, locks in one place, one signature."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import models

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "models", "geo")
MAX_LINES = 450
# Domains, lowest first: a domain imports only those before it (models/<domain>/...).
DOMAINS = ("territory", "departments", "people", "accounts", "enterprises", "hazards", "patrols", "duty", "statistics")


def source_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports, anywhere in the file (inside functions too)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # `from a.b import c` imports the module a.b.c when there is one, else a name of a.b
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def import_graph() -> dict[str, set[str]]:
    files = source_files(*PACKAGES)
    known = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, known) - {module_name(p)} for p in files}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_api_models_or_geo_imports_itself_through_others():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_geo_imports_neither_models_nor_api_and_models_never_imports_api():
    for module, imported in import_graph().items():
        if module.startswith("geo"):
            assert not {m for m in imported if m.startswith(("models", "api"))}, module
        if module.startswith("models"):
            assert not {m for m in imported if m.startswith("api")}, module


def test_a_domain_imports_only_the_domains_below_it():
    def domain_of(module: str) -> str | None:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 and parts[0] == "models" and parts[1] in DOMAINS else None

    upward = []
    for module, imported in import_graph().items():
        mine = domain_of(module)
        if mine is None:
            continue
        for other in filter(None, map(domain_of, imported)):
            if DOMAINS.index(other) > DOMAINS.index(mine):
                upward.append(f"{module} imports {other}")
    assert upward == []


def test_roles_import_no_model():
    assert import_graph()["models.roles"] <= {"models.errors"}


def test_no_source_file_is_over_450_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in source_files(*PACKAGES, "scripts", "tests")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_lock_keys_are_built_only_in_the_locks_module():
    offenders = []
    for path in source_files(*PACKAGES):
        if path.name == "locks.py" and path.parent.name == "models":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "write_transaction"
            ):
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Constant | ast.JoinedStr | ast.BinOp):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if "advisory" in text and path.name != "base.py":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} takes a lock of its own")
    assert offenders == []


def test_write_transaction_refuses_a_plain_string_key(app):
    from api.db import db
    from models.base import write_transaction

    with db.new_session(app) as session, pytest.raises(TypeError):
        write_transaction(session, "team:1")


# Functions that touch the database without a caller: they find out who the caller is, or run as the system, or
# are a step inside a caller's write.
NO_CALLER = {
    "login",
    "refresh",
    "caller_for_token",
    "purge_expired_tokens",
    "purge_expired_keys",
    "load_demo_county",
    "load_demo_enterprises",
    "load_demo_hazards",
    "load_demo_patrols",
    "load_demo_duty",
    "demo_signers",
    "revoke_sessions",
}
# The plumbing under every domain: transactions, paging and the fast reads.
INFRASTRUCTURE = ("models.base.", "models.listing.", "models.reads.")


def public_database_functions() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.walk_packages(models.__path__, "models."):
        module = importlib.import_module(info.name)
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or func.__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(func).parameters.values())
            if parameters and parameters[0].name == "session" and not f"{info.name}.".startswith(INFRASTRUCTURE):
                found.append((f"{info.name}.{name}", func))
    return found


def test_every_public_function_that_touches_the_database_reads_session_then_keywords_with_the_caller():
    wrong = []
    for name, func in public_database_functions():
        parameters = list(inspect.signature(func).parameters.values())[1:]
        keywords = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD)  # **fields: keywords too
        if any(p.kind not in keywords for p in parameters):
            wrong.append(f"{name}: arguments after the session are not keyword-only")
        if name.rpartition(".")[2] not in NO_CALLER and (not parameters or parameters[0].name != "caller"):
            wrong.append(f"{name}: the caller is not its first keyword")
    assert len(public_database_functions()) > 30
    assert wrong == []


def test_a_lock_taken_after_one_that_comes_later_in_the_order_is_refused(app):
    from api.db import db
    from models import locks
    from models.base import write_transaction

    with db.new_session(app) as session:
        write_transaction(session, locks.officer(2), locks.team(1))  # sorted: team, then officer
        assert [key.kind for key in session.info["locks_held"]] == [locks.LockKind.TEAM, locks.LockKind.OFFICER]
        write_transaction(session, locks.mobile("13800138000"))  # later in the order: fine
        with pytest.raises(RuntimeError, match="out of the order"):
            write_transaction(session, locks.accounts())
        session.rollback()
        write_transaction(session, locks.accounts())  # a new transaction holds nothing yet
        session.rollback()
