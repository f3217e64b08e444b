"""verify must run in a slim environment: it may not import the engine or torch."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_verify_imports_neither_vllm_nor_torch() -> None:
    code = (
        "import sys, pathlib\n"
        "from tais.cli import main\n"
        "from tais.errors import TaisError\n"
        "from tais.verify.verify import verify\n"
        "try:\n    verify(pathlib.Path('.'))\nexcept TaisError:\n    pass\n"
        "heavy = sorted(m for m in ('vllm', 'torch', 'transformers') if m in sys.modules)\n"
        "print(heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
