"""Views stay thin: no function or method of a views module is longer than BUDGET lines. Chart
data, dispatch on URL parts and writes belong in selectors and services, tables in tables.py,
forms in forms.py (docs/architecture.md)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "members", "demands", "activities", "evaluation")

# Lines from `def` to the function's last line, docstring and comments included.
BUDGET = 15

# Views that may be longer, each with the reason it cannot shrink. Add to this list only with one.
ALLOWED: dict[str, str] = {}


def view_modules():
    for app in APPS:
        # views.py, a views/ package, and modules of views beside them (views_import.py, robot_views.py)
        yield from sorted((ROOT / app).glob("*views*.py"))
        yield from sorted((ROOT / app / "views").glob("*.py"))


def functions(tree: ast.Module):
    """(name, node) of every module-level function and of every method of a module-level class."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item


def view_sizes() -> dict[str, int]:
    sizes = {}
    for path in view_modules():
        module = path.relative_to(ROOT).as_posix()
        for name, node in functions(ast.parse(path.read_text(encoding="utf-8"))):
            sizes[f"{module}:{name}"] = node.end_lineno - node.lineno + 1
    return sizes


def test_no_view_is_over_the_budget():
    over = {name: size for name, size in view_sizes().items() if size > BUDGET and name not in ALLOWED}
    assert over == {}, f"over {BUDGET} lines: move reads to selectors, writes to services"


def test_the_allow_list_names_only_views_over_the_budget():
    sizes = view_sizes()
    assert {name for name in ALLOWED if sizes.get(name, 0) <= BUDGET} == set()


def test_the_check_sees_functions_and_methods():
    source = "def f():\n    pass\n\n\nclass V:\n    def get(self):\n        a = 1\n        return a\n"
    assert {name: node.end_lineno - node.lineno + 1 for name, node in functions(ast.parse(source))} == {"f": 2, "V.get": 3}
    assert len(list(view_modules())) >= 5
