"""The pure core stays pure: no storage, publisher, HTTP or Telegram import, and no clock read.

The checker reads the source files with `ast` and follows the import graph of `bot` (imports
inside functions and under `TYPE_CHECKING` included: they are dependencies all the same); it
never imports the code it checks. Its own tests build small module trees in `tmp_path`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What decides must not fetch, store, publish or look at the clock: it is given the facts.
# A trailing ".*" takes every module of a package. OPTIONAL may be absent (issue 9 adds it).
PURE = (
    "bot.content.*",
    "bot.delivery.route",
    "bot.delivery.schedule",
    "bot.delivery.outcome",
    "bot.delivery.slots",
    "bot.delivery.queue_order",
    "bot.delivery.roundup",
    "bot.delivery.priority",
    "bot.delivery.approval",
    "bot.delivery.corrections",
    "bot.delivery.removal",
    "bot.delivery.next_post",
    "bot.delivery.plan",
)
OPTIONAL = frozenset({"bot.delivery.outcome"})

# Module prefix → what it stands for. Not SQLAlchemy itself: settings checks a database URL
# with `sqlalchemy.make_url`, which parses text and opens nothing.
FORBIDDEN_IMPORTS: Mapping[str, str] = {
    "bot.storage": "storage",
    "bot.publishers": "publishers",
    "facebook": "publishers",
    "requests": "publishers",
    "httpx": "httpx",
    "telegram": "telegram",
}

# Fully qualified names whose use reads the clock.
CLOCK_READS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "bot.clock.SystemClock",
    }
)


@dataclass(frozen=True)
class Violation:
    """`chain` runs from the pure module to the module at fault; `what` is the fault."""

    chain: tuple[str, ...]
    what: str

    def __str__(self) -> str:
        return f"{' → '.join(self.chain)}: {self.what}"


class Modules:
    """The modules of the packages under `root`, by dotted name, read from their files."""

    def __init__(self, root: Path, package: str = "bot") -> None:
        self.root = root
        self.files: dict[str, Path] = {}
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            self.files[name] = path
        self._trees: dict[str, ast.Module] = {}

    def tree(self, name: str) -> ast.Module:
        if name not in self._trees:
            path = self.files[name]
            self._trees[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        return self._trees[name]

    def is_package(self, name: str) -> bool:
        return self.files[name].name == "__init__.py"

    def select(self, patterns: Iterable[str], optional: frozenset[str] = frozenset()) -> list[str]:
        """The modules the patterns name; a missing one fails unless it is optional."""
        chosen: list[str] = []
        missing: list[str] = []
        for pattern in patterns:
            if pattern.endswith(".*"):
                package = pattern.removesuffix(".*")
                found = [n for n in self.files if n == package or n.startswith(package + ".")]
            else:
                found = [pattern] if pattern in self.files else []
            if not found and pattern not in optional:
                missing.append(pattern)
            chosen.extend(found)
        if missing:
            raise LookupError(f"the pure-module list names missing modules: {missing}")
        if not chosen:
            raise LookupError("the pure-module list matches no module at all")
        return chosen

    def imports(self, name: str) -> list[tuple[str, int]]:
        """(imported module, line) for every import of the module, relative ones resolved.

        `from a import b` yields `a`, and `a.b` too when b is a module. Importing `a.b.c` runs
        `a` and `a.b` first: their parents are yielded as well.
        """
        out: list[tuple[str, int]] = []
        for node in ast.walk(self.tree(name)):
            if isinstance(node, ast.Import):
                out.extend((alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(name, node.module, node.level)
                out.append((base, node.lineno))
                for alias in node.names:
                    if f"{base}.{alias.name}" in self.files:
                        out.append((f"{base}.{alias.name}", node.lineno))
        with_parents: list[tuple[str, int]] = []
        for module, line in out:
            parts = module.split(".")
            with_parents.extend((".".join(parts[:i]), line) for i in range(1, len(parts) + 1))
        return with_parents

    def _absolute(self, name: str, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        package = name.split(".") if self.is_package(name) else name.split(".")[:-1]
        base = package[: len(package) - (level - 1)]
        return ".".join([*base, module] if module else base)


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → the qualified name it is bound to by an import."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def clock_reads(tree: ast.Module) -> list[tuple[str, int]]:
    """(qualified name, line) of every use of a clock-reading name in the module."""
    aliases = _aliases(tree)
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in CLOCK_READS:
                    found.append((f"{node.module}.{alias.name}", node.lineno))
            continue
        if not isinstance(node, ast.Name | ast.Attribute):
            continue
        dotted = _dotted(node)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        qualified = ".".join(filter(None, [aliases.get(head, head), rest]))
        if qualified in CLOCK_READS:
            found.append((qualified, node.lineno))
    return sorted(set(found), key=lambda f: f[1])


def forbidden(module: str) -> str | None:
    for prefix, kind in FORBIDDEN_IMPORTS.items():
        if module == prefix or module.startswith(prefix + "."):
            return kind
    return None


def violations(modules: Modules, start: str) -> list[Violation]:
    """Every forbidden import or clock read reachable from `start` through `bot` imports."""
    found: list[Violation] = []
    chains: dict[str, tuple[str, ...]] = {start: (start,)}
    todo = [start]
    while todo:
        name = todo.pop(0)
        chain = chains[name]
        for qualified, line in clock_reads(modules.tree(name)):
            found.append(Violation(chain, f"reads the clock: {qualified} (line {line})"))
        for imported, line in modules.imports(name):
            kind = forbidden(imported)
            if kind is not None:
                found.append(Violation(chain, f"imports {imported} ({kind}, line {line})"))
            elif imported in modules.files and imported not in chains:
                chains[imported] = (*chain, imported)
                todo.append(imported)
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- the real tree


REAL = Modules(ROOT)
SELECTED = REAL.select(PURE, OPTIONAL)


def test_the_pure_list_finds_modules_to_check() -> None:
    assert "bot.delivery.route" in SELECTED
    assert any(name.startswith("bot.content.") for name in SELECTED)


@pytest.mark.parametrize("module", SELECTED)
def test_pure_module_needs_no_io_and_no_clock(module: str) -> None:
    assert [str(v) for v in violations(REAL, module)] == []


# --------------------------------------------------------------------------- the checker itself


def tree(root: Path, files: Mapping[str, str]) -> Modules:
    for relative, source in {"bot/__init__.py": "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return Modules(root)


@pytest.mark.parametrize(
    ("source", "fault"),
    [
        ("import httpx\n", "imports httpx (httpx, line 1)"),
        ("from telegram.error import BadRequest\n", "imports telegram.error (telegram, line 1)"),
        ("def f():\n    import httpx\n", "imports httpx (httpx, line 2)"),
        ("from bot.storage.store import Storage\n", "imports bot.storage (storage, line 1)"),
        ("from bot import publishers\n", "imports bot.publishers (publishers, line 1)"),
        ("from ..storage import store\n", "imports bot.storage (storage, line 1)"),
        (
            "from datetime import datetime\n\ndef f():\n    return datetime.now()\n",
            "reads the clock: datetime.datetime.now (line 4)",
        ),
        (
            "import datetime as dt\nx = dt.date.today()\n",
            "reads the clock: datetime.date.today (line 2)",
        ),
        ("from time import time\n", "reads the clock: time.time (line 1)"),
        ("import time\nstamp = time.monotonic\n", "reads the clock: time.monotonic (line 2)"),
        ("from bot.clock import SystemClock\n", "reads the clock: bot.clock.SystemClock (line 1)"),
    ],
)
def test_the_checker_catches_a_direct_fault(tmp_path: Path, source: str, fault: str) -> None:
    modules = tree(
        tmp_path,
        {
            "bot/clock.py": "",
            "bot/storage/__init__.py": "",
            "bot/storage/store.py": "",
            "bot/publishers/__init__.py": "",
            "bot/content/__init__.py": "",
            "bot/content/cut.py": source,
        },
    )
    assert fault in [v.what for v in violations(modules, "bot.content.cut")]


def test_the_checker_follows_imports_through_bot_modules(tmp_path: Path) -> None:
    modules = tree(
        tmp_path,
        {
            "bot/content/__init__.py": "",
            "bot/content/cut.py": "from bot.content import words\n",
            "bot/content/words.py": "from . import helper\n",
            "bot/content/helper.py": "import bot.archive\n",
            "bot/archive.py": "from datetime import datetime\nSTAMP = datetime.utcnow()\n",
        },
    )
    [fault] = violations(modules, "bot.content.cut")
    assert fault.chain == (
        "bot.content.cut",
        "bot.content.words",
        "bot.content.helper",
        "bot.archive",
    )
    assert fault.what == "reads the clock: datetime.datetime.utcnow (line 2)"


def test_the_checker_passes_a_pure_module(tmp_path: Path) -> None:
    source = (
        "from datetime import datetime, timedelta\nimport re\nfrom bot.models import Article\n\n"
        "def later(now: datetime) -> datetime:\n    return now + timedelta(hours=1)\n"
    )
    modules = tree(
        tmp_path,
        {
            "bot/models.py": "from dataclasses import dataclass\n",
            "bot/content/__init__.py": "",
            "bot/content/cut.py": source,
        },
    )
    assert violations(modules, "bot.content.cut") == []


def test_the_list_tolerates_an_optional_module_but_not_an_empty_match(tmp_path: Path) -> None:
    modules = tree(tmp_path, {"bot/content/__init__.py": "", "bot/content/cut.py": ""})
    assert modules.select(["bot.content.*", "bot.delivery.outcome"], OPTIONAL) == [
        "bot.content",
        "bot.content.cut",
    ]
    with pytest.raises(LookupError, match="missing modules"):
        modules.select(["bot.content.*", "bot.delivery.route"], OPTIONAL)
    with pytest.raises(LookupError, match="no module at all"):
        modules.select(["bot.delivery.outcome"], OPTIONAL)
