"""The dependency rules of STYLE.md §3, checked on the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "idp"


def modules():
    """Yield ``(name, path)`` per module; a package's ``__init__`` is named after the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", ".")
        yield name.removesuffix(".__init__"), path


def _runtime_nodes(tree: ast.AST):
    """Walk the whole tree (function bodies included) but skip ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def import_statements(module: str, path: Path):
    """Yield ``(base, names)`` per import in ``path``, relative bases made absolute.

    ``import a.b`` gives ``("a.b", [])``; ``from .x import y, z`` gives ``("pkg.x", ["y", "z"])``.
    """
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            yield base, [alias.name for alias in node.names]


def imported_names(module: str, path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports (relative imports resolved)."""
    names = set()
    for base, aliases in import_statements(module, path):
        names.add(base)
        names.update(f"{base}.{alias}" for alias in aliases)
    return names


def imports_of(prefix: str):
    return [(m, p, imported_names(m, p)) for m, p in modules() if m.startswith(prefix)]


def offenders(prefix: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{module} imports {name}" for module, _, names in imports_of(prefix)
            for name in sorted(names) if name.startswith(forbidden)]


def test_only_oidc_imports_authlib_and_joserfc():
    bad = [line for line in offenders("idp", ("authlib", "joserfc"))
           if not line.startswith("idp.oidc")]
    assert bad == []


@pytest.mark.parametrize("package", ["idp.accounts", "idp.admin", "idp.registration"])
def test_accounts_and_admin_never_import_oidc(package):
    assert offenders(package, ("idp.oidc",)) == []


def test_models_import_no_flask_services_or_authlib():
    forbidden = ("flask", "authlib", "joserfc", "idp.accounts", "idp.admin", "idp.oidc",
                 "idp.identity", "idp.sms", "idp.registration", "idp.extensions")
    assert offenders("idp.models", forbidden) == []


@pytest.mark.parametrize("package", ["idp.identity", "idp.sms", "idp.security"])
def test_adapters_and_policies_never_import_views(package):
    bad = [line for line in offenders(package, ("idp.",)) if ".views" in line.split()[-1]]
    assert bad == []


def test_only_settings_reads_the_environment():
    readers = [module for module, path, _ in imports_of("idp")
               if "os.environ" in path.read_text() or "getenv(" in path.read_text()]
    assert readers == ["idp.settings"]


def test_grants_import_no_protocol_library_request_or_interface():
    """``idp.grants`` sits below the provider, the account pages and admin."""
    forbidden = ("authlib", "joserfc", "idp.oidc", "idp.accounts", "idp.admin",
                 "idp.registration", "flask.request", "flask.session", "flask.g")
    assert offenders("idp.grants", forbidden) == []


def test_only_the_factory_and_the_cli_import_admin():
    """``admin`` is a user interface: services and protocols never depend on it."""
    bad = [line for line in offenders("idp", ("idp.admin",))
           if not line.startswith(("idp.admin", "idp.commands", "idp imports"))]
    assert bad == []


def import_graph() -> dict[str, set[str]]:
    """Map each module of ``idp`` to the ``idp`` modules it imports, in function bodies too.

    ``from pkg import x`` is an import of the module ``pkg.x`` when there is one, else of
    ``pkg`` (a name its ``__init__`` defines). The factory module ``idp`` is the root: it
    imports every package inside ``create_app``, so edges into it are left out (``from ..
    import audit`` imports ``idp.audit``, not the factory).
    """
    known = dict(modules())
    graph = {}
    for module, path in known.items():
        targets = set()
        for base, aliases in import_statements(module, path):
            if not aliases:
                targets.add(base)
            for alias in aliases:
                targets.add(f"{base}.{alias}" if f"{base}.{alias}" in known else base)
        graph[module] = {t for t in targets if t in known and t != "idp"}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle as ``[a, b, …, a]``, or ``None``."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module):
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph[module]):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(module)
        return None

    return next(filter(None, map(visit, sorted(graph))), None)


def test_find_cycle_reports_the_loop():
    """The cycle is named in order, from its first module back to it."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_import_statements_include_functions_but_not_type_checking(tmp_path):
    """Imports inside functions count; those only for type checkers do not."""
    path = tmp_path / "mod.py"
    path.write_text("from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n    from .hidden import Thing\n"
                    "def f():\n    from . import inner\n    import idp.text\n")
    assert sorted(import_statements("idp.pkg.mod", path)) == [
        ("idp.pkg", ["inner"]), ("idp.text", []), ("typing", ["TYPE_CHECKING"])]


def test_import_graph_resolves_modules_and_leaves_out_the_factory():
    """``from . import x`` is an edge to module ``x``; nothing points at the factory."""
    graph = import_graph()
    assert "idp.oidc.server" in graph["idp.oidc"]  # imported inside init_app
    assert {"idp.oidc.grants", "idp.oidc.storage"} <= graph["idp.oidc.server"]
    assert "idp.oidc" not in graph["idp.oidc.server"]
    assert "idp.audit" in graph["idp.grants.consents"]  # from .. import audit
    assert all("idp" not in targets for targets in graph.values())


def test_the_import_graph_has_no_cycle():
    """No module imports itself through others, even from inside a function."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
