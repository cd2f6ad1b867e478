"""The layer contract (``[tool.importlinter]`` in pyproject.toml) holds, and a wrong-way import breaks it.

The second test copies the packages into a temporary folder, adds one module in ``adapters.core``
that imports the procedure (a layer above it), and runs ``lint-imports`` on the copy: it must fail
and name that import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGES = ("adapters", "simulators", "procedure", "harness", "conformance", "cli", "service", "workers")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def copy_of_the_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.ttf", "*.yaml", "*.json"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_tree_keeps_every_layer_contract(copy_of_the_tree: Path) -> None:
    result = _lint(copy_of_the_tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "imports", "contract"), [
    ("adapters/core/_wrong_way.py", "from procedure.machine import FlowRunner", "Layers"),
    ("simulators/elicense/_wrong_way.py", "from adapters.elicense import ElicenseClient", "Adapters and simulators"),
    ("simulators/common/_wrong_way.py", "from adapters.elicense import ElicenseClient", "Adapters and simulators"),
    ("adapters/elicense/_wrong_way.py", "from simulators.pki import TestPKI", "never import a simulator"),
    ("procedure/_wrong_way.py", "from harness.landscape import Landscape", "Layers"),
    ("service/_wrong_way.py", "from harness.landscape import Landscape", "never import the harness"),
    ("workers/_wrong_way.py", "from harness.landscape import Landscape", "never import the harness"),
    ("workers/_wrong_way.py", "from service.app import create_app", "Layers"),  # the service sends tasks, not back
    ("workers/_wrong_way.py", "from cli.flow import procedure_env", "Layers"),
    ("service/_wrong_way.py", "from cli.flow import procedure_env", "Layers"),
    ("cli/_wrong_way.py", "from service.app import create_app", "Layers"),  # only cli.serve starts the service
    ("conformance/_wrong_way.py", "from simulators.pki import TestPKI", "Conformance kit"),
    ("conformance/_wrong_way.py", "from harness.landscape import Landscape", "Conformance kit"),
    ("harness/_wrong_way.py", "from conformance import Probe", "Layers"),  # siblings, independent
    ("simulators/portal/_wrong_way.py", "from cli.flow import procedure_env", "Layers"),  # under the commands
    ("simulators/portal/_wrong_way.py", "from harness.landscape import Landscape", "Layers"),  # beside it
    ("harness/_wrong_way.py", "from simulators.portal import PortalServer", "Layers"),
    ("simulators/elicense/_wrong_way.py", "from simulators.portal import PortalServer", "Layers"),
    ("simulators/elicense/_wrong_way.py", "from procedure.clients import ProcedureClients", "Layers"),
])
def test_a_wrong_way_import_breaks_the_contract(copy_of_the_tree: Path, module: str, imports: str,
                                                contract: str) -> None:
    path = copy_of_the_tree / module
    path.write_text(f'"""A wrong-way import, for the test."""\n{imports}  # noqa: F401\n', encoding="utf-8")
    try:
        result = _lint(copy_of_the_tree)
    finally:
        path.unlink()
    assert result.returncode != 0
    dotted = module.removesuffix(".py").replace("/", ".")
    assert dotted in result.stdout, result.stdout
    assert contract in result.stdout
    assert "BROKEN" in result.stdout


def test_every_simulator_package_is_named_in_the_contracts() -> None:
    """The contracts list the simulators below the procedure by name (the portal, above it, is left
    out): a new simulator package missing from either list would escape them silently."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = {c["id"]: c for c in config["contracts"]}
    below = {f"simulators.{p.stem if p.is_file() else p.name}" for p in (ROOT / "simulators").iterdir()
             if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and p.name != "__init__.py")}
    below.discard("simulators.portal")
    layered = {name.strip() for layer in contracts["layers"]["layers"] for name in layer.replace("|", ":").split(":")}
    assert below <= layered, sorted(below - layered)
    assert below == set(contracts["adapters-apart-from-simulators"]["source_modules"])
