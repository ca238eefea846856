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


def imported_names(module: str, path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports (relative imports resolved)."""
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
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
