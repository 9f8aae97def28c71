"""How long the Migu journeys take, as medians over repeated runs, relative to a baseline in the same run.

The baseline is a one-page scenario (open the login page, see its title): dividing by it
cancels out how busy this shared machine is right now, so ratios compare across machines
and commits; raw seconds do not.

    .venv/bin/python benchmarks/scenario_speed.py            # 5 repetitions
    .venv/bin/python benchmarks/scenario_speed.py --reps 9 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from tuiding.browser import BrowserSession
from tuiding.options import RunOptions
from tuiding.runner import run_scenario
from tuiding.scenario import load_scenario

ROOT = Path(__file__).parents[1]
BASELINE = "name: 基线\nportal: migu\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n"
JOURNEYS = ["scenarios/migu/web_unsubscribe.yaml", "scenarios/migu/web_pause.yaml", "scenarios/migu/forgot_password.yaml"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_file = Path(tmp) / "baseline.yaml"
        base_file.write_text(BASELINE, encoding="utf-8")
        scenarios = {"baseline": load_scenario(base_file), **{Path(j).stem: load_scenario(ROOT / j) for j in JOURNEYS}}
        times: dict[str, list[float]] = {k: [] for k in scenarios}
        with BrowserSession() as session:
            opts = RunOptions(out_dir=Path(tmp) / "runs", trace="off", browser=session.description)
            for _ in range(args.reps):
                for name, sc in scenarios.items():  # interleaved, so drift hits every scenario alike
                    result = run_scenario(sc, session, opts)
                    assert result.passed, (name, result.failure and result.failure.message)
                    times[name].append(result.duration_s)
    base = statistics.median(times["baseline"])
    rows = [
        {
            "scenario": k,
            "median_s": round(statistics.median(v), 3),
            "ratio_to_baseline": round(statistics.median(v) / base, 2),
            "steps": scenarios[k].step_count,
            "reps": len(v),
        }
        for k, v in times.items()
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(f"{'scenario':<18}{'steps':>6}{'median s':>10}{'× baseline':>12}")
        for r in rows:
            print(f"{r['scenario']:<18}{r['steps']:>6}{r['median_s']:>10.2f}{r['ratio_to_baseline']:>12.2f}")


if __name__ == "__main__":
    main()
