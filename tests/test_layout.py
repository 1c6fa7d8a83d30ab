"""The package layout's import rules (stated in each ``plugins/<role>/__init__.py``) hold.

Every ``import`` in every pack module is read from its syntax tree, including imports inside
functions, so a lazy import cannot slip past the rules.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
ROLES = ("quant", "strategy", "freqai", "integration", "pairlists", "protections", "commands")

# role -> pack roles it may import ("plugins" is the package root with its path constants)
ALLOWED = {
    "quant": {"quant"},
    "freqai": {"quant", "freqai"},
    "integration": {"plugins", "quant", "integration"},
    "strategy": {"quant", "freqai", "integration", "strategy"},
    "pairlists": {"quant", "integration"},
    "protections": {"quant", "integration"},
    "commands": {"plugins", *ROLES},
    "user_strategies": {"quant", "strategy"},
    "user_freqaimodels": {"freqai"},
}
NO_FREQTRADE = {"quant", "freqai"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            if node.module == "plugins":  # from plugins import quant -> plugins.quant
                names.update(f"plugins.{alias.name}" for alias in node.names)
    return names


def pack_role(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "plugins":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ROLES else "plugins"


def modules_of(role: str) -> list[Path]:
    if role == "user_strategies":
        return sorted((ROOT / "user_data" / "strategies").glob("*.py"))
    if role == "user_freqaimodels":
        return sorted((ROOT / "user_data" / "freqaimodels").glob("*.py"))
    return sorted((PLUGINS / role).glob("*.py"))


def test_plugins_root_holds_only_the_package_marker():
    loose = sorted(p.name for p in PLUGINS.glob("*.py"))
    assert loose == ["__init__.py"]
    assert {p.name for p in PLUGINS.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_package_says_what_it_may_import(role):
    init = PLUGINS / role / "__init__.py"
    if role in ("pairlists", "protections"):
        # found by freqtrade's resolvers by path; a docstring module there is not needed
        return
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc and "May import" in doc, f"{init} must open with a docstring stating its import rule"


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_pack_imports_follow_the_role_rules(role):
    files = modules_of(role)
    assert files, f"no modules found for {role}"
    broken = []
    for path in files:
        for module in imported_modules(path):
            target = pack_role(module)
            if target is not None and target not in ALLOWED[role]:
                broken.append(f"{path.relative_to(ROOT)} imports {module}")
            if role in NO_FREQTRADE and module.split(".")[0] == "freqtrade":
                broken.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not broken, "\n".join(broken)


def test_pure_math_never_loads_freqtrade_even_indirectly():
    """Import every quant and freqai module in a fresh interpreter that refuses freqtrade."""
    modules = [f"plugins.{role}.{p.stem}" for role in sorted(NO_FREQTRADE)
               for p in modules_of(role) if p.stem != "__init__"]
    code = (
        "import sys, importlib, importlib.abc\n"
        "class Refuse(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'freqtrade':\n"
        "            raise ImportError('pure module imported ' + name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "assert not any(k.split('.')[0] == 'freqtrade' for k in sys.modules)\n"
        "print('ok', len(sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("ok")


def test_rule_checker_sees_lazy_imports(tmp_path):
    """The checker itself: an import inside a function body is found."""
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from plugins.commands import demo\n    import freqtrade.strategy\n")
    assert imported_modules(sample) == {"plugins.commands", "freqtrade.strategy"}
    assert pack_role("plugins.commands.demo") == "commands"
