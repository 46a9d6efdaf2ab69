"""The build cache heals itself: debris of killed builds is removed, a corrupted entry is
rebuilt with a warning, and `bench cache info/clear` inspect and empty it (issue 15 item 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlonmcu_lite.harness.cache import MANIFEST, BuildCache, FirmwareArtifacts
from tests.helpers.e2e import bench


def _builder(calls: list):
    def build(directory: Path) -> FirmwareArtifacts:
        calls.append(directory)
        (directory / "fw.elf").write_bytes(b"\x7fELF" + bytes(range(200)))
        return FirmwareArtifacts(directory=str(directory), elf=str(directory / "fw.elf"),
                                 sizes={"rom_bytes": 204}, build_seconds=1.0)
    return build


def test_temp_folders_of_killed_builds_are_removed(tmp_path):
    cache = BuildCache(tmp_path)
    debris = tmp_path / ".fw-abc-k1ll3d_x"  # what a worker killed mid-build leaves
    debris.mkdir()
    (debris / "half.o").write_bytes(b"\0" * 10)
    other = tmp_path / ".model-def-zz9_abcd"
    other.mkdir()
    cache.get_or_build("fw-abc", _builder([]))
    assert not debris.exists()
    assert cache.clean_debris() == 1 and not other.exists()


@pytest.mark.parametrize("damage", ["truncate_elf", "delete_elf", "broken_manifest"])
def test_corrupted_entry_is_rebuilt_with_a_warning(tmp_path, damage):
    cache, calls = BuildCache(tmp_path), []
    first = FirmwareArtifacts.from_dict(cache.get_or_build("fw-k", _builder(calls)))
    elf = Path(first.elf)
    if damage == "truncate_elf":
        elf.write_bytes(elf.read_bytes()[:10])
    elif damage == "delete_elf":
        elf.unlink()
    else:
        (tmp_path / "fw-k" / MANIFEST).write_text('{"directory": ')
    with pytest.warns(RuntimeWarning, match="cache entry fw-k .*rebuilding"):
        again = FirmwareArtifacts.from_dict(cache.get_or_build("fw-k", _builder(calls)))
    assert len(calls) == 2 and not again.cached
    assert Path(again.elf).read_bytes()[:4] == b"\x7fELF" and len(Path(again.elf).read_bytes()) == 204
    hit = FirmwareArtifacts.from_dict(cache.get_or_build("fw-k", _builder(calls)))
    assert hit.cached and len(calls) == 2
    assert "checksums" in json.loads((tmp_path / "fw-k" / MANIFEST).read_text())


def test_bench_cache_info_and_clear(tmp_path):
    cache = BuildCache(tmp_path / "c")
    cache.get_or_build("fw-one", _builder([]))
    cache.get_or_build("model-two", _builder([]))
    (tmp_path / "c" / ".fw-x-debris01").mkdir()
    for side in ("native", "platform"):  # kept by the VP and the toolchain: not entries
        (tmp_path / "c" / side).mkdir()
        (tmp_path / "c" / side / "thing").write_text("x")
    info = bench("cache", "info", "--cache-dir", str(tmp_path / "c"))
    assert info.returncode == 0, info.stderr
    assert str(tmp_path / "c") in info.stdout
    assert "entries: 2  fw: 1  model: 1\n" in info.stdout
    assert "also: native/ (1 item, not counted as entries)" in info.stdout and "also: platform/" in info.stdout
    env_info = bench("cache", "info", env={"MLML_CACHE_DIR": str(tmp_path / "c")})
    assert str(tmp_path / "c") in env_info.stdout
    cleared = bench("cache", "clear", "--cache-dir", str(tmp_path / "c"))
    assert cleared.returncode == 0 and "removed 2 entries and native/, platform/" in cleared.stdout
    assert [p for p in (tmp_path / "c").iterdir() if not p.name.endswith(".lock")] == []
