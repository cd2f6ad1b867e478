"""What ``make demo`` and ``make test`` install: the demo only the package and its fonts; the tests the
dev extra and the test tools (the PostgreSQL server binaries among them). The independent signers
(xmlsec, signxml) are dev dependencies: no package of the project imports them at run time."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from tests.paths import ROOT

PACKAGES = ("adapters", "simulators", "procedure", "harness", "conformance", "cli", "service", "workers")
DEV_ONLY = ("xmlsec", "signxml")


def _dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_demo_installs_the_package_and_the_demos_system_packages_only() -> None:
    commands = _dry_run("demo")
    assert "install-system-deps.sh demo" in commands
    assert "install-system-deps.sh test" not in commands
    assert "pip install -q -e ." in commands and "[dev]" not in commands
    assert "egov --log-level WARNING demo --out out" in commands


def test_make_test_installs_the_dev_extra_and_the_test_tools() -> None:
    commands = _dry_run("test")
    assert "install-system-deps.sh test" in commands and "-e '.[dev]'" in commands


def test_the_demo_part_of_the_system_script_leaves_out_the_test_tools() -> None:
    script = (ROOT / "scripts" / "install-system-deps.sh").read_text(encoding="utf-8")
    demo_part, test_part = script.split('if [ "$purpose" = test ]; then', 1)
    body = demo_part[demo_part.index("need=()"):]
    for package in ("postgresql", "redis-server", "xmlsec1", "prometheus"):
        assert package not in body and package in test_part, package
    assert "fonts-dejavu-core" in body


def _imported(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_independent_signers_are_dev_dependencies_not_imported_at_run_time() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"])
    dev = " ".join(project["optional-dependencies"]["dev"])
    for name in DEV_ONLY:
        assert name not in runtime and name in dev, name
    importers = [str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*.py")
                 if set(DEV_ONLY) & _imported(str(p.relative_to(ROOT)))]
    assert importers == []


def test_the_contract_facts_are_in_the_projects_own_docs() -> None:
    """A clone holds every document its files point to: the contract facts are docs/contracts.md,
    not a specification outside the repository."""
    assert (ROOT / "docs" / "contracts.md").is_file()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True)
    outside = [name for name in tracked.stdout.splitlines()
               if (ROOT / name).is_file() and name.endswith((".py", ".md", ".xsd", ".wsdl", ".toml", ".yaml"))
               and "PROTOCOLS.md" in (ROOT / name).read_text(encoding="utf-8", errors="replace")
               and name != "tests/test_install.py"]
    assert outside == []


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_canonical(re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0]) for req in requirements}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(names: set[str]) -> set[str]:
    """The distributions ``names`` pull in when installed (their run-time requirements, transitively)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [n for n in _requirement_names([r for r in requires if "extra ==" not in r])]
    return seen


def test_every_module_the_package_imports_is_installed_by_its_dependencies() -> None:
    """A fresh ``pip install .`` brings every third-party module the project's packages import: a
    module pulled in only by a dependency that was removed since (fontTools by fpdf2) fails here,
    not on a clean machine."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = _closure(_requirement_names(project["dependencies"]))
    providers = metadata.packages_distributions()
    ours = set(PACKAGES) | {"tests", "bench"}
    missing: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for module in _imported(str(path.relative_to(ROOT))):
                if module in ours or module in sys.stdlib_module_names or module == "__future__":
                    continue
                dists = {_canonical(d) for d in providers.get(module, [])}
                assert dists, f"{path.relative_to(ROOT)} imports {module}, which no installed distribution provides"
                if not dists & installed:
                    missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert missing == {}, "imported but not installed by pyproject's dependencies"
