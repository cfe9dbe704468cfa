"""No arithmetic whose last bit depends on the CPU in the package: no BLAS call, no numpy SIMD transcendental.

BLAS (``@``, ``np.dot``, ``matmul``, ``einsum``, ``np.cov``, ...) picks its kernel, and so its summation
order, per CPU; numpy's ``exp``/``log``/``power`` loops have AVX-512 versions that round differently from
the C library. Either made the audit digest differ between machines. The money path uses
:mod:`eventbt.exact` (exactly rounded sums) and :mod:`math` (the C library) instead. This scans the source, so
it holds by construction rather than on the CPU the suite happens to run on.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("eventbt", "handlers", "strategies")

# Calls that reach BLAS or LAPACK (numpy delegates matrix products, and everything built on them, there).
BLAS_NAMES = {"dot", "matmul", "einsum", "inner", "vdot", "tensordot", "cov", "corrcoef", "lstsq", "polyfit",
              "multi_dot", "kron"}
# numpy ufuncs with CPU-dispatched SIMD loops for float64 that need not match the C library bit for bit.
SIMD_TRANSCENDENTALS = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "power", "float_power", "sin",
                        "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "cbrt"}
# Where such a call is allowed, and why: neither value reaches the audit log, the results or the digest.
ALLOWED = {
    ("eventbt/display/svg.py", "log10"): "the y position of a point on a log-scaled chart (drawing only)",
    ("eventbt/bench/workloads.py", "exp"): "generated prices for timing; runs compare with a loop in-process",
}


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _offences(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append((node.lineno, "@"))
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.MatMult):
            found.append((node.lineno, "@="))
        elif isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else (
                owner.attr if isinstance(owner, ast.Attribute) else "")
            if node.attr in BLAS_NAMES and owner_name not in {"self", "exact", "math"}:
                found.append((node.lineno, node.attr))
            elif node.attr == "linalg":
                found.append((node.lineno, "linalg"))
            elif node.attr in SIMD_TRANSCENDENTALS and owner_name in {"np", "numpy"}:
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("numpy"):
            found.extend((node.lineno, alias.name) for alias in node.names
                         if alias.name in BLAS_NAMES | SIMD_TRANSCENDENTALS)
    return found


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scanner flags each kind of call, so an empty result below means something."""
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy as np\nfrom numpy import einsum\n"
                      "a = x @ y\nb = np.dot(x, y)\nc = x.dot(y)\nd = np.linalg.norm(x)\ne = np.log(x)\n"
                      "f = np.cov(x, y)\n")
    names = {name for _, name in _offences(sample)}
    assert names == {"@", "dot", "einsum", "linalg", "log", "cov"}


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_blas_or_simd_transcendental_in_the_package(path: Path) -> None:
    """Each module of the package is free of BLAS calls and numpy SIMD transcendentals (or allowed, with why)."""
    relative = path.relative_to(ROOT).as_posix()
    offences = [(line, name) for line, name in _offences(path) if (relative, name) not in ALLOWED]
    assert offences == [], f"{relative}: machine-dependent arithmetic at {offences}; use eventbt.exact or math"
