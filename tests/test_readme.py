"""Every README command block marked `readme-test: offline` runs as written (from the repo root).

A `freqtrade webserver` line is started, pinged until it answers, then stopped.
"""

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO


MARKER = "<!-- readme-test: offline -->"
BLOCK = re.compile(re.escape(MARKER) + r"\s*```bash\n(.*?)```", re.S)
BLOCKS = BLOCK.findall((REPO / "README.md").read_text())


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FREQTRADE") and k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join([str(REPO / ".venv" / "bin"), env.get("PATH", "")])
    env["COLUMNS"] = "200"
    return env


def wait_for_ping(url: str, process: subprocess.Popen, seconds: int = 90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            time.sleep(1)
    return ""


def test_readme_has_offline_blocks():
    assert len(BLOCKS) >= 2
    assert any("freqtrade backtesting" in block for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block):
    assert (REPO / ".venv" / "bin" / "activate").is_file()
    lines = block.strip().splitlines()
    server = [line for line in lines if line.startswith("freqtrade webserver")]
    script = "\n".join(["set -euo pipefail", *[l for l in lines if l not in server]])
    if not server:
        result = subprocess.run(["bash", "-c", script], cwd=REPO, env=clean_env(),
                                capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
        return
    # Export the block's environment, then run the server line under it.
    script += "\nexec " + server[0]
    process = subprocess.Popen(["bash", "-c", script], cwd=REPO, env=clean_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answer = wait_for_ping("http://127.0.0.1:8080/api/v1/ping", process)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert '"pong"' in answer, output[-3000:]
