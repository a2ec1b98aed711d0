"""The layers point one way: HTTP (api/, web/) calls the domain apps, never the reverse, and a
services module never imports a tasks module (tasks import services; enqueueing goes through
``config.jobs.job_enqueue`` by job kind). Read from the source with ``ast``, function-level
imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTTP_APPS = {"api", "web", "scim"}
# every domain app, including those added later: a new one is checked as soon as it exists
DOMAIN_APPS = sorted(
    p.name for p in ROOT.iterdir()
    if (p / "apps.py").is_file() and p.name not in HTTP_APPS
)
# the modules that may import tasks: the tasks themselves, the app registry that names the
# task of each job kind, the admin's actions and the commands that run a task on purpose
MAY_IMPORT_TASKS = {"tasks.py", "apps.py", "admin.py"}


def _modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def _imported(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, as absolute dotted names, with the line."""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append((node.lineno, module))
            # "from . import tasks" imports a module by the name it lists
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def test_the_domain_apps_are_found():
    assert {"roster", "exams", "training", "reports", "sheets", "audit", "access"} <= set(DOMAIN_APPS)


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_a_domain_app_never_imports_the_http_layer(app):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules(app)
        for line, module in _imported(path)
        if module.split(".")[0] in HTTP_APPS
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("app", [*DOMAIN_APPS, "config"])
def test_no_services_module_imports_tasks(app):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules(app)
        if path.name not in MAY_IMPORT_TASKS and "management" not in path.parts
        for line, module in _imported(path)
        if "tasks" in module.split(".")
    ]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_wrong_way_import(tmp_path):
    """The reader above is what the two tests rely on: it must see relative, aliased and
    function-level imports."""
    sample = tmp_path / "roster" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "from . import tasks\n"
        "def later():\n    from api.views import x\n    import web.views as w\n"
        "from ..exams.tasks import run\n",
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        modules = [m for _, m in _imported(sample)]
    finally:
        ROOT = saved
    assert "roster.tasks" in modules and "api.views" in modules and "web.views" in modules


# the one writer of every CSV and XLSX handed out (issue 12); demo.py modules write the demo's
# input files, not downloads
_RAW_WRITERS = ("csv.writer(", "csv.DictWriter(", "Workbook(", "xlsxwriter")


def test_every_csv_and_xlsx_handed_out_goes_through_sheets_writers():
    wrong = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in [*DOMAIN_APPS, *sorted(HTTP_APPS), "config"]
        for path in _modules(app)
        if path.name != "demo.py" and path.relative_to(ROOT).as_posix() != "sheets/writers.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(raw in line for raw in _RAW_WRITERS) and not line.lstrip().startswith("#")
    ]
    assert not wrong, f"write CSV and XLSX through sheets.writers (formula-safe), not directly: {wrong}"
