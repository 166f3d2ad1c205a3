"""Reading the training examples in data/nlu, for tests that check them."""
from __future__ import annotations

from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[2] / "data" / "nlu"


def examples(files: str = "*.yml", exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(intent, text) for every example in the matching files."""
    out = []
    for path in sorted(DATA.glob(files)):
        if path.name in exclude:
            continue
        for block in yaml.safe_load(path.read_text())["nlu"]:
            if "intent" in block:
                out += [(block["intent"], line.strip()[2:]) for line in block["examples"].splitlines() if line.strip().startswith("- ")]
    return out
