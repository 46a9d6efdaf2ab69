"""One mapping from the two error roots to exit codes, for every command."""

from __future__ import annotations

from click.testing import CliRunner

from mlonmcu_lite.cli import EXIT_CODES, main
from mlonmcu_lite.errors import ToolError, UserError
from mlonmcu_lite.firmware import toolchain
from mlonmcu_lite.harness.layers import LayerAttributionError
from mlonmcu_lite.harness.settings import SettingsError
from mlonmcu_lite.peripheral import PeripheralConfigError
from mlonmcu_lite.reports import SchemaError
from mlonmcu_lite.vp import SimFault
from mlonmcu_lite.zoo import ModelError


def test_every_harness_error_has_one_of_two_roots():
    for cls in (ModelError, SettingsError, PeripheralConfigError, SchemaError, toolchain.UnknownArch):
        assert issubclass(cls, UserError) and issubclass(cls, ValueError), cls
    for cls in (toolchain.BuildError, toolchain.ToolchainMissing, SimFault, LayerAttributionError):
        assert issubclass(cls, ToolError) and issubclass(cls, RuntimeError), cls
    assert EXIT_CODES == {UserError: 2, ToolError: 3}


def test_errors_carry_stage_and_run():
    error = ModelError("bad model").at("load", "x__cpu__rv32imc")
    assert (error.stage, error.run) == ("load", "x__cpu__rv32imc")
    assert error.where() == "run x__cpu__rv32imc, stage load"
    assert error.at("build").stage == "load"  # the first stage known is kept


def test_user_error_exits_2_with_the_message():
    res = CliRunner().invoke(main, ["models", "no_such_model"])
    assert res.exit_code == 2 and "unknown model 'no_such_model'" in res.output
    res = CliRunner().invoke(main, ["run", "aww", ""])
    assert res.exit_code == 2 and "empty model argument" in res.output


def test_tool_error_exits_3(monkeypatch):
    def missing():
        raise toolchain.ToolchainMissing("clang-14 not found")

    monkeypatch.setattr(toolchain, "find_toolchain", missing)
    res = CliRunner().invoke(main, ["perf", "--repeat", "1"])
    assert res.exit_code == 3 and "clang-14 not found" in res.output


def test_archs_come_from_the_platform_folder():
    res = CliRunner().invoke(main, ["run", "aww", "--arch", "rv64gc"])
    assert res.exit_code == 2 and "'rv32gc', 'rv32imc'" in res.output
