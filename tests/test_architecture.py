"""The shape of the code, checked: layers (import-linter), no private reach-ins, small files."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

SOURCES = sorted([*(REPO / "assistant").rglob("*.py"), *(REPO / "ingest").rglob("*.py")])
MAX_LINES = 450


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_import_contracts_hold() -> None:
    """The layers, the ingest/answering split, no circles and the one home of each model library
    (the contracts in pyproject.toml) hold."""
    script = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if script is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[dev]'")
    done = subprocess.run([script, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_reaches_into_another_modules_private_names(path: Path) -> None:
    """``from x import _y`` and ``obj._attr`` (other than on self or cls) are how layers rot."""
    reach_ins = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            reach_ins += [f"import {alias.name}" for alias in node.names if _private(alias.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                reach_ins.append(f"{ast.unparse(node)} (line {node.lineno})")
    assert not reach_ins


def test_only_the_store_opens_its_database() -> None:
    def imports_sqlite(path: Path) -> bool:
        nodes = ast.walk(_tree(path))
        return any(isinstance(n, ast.Import | ast.ImportFrom) and "sqlite3" in ast.unparse(n) for n in nodes)

    users = [str(p.relative_to(REPO)) for p in SOURCES if imports_sqlite(p)]
    assert users == ["assistant/store.py"]


def test_no_source_file_is_too_big_to_read_in_one_sitting() -> None:
    sizes = {str(p.relative_to(REPO)): len(p.read_text(encoding="utf-8").splitlines()) for p in SOURCES}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
