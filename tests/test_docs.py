"""docs/FLOWS.md: the code's citations name its sections, and the texts it quotes are real."""

from __future__ import annotations

import re

from idp.settings import PROJECT_ROOT

FLOWS = PROJECT_ROOT / "docs" / "FLOWS.md"
SOURCES = [*(PROJECT_ROOT / "idp").rglob("*.py"), *(PROJECT_ROOT / "templates").rglob("*.*")]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_citation_names_a_section():
    """Each section of docs/FLOWS.md that the code or the tests cite is one of its headings."""
    headings = set(re.findall(r"^#+ (.+)$", FLOWS.read_text(), re.M))
    cited = {}
    for path in [*SOURCES, *(PROJECT_ROOT / "tests").glob("*.py")]:
        for section in re.findall(r'docs/FLOWS\.md, "([^"]+)"', path.read_text()):
            cited.setdefault(section, path.name)
    assert cited, "the code cites docs/FLOWS.md"
    assert {s: f for s, f in cited.items() if s not in headings} == {}


def test_quoted_page_texts_exist():
    """Every text quoted «like this» is one the product shows; around an ellipsis or a
    placeholder such as {minutes}, each quoted part is."""
    sources = squeeze(" ".join(path.read_text() for path in SOURCES))
    parts = {squeeze(part).strip(" .،") for quote in re.findall(r"«([^«»]+)»", FLOWS.read_text())
             for part in re.split(r"…|\{\w+\}", quote)}
    parts = {part for part in parts if len(part) > 3}
    assert len(parts) > 100
    assert sorted(part for part in parts if part not in sources) == []


SECURITY = PROJECT_ROOT / "docs" / "SECURITY.md"


def defined_tests(path) -> set[str]:
    """The names of the test functions of a test file, methods of test classes included."""
    import ast

    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")}


def citation_problems(rows: list[str]) -> tuple[list[str], list[str]]:
    """The table rows that cite no test and are not **open**, and the cited tests that do
    not exist (``tests/x.py::test_y``)."""
    unproved, missing = [], []
    for row in rows:
        cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row)
        if not cited and "**open**" not in row:
            unproved.append(row)
        for file, name in cited:
            path = PROJECT_ROOT / file
            if not path.exists() or name not in defined_tests(path):
                missing.append(f"{file}::{name}")
    return unproved, missing


def test_security_model_cites_real_tests():
    """Every line of docs/SECURITY.md's tables cites a test that exists, or says **open**."""
    rows = [line for line in SECURITY.read_text().splitlines()
            if line.startswith("| ") and not line.startswith(("| §", "| Item", "|---"))]
    assert len(rows) > 80
    assert citation_problems(rows) == ([], [])


FAPI2 = PROJECT_ROOT / "docs" / "FAPI2.md"


def test_fapi2_map_cites_real_tests():
    """Every requirement line of docs/FAPI2.md cites a test that exists, or says **open**."""
    rows = [line for line in FAPI2.read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| #")]
    assert len(rows) > 30
    assert citation_problems(rows) == ([], [])
