"""DESIGN.md section 4's import rules, checked on the source with ``ast``."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "bot", "handlers")
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. bot.services.pulses
    target: str  # the imported module, e.g. slack_sdk.models.blocks
    where: str  # file:line


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_first_party_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports() -> list[Import]:
    found: list[Import] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = _module_name(path)
            is_package = path.name == "__init__.py"
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Import):
                    found.extend(Import(module, alias.name, where) for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        anchor = module.split(".") if is_package else module.split(".")[:-1]
                        anchor = anchor[: len(anchor) - (node.level - 1)]
                        base = ".".join([*anchor, base] if base else anchor)
                    for alias in node.names:
                        sub = f"{base}.{alias.name}"
                        target = sub if _is_first_party_module(sub) else base
                        found.append(Import(module, target, where))
    return found


IMPORTS = _imports()


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _violations(importer: Callable[[str], bool], forbidden: Callable[[str], bool]) -> list[str]:
    return [f"{i.where}: {i.module} imports {i.target}" for i in IMPORTS if importer(i.module) and forbidden(i.target)]


def test_the_scan_sees_the_code() -> None:
    modules = {i.module for i in IMPORTS}
    for expected in ("storage.uow", "bot.services.pulses", "bot.blocks.pulse", "handlers.commands", "bot.app"):
        assert expected in modules
    assert any(i.module == "bot.app" and i.target == "handlers" for i in IMPORTS)


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        pytest.param("storage", ("bot", "handlers"), id="storage-imports-nothing-from-bot-or-handlers"),
        pytest.param(
            "bot.services", ("slack_bolt", "slack_sdk", "handlers"), id="services-import-no-slack-libraries-or-handlers"
        ),
        pytest.param("handlers", ("sqlalchemy", "storage"), id="handlers-never-touch-the-database"),
        pytest.param("bot.jobs", ("handlers",), id="jobs-never-import-handlers"),
        pytest.param("bot.sandbox", ("bot.services", "storage", "handlers"), id="sandbox-is-independent-of-the-product"),
    ],
)
def test_a_package_imports_nothing_from_the_layers_it_must_not_know(package: str, forbidden: tuple[str, ...]) -> None:
    bad = _violations(lambda m: _under(m, package), lambda t: any(_under(t, p) for p in forbidden))
    assert not bad, "\n".join(bad)


def _is_read_models(target: str) -> bool:
    """The frozen read models, one module per feature: ``bot.services.<feature>_models``."""
    parts = target.split(".")
    return len(parts) == 3 and parts[:2] == ["bot", "services"] and parts[2].endswith("_models")


def _allowed_in_blocks(target: str) -> bool:
    top = target.split(".")[0]
    if top in STDLIB:
        return True
    return (
        _under(target, "slack_sdk.models")
        or _under(target, "bot.blocks")
        or _is_read_models(target)
        or target in ("bot.services.errors", *FIGURES)
    )


#: The figures every surface shows (values and their formatting): pure read models like bot.services.*_models, so
#: builders render them as the services computed them.
FIGURES = ("bot.services.figures", "bot.services.figures_format", "bot.services.kpi_format")


def test_blocks_import_only_models_and_themselves() -> None:
    bad = _violations(lambda m: _under(m, "bot.blocks"), lambda t: not _allowed_in_blocks(t))
    assert not bad, "\n".join(bad)


def test_the_figures_modules_are_pure() -> None:
    """What builders may import from the figures must itself stay free of I/O: the standard library, the read
    models, the anonymity rule and each other only."""
    allowed = ("bot.services.anonymity", *FIGURES)
    bad = _violations(
        lambda m: m in FIGURES,
        lambda t: t.split(".")[0] not in STDLIB and t not in allowed and not _is_read_models(t),
    )
    assert not bad, "\n".join(bad)


def test_the_read_models_are_pure() -> None:
    """Builders import the read models, so they too import only the standard library, each other and (for
    annotations) the figures."""
    bad = _violations(
        _is_read_models,
        lambda t: t.split(".")[0] not in STDLIB and not _is_read_models(t) and t not in FIGURES,
    )
    assert not bad, "\n".join(bad)


#: The export's file renderers: pure functions of the report's read model, outside the services (they decide
#: nothing) and outside bot.blocks (they build files, not Slack blocks, and embed the chart).
EXPORT_RENDERERS = ("bot.export_csv", "bot.export_html", "bot.export_kpis")


def test_the_export_renderers_are_pure() -> None:
    allowed = (*FIGURES, *EXPORT_RENDERERS, "bot.services.charts", "bot.services.kpi_chart_png", "bot.services.schedule")
    bad = _violations(
        lambda m: m in EXPORT_RENDERERS,
        lambda t: t.split(".")[0] not in STDLIB and t not in allowed and not _is_read_models(t),
    )
    assert {i.module for i in IMPORTS} >= set(EXPORT_RENDERERS)
    assert not bad, "\n".join(bad)


def test_storage_models_are_imported_one_way() -> None:
    """``from storage.models import X``: the package registers every table for Alembic; its modules are internal."""
    bad = _violations(
        lambda m: not _under(m, "storage.models"),
        lambda t: _under(t, "storage.models") and t != "storage.models",
    )
    assert not bad, "\n".join(bad)


def test_only_bot_app_imports_handlers() -> None:
    bad = _violations(lambda m: not _under(m, "handlers") and m != "bot.app", lambda t: _under(t, "handlers"))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("module", "source", "target"),
    [
        ("bot.blocks.x", "from ..services import pulses", "bot.services.pulses"),
        ("bot.blocks.x", "from . import ids", "bot.blocks.ids"),
    ],
)
def test_relative_imports_are_resolved(module: str, source: str, target: str) -> None:
    # The scanner's own resolution, on a synthetic module, so relative imports cannot slip past the rules.
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ImportFrom)
    anchor = module.split(".")[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    base = ".".join([*anchor, node.module] if node.module else anchor)
    sub = f"{base}.{node.names[0].name}"
    assert (sub if _is_first_party_module(sub) else base) == target
    assert not _allowed_in_blocks(target) or target == "bot.blocks.ids"


def _session_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "session"]


def test_services_leave_persistence_to_the_unit_of_work() -> None:
    # Services ask the unit of work's repositories, its lock, savepoints and DuplicateKey; SQLAlchemy stays in storage.
    bad = _violations(lambda m: _under(m, "bot.services"), lambda t: _under(t, "sqlalchemy"))
    for path in sorted((ROOT / "bot" / "services").rglob("*.py")):
        bad.extend(f"{path.relative_to(ROOT)}:{line}: uses .session" for line in _session_uses(path))
    assert not bad, "\n".join(bad)
