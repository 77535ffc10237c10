"""The type stubs (real2sim/_core.pyi) name what the module has, no more and no less."""

import ast
import pathlib

import real2sim
from real2sim import _core


def stub_classes():
    """Class name -> the members its stub declares (methods, properties, annotated attributes); top-level
    functions."""
    tree = ast.parse((pathlib.Path(real2sim.__file__).parent / "_core.pyi").read_text())
    classes, functions = {}, set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name if isinstance(n, ast.FunctionDef) else n.target.id
                                  for n in node.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))}
        elif isinstance(node, ast.FunctionDef):
            functions.add(node.name)
    return classes, functions


PROTOCOL = {"__iter__", "__next__", "__getitem__", "__len__", "__enter__", "__exit__"}


def test_every_public_name_has_a_stub_and_every_stub_a_name():
    classes, functions = stub_classes()
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert public == set(classes) | functions
    for name, members in classes.items():
        cls = getattr(_core, name)
        if issubclass(cls, Exception):
            continue  # file/field/problem are set on each instance
        actual = {m for m in dir(cls) if not m.startswith("_") or m in PROTOCOL}
        assert members - {"__init__"} == actual, name


def test_the_package_exports_the_module():
    assert set(real2sim.__all__) == {n for n in dir(_core) if not n.startswith("_")} | {"__version__"}
