"""The layers import one way only: rules → engine → reports → api (read from the source)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

LAYERS = ["rules", "engine", "reports", "api"]
HEAVY = {"rules": {"fastapi", "weasyprint", "experta", "sqlalchemy", "pyhanko"},
         "engine": {"fastapi", "weasyprint", "sqlalchemy", "pyhanko"},
         "reports": {"fastapi", "sqlalchemy"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_layers_below_it(layer: str) -> None:
    """No module of a layer imports a layer above it, the CLI, or a heavy library it must not."""
    above = set(LAYERS[LAYERS.index(layer) + 1:]) | {"sprintclear"}
    forbidden = above | HEAVY.get(layer, set())
    offenders = {}
    for path in sorted((REPO / layer).rglob("*.py")):
        bad = _imports(path) & forbidden
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert not offenders


def test_only_one_module_imports_experta() -> None:
    """experta, and its Python ≥ 3.10 fix, live in engine/inference.py alone."""
    importers = [str(path.relative_to(REPO)) for layer in [*LAYERS, "sprintclear"]
                 for path in sorted((REPO / layer).rglob("*.py")) if "experta" in _imports(path)]
    assert importers == ["engine/inference.py"]


def test_importing_experta_leaves_no_trace() -> None:
    """After the import the compatibility alias is gone and the root logger has no handler."""
    code = ("import collections, logging, engine.inference; "
            "print(hasattr(collections, 'Mapping'), logging.getLogger().handlers)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False []"


@pytest.mark.parametrize("package", ["rules", "engine"])
def test_public_names_exist(package: str) -> None:
    """Every name a package lists in __all__ is importable from it."""
    module = __import__(package)
    for name in module.__all__:
        assert hasattr(module, name), name
