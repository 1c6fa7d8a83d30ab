#!/usr/bin/env python3
"""Regenerate the README's FreqUI screenshots (docs/frequi-chart.png, docs/frequi-backtest.png).

They are the browser test's own screenshots (tests_ui/test_frequi.py: RsiMeanReversion backtested
from FreqUI's Backtest page, its result summary and its chart with the strategy's plot_config),
so a picture is only replaced after the test that checks it has passed. Needs what `make test-ui`
needs (the `ui` extra, /usr/bin/chromium, a FreqUI build); run it as `.venv/bin/python
scripts/frequi_screenshots.py` after `make test-ui` has set those up.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = ("frequi-chart.png", "frequi-backtest.png")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="frequi-shots-") as folder:
        env = {**os.environ, "FREQUI_SCREENSHOT_DIR": folder, "FREQTRADE_PACK_OFFLINE": "1"}
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests_ui"], cwd=REPO, env=env)
        if run.returncode != 0:
            print("ERROR: the FreqUI browser test failed; docs/ screenshots left unchanged",
                  file=sys.stderr)
            return 1
        for name in SCREENSHOTS:
            shutil.copyfile(Path(folder) / name, REPO / "docs" / name)
            print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
