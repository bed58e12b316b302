"""The benchmark tooling stays apart from what is deployed: no runtime package imports it and the
deployed settings neither install it nor route to it."""
import ast
import importlib
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("portal", "members", "demands", "activities", "evaluation")


def imports_of_benchmarks(source: str) -> list[str]:
    """The imports of `benchmarks` (or anything under it) in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names = [str(node.args[0].value)]
        else:
            continue
        found += [name for name in names if name == "benchmarks" or name.startswith("benchmarks.")]
    return found


def test_the_check_sees_every_form_of_import():
    source = ("import benchmarks\nfrom benchmarks.scale import plan\nimport benchmarks.bench as b\n"
              "importlib.import_module('benchmarks.writer')\nimport benchmarksx\nfrom portal import bench\n")
    assert imports_of_benchmarks(source) == ["benchmarks", "benchmarks.scale", "benchmarks.bench", "benchmarks.writer"]


def test_no_runtime_module_imports_the_benchmarks():
    offenders = []
    for package in RUNTIME:
        for path in sorted((ROOT / package).rglob("*.py")):
            found = imports_of_benchmarks(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in found]
    assert offenders == []


def test_the_deployed_settings_do_not_install_the_benchmarks():
    deployed = importlib.import_module("portal.settings")
    assert "benchmarks" not in deployed.INSTALLED_APPS and deployed.ROOT_URLCONF == "portal.urls"
    assert "benchmarks" not in settings.INSTALLED_APPS  # the tests run what is deployed
    tooling = importlib.import_module("benchmarks.settings")
    assert tooling.INSTALLED_APPS == [*deployed.INSTALLED_APPS, "benchmarks"]
