"""An approach is one package plus one row of the table: no string literal naming
an approach anywhere else in the harness, the scenarios or the report. What
differs between approaches is a property of the approach (its ``Facts``, its
``Claims``, its stand-in), never a test of its name."""
from __future__ import annotations

import ast
from pathlib import Path

from harness import approaches
from harness.approaches import TABLE

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("harness", "scenarios")  # the report is harness/report
TABLE_MODULE = Path(approaches.__file__).resolve()
# Literals that spell an approach's name and mean something else, each with why.
NOT_A_NAME = {
    ("harness/approaches/described.py", "TEMPLATE"): "the description file's {template} placeholder and "
                                                     "[terraform.outputs] key: a template family, not approach 5",
}


def package_of(row: approaches.Entry) -> Path:
    """The directory of the package that implements ``row``."""
    return ROOT.joinpath(*row.module.split("."))


def _assigned_names(tree: ast.AST) -> dict[int, str]:
    """id of a constant -> the name it is assigned to (``NAME = "..."``)."""
    out: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[id(node.value)] = target.id
    return out


def literals_naming_approaches(files: list[Path], rows: tuple[approaches.Entry, ...] = TABLE) -> list[str]:
    """``file:line: 'name'`` for every string literal equal to an approach's name in
    ``files``, outside that approach's package and the table module."""
    owners = {row.name: package_of(row) for row in rows}
    found = []
    for path in files:
        path = path.resolve()
        if path == TABLE_MODULE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        assigned = _assigned_names(tree)
        relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in owners):
                continue
            if path.is_relative_to(owners[node.value]) or (relative, assigned.get(id(node))) in NOT_A_NAME:
                continue
            found.append(f"{relative}:{node.lineno}: {node.value!r}")
    return found


def python_files() -> list[Path]:
    return sorted(path for directory in SCANNED for path in (ROOT / directory).rglob("*.py"))


def test_no_approach_is_named_outside_its_package_and_the_table() -> None:
    found = literals_naming_approaches(python_files())
    assert not found, ("approach names outside their package and the table (make the difference a property of the "
                       "approach: its Facts, Claims or stand-in):\n" + "\n".join(found))


def test_the_scan_finds_a_name_and_says_where(tmp_path) -> None:
    module = tmp_path / "branching.py"
    module.write_text('def cd(approach):\n    """Not "template" in a docstring."""\n'
                      '    if approach.name == "template":\n        return f"{approach}-template"\n')
    assert literals_naming_approaches([module]) == [f"{module}:3: 'template'"]


def test_each_package_holds_its_approach() -> None:
    # the scan's premise: a row's module is a package of its own under harness/approaches
    for row in TABLE:
        assert (package_of(row) / "__init__.py").is_file(), row.module
        assert package_of(row).parent == TABLE_MODULE.parent
