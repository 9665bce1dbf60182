"""What every benchmark script records: the machine it ran on, and its JSON result file."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime
from pathlib import Path
from typing import Any


def machine() -> dict[str, object]:
    """CPU count, load average (benchmarks here share a noisy 2-core machine), Python, platform, time."""
    return {"cpus": os.cpu_count(), "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "platform": platform.platform(),
            "date": datetime.now().isoformat(timespec="seconds")}


def write_result(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
