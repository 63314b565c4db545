# SPDX-License-Identifier: Apache-2.0
"""The shipped type stubs (python/crmine/_core.pyi) describe the compiled module as built.

Regenerate after changing a binding:
    pip install pybind11-stubgen && pybind11-stubgen crmine._core -o /tmp/stubs
    cp /tmp/stubs/crmine/_core.pyi python/crmine/_core.pyi
"""

import ast
from pathlib import Path

import crmine._core as core

STUB = Path(__file__).resolve().parents[2] / "python" / "crmine" / "_core.pyi"


def _stub_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_stub_lists_every_public_name_of_the_compiled_module_and_no_other():
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    public = {name for name in dir(core) if not name.startswith("_")}
    declared = _stub_names(tree) - {"__all__"}
    assert public - declared == set(), "bound but missing from _core.pyi: regenerate the stub"
    assert {n for n in declared if not n.startswith("_")} - public == set(), "in _core.pyi but no longer bound"
