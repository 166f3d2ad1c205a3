"""pyproject.toml declares every third-party package bot/ and actions/ import directly (issue 16)."""
from __future__ import annotations

import ast
import re
import sys
import tomli as tomllib  # tomllib from Python 3.11
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Declared through another requirement: spaCy comes in through rasa's own extra (one resolve).
THROUGH = {"spacy": "rasa"}


def _imports() -> set[str]:
    names = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("actions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("bot", "actions")}


def _providers(modules: set[str]) -> dict[str, set[str]]:
    """Module -> the installed distributions that provide it: from top_level.txt, else from the
    distributions' file lists (many wheels leave top_level.txt out)."""
    found = {m: {_normal(d) for d in ds} for m, ds in packages_distributions().items() if m in modules}
    if modules <= found.keys():
        return found
    for dist in distributions():
        for file in dist.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".egg-info", ".data")) or top in ("..", "__pycache__"):
                continue
            found.setdefault(top.removesuffix(".py"), set()).add(_normal(dist.metadata["Name"]))
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_direct_import_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_normal(re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0]) for requirement in project["dependencies"]}
    providers = _providers(_imports())
    missing = []
    for module in sorted(_imports()):
        dists = providers.get(module, set())
        assert dists, f"{module} is imported but no installed distribution provides it"
        if not dists & declared and _normal(THROUGH.get(module, "")) not in declared:
            missing.append(f"{module} ({', '.join(sorted(dists))})")
    assert missing == []
