"""Where a session's figures come from: tool versions, the git state of the project and of
every peripheral folder it used, the host and the command line (`<session>/provenance.json`).

A figure is only reproducible with what produced it; the cache key already hashes the code
and the tools, this file says which ones in words a reader can check (`bench --version`
prints the same tool versions).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

PROVENANCE_FILE = "provenance.json"
# distribution name -> what the report calls it
DISTRIBUTIONS = ("mlonmcu-lite", "apache-tvm", "unicorn", "ai-edge-litert", "tflite", "numpy", "pandas")


def tool_versions() -> dict[str, str]:
    """Python packages that shape the figures, plus the cross tools (clang, lld, libgcc's GCC)."""
    from mlonmcu_lite.harness import cache

    versions = {name: cache.dist_version(name) for name in DISTRIBUTIONS}
    versions.update({k: v for k, v in cache.tool_versions().items() if k not in versions})
    versions["python"] = platform.python_version()
    return versions


def git_state(folder: Path) -> dict[str, Any] | None:
    """`{repo, commit, dirty}` of the git work tree holding `folder`, or None outside one
    (an installed package, a peripheral folder that is not versioned)."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    if not Path(folder).is_dir():
        return None
    top = git("rev-parse", "--show-toplevel")
    commit = git("rev-parse", "HEAD") if top else None
    if not top or not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return {"repo": top, "commit": commit, "dirty": bool(status)}


def host() -> dict[str, Any]:
    return {"hostname": platform.node(), "system": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0]}


def provenance(request) -> dict[str, Any]:
    """The provenance of a `SessionRequest` run now from this process."""
    from mlonmcu_lite.peripheral.loader import find_peripherals

    workspace = request.workspace
    used = sorted({p.name for group in request.groups for p in group.peripherals})
    folders = find_peripherals(request.peripheral_path) if used else {}
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": list(sys.argv),
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "tools": tool_versions(),
        "project": {"layout": workspace.layout, "root": str(workspace.root),
                    "git": git_state(workspace.root) if not workspace.installed else None},
        "peripherals": {name: {"folder": str(folders[name]), "git": git_state(folders[name])}
                        for name in used if name in folders},
        "host": host(),
        "workspace": workspace.describe(),
    }


def write_provenance(request, out_dir: Path) -> Path:
    path = Path(out_dir) / PROVENANCE_FILE
    path.write_text(json.dumps(provenance(request), indent=1, default=str) + "\n")
    return path
