"""The code and interpreters a bench run measures (not a benchmark itself).

Others edit client/ and cli/ while a benchmark runs; `snapshot(rev)` copies them once into
a temp dir — from the working tree, or from a git revision with `git archive REV` — so every
round measures the same code. Put the directory first on a child's PYTHONPATH (it wins over
the editable install), or run the `zurl` script written into it: that script's folder is
its sys.path[0], like an installed console script without the editable finder.

`ensure_clean_env()` creates bench/.peers/cli-env once: a plain venv with httpie and zurl's
runtime dependencies and no editable install, whose .pth finder costs every interpreter of
the other venvs ~10 ms at start-up. Whole-process timings (zurl, httpie, `python -c`) use it.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLEAN_ENV = REPO / "bench" / ".peers" / "cli-env"
CLEAN_PY = CLEAN_ENV / "bin" / "python"
# Children may cache bytecode as on a user's machine: with PYTHONDONTWRITEBYTECODE (set in
# some dev shells) every run would compile zurl's modules from source again.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PACKAGES = ("client", "cli")
CONSOLE_SCRIPT = """\
import sys
from cli.main import main
sys.exit(main())
"""


def ensure_clean_env() -> None:
    """Create bench/.peers/cli-env once (~30 s): httpie and zurl's runtime dependencies."""
    if CLEAN_PY.exists():
        return
    print(f"creating {CLEAN_ENV} (once) ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(CLEAN_ENV)], check=True, timeout=120)
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    subprocess.run(
        [str(CLEAN_PY), "-m", "pip", "install", "-q", "httpie", *deps], check=True, timeout=600
    )


def worker_env(tree: Path) -> dict[str, str]:
    """ENV with `tree` first on PYTHONPATH, so a child imports the snapshot's client/."""
    return {**ENV, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), ENV.get("PYTHONPATH")]))}


@contextmanager
def snapshot(rev: str | None = None) -> Iterator[Path]:
    """A temp dir holding client/, cli/ and a `zurl` script, as of `rev` (None: working tree)."""
    with tempfile.TemporaryDirectory(prefix="zurl-bench-tree-") as tmp:
        root = Path(tmp)
        if rev is None:
            for pkg in PACKAGES:
                shutil.copytree(
                    REPO / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__")
                )
        else:
            done = subprocess.run(
                ["git", "-C", str(REPO), "archive", rev, *PACKAGES],
                capture_output=True,
                timeout=60,
            )
            if done.returncode != 0:
                sys.exit(f"git archive {rev}: {done.stderr.decode(errors='replace').strip()}")
            tar = done.stdout
            with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
                archive.extractall(root, filter="data")
        (root / "zurl").write_text(CONSOLE_SCRIPT)
        yield root


def describe(rev: str | None) -> str:
    """One line saying which code a run measured."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=30
        ).stdout.strip()

    head = git("log", "-1", "--format=%h %cI", rev or "HEAD")
    dirty = rev is None and git("status", "--porcelain", "--", *PACKAGES)
    return f"zurl at {head}" + (" + uncommitted changes in client/ cli/" if dirty else "")
