"""`portal/` is the shared kit: no module of it imports a domain app. Apps plug into the kit
(`portal.registry`, `portal.dataexchange.register`, their AppConfig.ready); the kit reaches the org
unit and person models through the account's foreign keys (`portal.org`)."""
import ast
from pathlib import Path

DOMAIN_APPS = {"members", "demands", "activities", "evaluation"}
PORTAL = Path(__file__).resolve().parents[2] / "portal"

# Modules allowed to name a domain app. Each needs a reason; add to this list only with one.
ALLOWED = {
    # Project wiring: composes every app's demo data, members' first (the others seed on its units).
    "management/commands/seed_demo.py",
}


def domain_imports(source: str) -> list[str]:
    """The domain modules a source imports: `import x`, `from x import y` (at any depth of the
    code, so an import inside a function counts) and `import_module("x...")` with a literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in DOMAIN_APPS]
    return found


def kit_modules():
    for path in sorted(PORTAL.rglob("*.py")):
        relative = path.relative_to(PORTAL).as_posix()
        if not relative.startswith("migrations/"):
            yield relative, path


def test_the_kit_imports_no_domain_app():
    offenders = {
        relative: imports for relative, path in kit_modules()
        if relative not in ALLOWED and (imports := domain_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_allow_list_names_only_modules_that_need_it():
    modules = dict(kit_modules())
    stale = {name for name in ALLOWED if name not in modules or not domain_imports(modules[name].read_text(encoding="utf-8"))}
    assert stale == set()


def test_the_check_sees_every_form_of_import():
    assert domain_imports("import members.models") == ["members.models"]
    assert domain_imports("def f():\n    from demands.models import Demand\n") == ["demands.models"]
    assert domain_imports("import_module('evaluation.demo')") == ["evaluation.demo"]
    assert domain_imports("from . import members\nfrom .registry import x\nimport django") == []
