"""Run every seed-question example in turn."""

import pathlib
import runpy

here = pathlib.Path(__file__).parent
for script in sorted(here.glob("seed*.py")):
    print(f"\n===== {script.name} =====")
    runpy.run_path(str(script), run_name="__main__")
