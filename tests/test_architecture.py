"""The shape docs/architecture.md describes, checked on the source (issue 16): sizes a newcomer
can read, arrows that point one way, thin actions."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# The core: what channels, the console and actions stand on. It never imports them.
CORE = ("bot.directory", "bot.insights", "bot.referrals", "bot.handoff", "bot.staff", "bot.geo", "bot.nlp", "bot.db",
        "bot.settings", "bot.conversations", "bot.usage", "bot.erasure", "bot.profile", "bot.dialogue", "bot.retention")
ABOVE_CORE = ("bot.console", "bot.channels", "bot.directory_api", "actions")


def sources(*packages: str) -> list[Path]:
    """Every Python file of `packages`, migrations aside (Alembic writes them one per change)."""
    found = []
    for package in packages:
        found += [p for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts]
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function (a function-level import
    is still an arrow), resolved to our modules where the name is one of ours."""
    tree = ast.parse(path.read_text())
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    """Our modules and which of our modules each imports."""
    files = sources("bot", "actions")
    ours = {module_name(p) for p in files}
    edges = {}
    for path in files:
        edges[module_name(path)] = {name for name in imported_modules(path) if name in ours} - {module_name(path)}
    return edges


def test_modules_are_short_enough_to_read():
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in sources("bot", "actions")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_functions_are_short_enough_to_read():
    long = []
    for path in sources("bot", "actions"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_no_import_cycles(graph):
    """No two modules need each other, however indirectly (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    # A package's __init__ importing its own modules is not a cycle of meaning; there are none today.
    assert not cycles, f"import cycles: {cycles}"


def in_packages(module: str, packages: tuple[str, ...]) -> bool:
    """Whether `module` is one of `packages` or inside one (bot.directory_api is not in bot.directory)."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_core_never_imports_channels_console_or_actions(graph):
    wrong = sorted(f"{module} -> {target}" for module, targets in graph.items() if in_packages(module, CORE)
                   for target in targets if in_packages(target, ABOVE_CORE))
    assert not wrong, wrong
    assert in_packages("bot.directory.search", CORE) and not in_packages("bot.directory_api.app", CORE)


def test_action_modules_are_thin_glue(graph):
    """Actions call into bot/: no action module imports another, and none imports rasa (only rasa_sdk)."""
    wrong = sorted(f"{module} -> {target}" for module, targets in graph.items() if module.startswith("actions.")
                   for target in targets if target.startswith("actions."))
    assert not wrong, wrong
    rasa = [p.name for p in sources("actions") if any(n == "rasa" or n.startswith("rasa.") for n in imported_modules(p))]
    assert not rasa, rasa


def test_the_checks_can_fail():
    """The checks above can fail: a made-up pair of modules that need each other, and a core
    module that imports the console, are found."""
    edges = {"bot.a": {"bot.b"}, "bot.b": {"bot.a"}}
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_import_cycles(edges)
    with pytest.raises(AssertionError):
        test_the_core_never_imports_channels_console_or_actions({"bot.referrals.x": {"bot.console.app"}})


# Suites that cut across packages (the real servers, the production shape) and the shared helpers.
TEST_SUITES = {"e2e", "prod", "support", "nlu", "stories"}


def test_tests_mirror_the_code():
    """tests/<x>/ is bot/<x>/ (or actions/, tools/, bench/) or a suite that crosses packages, and
    tests reach shared helpers as a package (tests.support), never through the path."""
    folders = {p.relative_to(ROOT / "tests") for p in (ROOT / "tests").rglob("*") if p.is_dir() and p.name != "__pycache__"}
    stray = []
    for folder in sorted(folders):
        top = folder.parts[0]
        mirrored = (ROOT / "bot" / folder).is_dir() or (top in ("actions", "tools", "bench") and (ROOT / folder).is_dir())
        if not mirrored and top not in TEST_SUITES:
            stray.append(str(folder))
    assert not stray, f"test folders that mirror no package: {stray}"
    tricks = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
              if any(word in p.read_text() for word in ("sys.path", "spec_from_file_location"))
              and p.name != "test_architecture.py"]
    assert not tricks, tricks
