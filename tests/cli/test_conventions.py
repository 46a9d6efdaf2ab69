"""Command-line conventions (issue 18 item 6): every command and environment variable in
the README, shell completion, -v/-q logging."""

from __future__ import annotations

import ast
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlonmcu_lite.cli import COMMANDS, configure_logging

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
PACKAGE = REPO / "mlonmcu_lite"


def _environment_reads() -> set[str]:
    """Every environment variable the package reads by a literal name or a named constant:
    `os.environ.get("X")`, `os.environ["X"]`, `os.getenv("X")`, and the workspace's table."""
    from mlonmcu_lite.peripheral.loader import ENV_PATH
    from mlonmcu_lite.workspace import ENVIRONMENT

    names = set(ENVIRONMENT.values()) | {ENV_PATH}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            target = None
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                func = ast.unparse(node.func)
                if func.endswith(("environ.get", "getenv")):
                    target = node.args[0].value
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ") \
                    and isinstance(node.slice, ast.Constant):
                target = node.slice.value
            if isinstance(target, str):
                names.add(target)
    return names


def test_every_environment_variable_is_documented() -> None:
    names = _environment_reads()
    assert {"MLML_CACHE_DIR", "MLML_PERIPHERAL_PATH", "GITHUB_STEP_SUMMARY"} <= names
    table = README[README.index("| environment variable |"):]
    undocumented = sorted(n for n in names if f"`{n}`" not in table)
    assert not undocumented, f"add to the README's environment table: {undocumented}"


def test_readme_command_table_lists_every_command() -> None:
    table = README[README.index("## Commands"):README.index("### Exit codes")]
    listed = set(re.findall(r"^\| `bench ([a-z]+)", table, re.M))
    assert set(COMMANDS) <= listed, sorted(set(COMMANDS) - listed)
    for sub in ("peripheral list", "peripheral new", "peripheral export", "cache info", "cache clear"):
        assert f"`bench {sub}" in table, sub
    codes = README[README.index("### Exit codes"):README.index("## Which models run")]
    for code in ("0", "1", "2", "3", "125", "130"):
        assert f"\n| {code} |" in codes, code


def test_shell_completion_script() -> None:
    proc = subprocess.run([sys.executable, "-c", "from mlonmcu_lite.cli import main; main(prog_name='bench')"],
                          env={"_BENCH_COMPLETE": "bash_source", "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "_bench_completion()" in proc.stdout and "complete " in proc.stdout
    assert "_BENCH_COMPLETE=bash_source bench" in README


@pytest.mark.parametrize("verbosity, level", [
    (0, logging.WARNING), (1, logging.INFO), (2, logging.DEBUG), (-1, logging.ERROR), (-2, logging.CRITICAL)])
def test_verbosity_sets_the_standard_log_level(verbosity: int, level: int) -> None:
    before = logging.getLogger().level
    try:
        configure_logging(verbosity)
        assert logging.getLogger().level == level
    finally:
        logging.captureWarnings(False)
        logging.getLogger().setLevel(before)


@pytest.mark.parametrize("argv, models, markdown", [
    (["--markdown", "resnet"], ("resnet",), "-"),                         # a flag: resnet stays a model
    (["resnet", "--markdown-file", "s.md", "vww"], ("resnet", "vww"), "s.md"),
    (["resnet"], ("resnet",), None),
])
def test_markdown_option_never_swallows_a_model(argv, models, markdown) -> None:
    """`--markdown` is a flag, `--markdown-file FILE` takes the file (both in the README)."""
    from mlonmcu_lite.cli.outputs import ci_outputs
    from mlonmcu_lite.cli.run import run

    with run.make_context("run", list(argv)) as ctx:
        assert ctx.params["models"] == models
        assert ci_outputs().markdown == markdown
    assert "`--markdown-file FILE`" in README and "`bench run --markdown resnet` runs resnet" in README


def test_markdown_and_markdown_file_together_are_a_usage_error() -> None:
    import click

    from mlonmcu_lite.cli.run import run

    with pytest.raises(click.UsageError, match="exclude each other"):
        run.make_context("run", ["--markdown", "--markdown-file", "s.md", "resnet"])
