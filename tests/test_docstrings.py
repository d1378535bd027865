"""The Examples blocks in the library's docstrings run and print what they show, the
objects they cross-reference exist, and the public functions and classes document their
parameters and what they return (numpydoc)."""

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest
from numpydoc.validate import validate

import linear_pg

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(linear_pg.__path__, prefix="linear_pg.")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


# :func:`name`, :class:`~linear_pg.Run`, :meth:`title <target>`, ...
ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc):`~?([^`]+)`")


def _resolves(path):
    """Whether ``a.b.c`` is an importable module followed by attributes (a dataclass
    field counts as an attribute of its class), where a function or class named through a
    module of the package is defined in that module: ``linear_pg.trainer.make_env`` would
    import (the trainer imports it) but names the wrong home. A package's namespace
    (``linear_pg.X``, ``linear_pg.policies.X``) is its public API and may name anything it
    exports."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        home = ".".join(parts[:i])
        first = getattr(obj, parts[i], None) if i < len(parts) else None
        if (inspect.isfunction(first) or inspect.isclass(first)) \
                and not hasattr(obj, "__path__") and first.__module__ != home:
            return False
        for part in parts[i:]:
            if part in getattr(obj, "__dataclass_fields__", {}):
                return part == parts[-1]
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True
    return False


@pytest.mark.parametrize("name", MODULES)
def test_docstring_cross_references_exist(name):
    # a function moved to another module leaves its old :func: references dangling
    module = importlib.import_module(name)
    classes = [n for n, obj in vars(module).items() if inspect.isclass(obj)]
    missing = []
    for text in ROLE.findall(inspect.getsource(module)):
        target = text.rpartition("<")[2].rstrip(">").strip()    # "title <target>"
        where = [target] if target.startswith("linear_pg") else \
            [f"{name}.{target}", f"linear_pg.{target}"] + [f"{name}.{c}.{target}" for c in classes]
        if not any(_resolves(w) for w in where):
            missing.append(text)
    assert not missing, f"{name} cross-references objects that do not exist: {missing}"


PUBLIC = [name for name in linear_pg.__all__
          if inspect.isfunction(getattr(linear_pg, name))
          or inspect.isclass(getattr(linear_pg, name))]

# numpydoc's codes for what a reader of the signature needs: GL08 no docstring, PR01 a
# parameter not documented, PR02 a documented parameter that does not exist, PR07 a
# parameter with no description, RT01 no Returns section (numpydoc asks for one only where
# the function's source returns a value other than None). A class is checked against its
# constructor's parameters.
NUMPYDOC_CODES = ("GL08", "PR01", "PR02", "PR07", "RT01")


@pytest.mark.parametrize("name", PUBLIC)
def test_public_api_docstrings_are_numpydoc_complete(name):
    errors = [(code, message) for code, message in validate(f"linear_pg.{name}")["errors"]
              if code in NUMPYDOC_CODES]
    listed = "\n".join(f"  {code}: {message}" for code, message in errors)
    assert not errors, f"the docstring of linear_pg.{name} is incomplete:\n{listed}"
