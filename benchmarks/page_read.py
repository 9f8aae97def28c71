"""One step's page read, sent whole with every step (as before pagekit.py) vs installed once per run and
called by name: wall time and this process's CPU per read, alternated on one settled page of the Migu portal
(the signed-in member page), with the friction probe and the capture observer's question as a run asks them.

    .venv/bin/python benchmarks/page_read.py             # 60 alternated pairs
    .venv/bin/python benchmarks/page_read.py --reads 5   # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import time

from overhead import machine

from tuiding.browser import BrowserSession
from tuiding.friction import PROBE_JS, patterns
from tuiding.observers import CaptureObserver
from tuiding.pagekit import PageKit, Part
from tuiding.redaction import find_config
from tuiding_portals.server import EmbeddedPortal


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reads", type=int, default=60)
    args = ap.parse_args()
    fixed = patterns(None)
    personal = find_config(("phone", "email", "id_card", "card"), (), (), (), page=True)
    capture = CaptureObserver.script
    whole = (
        "(args) => ({loaded: document.readyState === 'complete', title: document.title, scroll: [scrollX, scrollY], "
        f"facts: {{probe: ({PROBE_JS})(null, args[0]), capture: ({capture})(args[1], args[2])}}}})"
    )
    kit = PageKit([Part("probe", PROBE_JS, fixed), Part("capture", capture, personal)])
    step = [[], ["migu-pass-001"]]  # no CSS masks; one secret the site was told
    walls: dict[str, list[float]] = {"sent whole": [], "installed": []}
    cpus: dict[str, list[float]] = {"sent whole": [], "installed": []}
    with EmbeddedPortal("migu") as portal, BrowserSession() as session:
        context = session.new_context(base_url=portal.url, locale="zh-CN", timezone_id="Asia/Shanghai")
        kit.install(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("账号").fill("13800000001")
        page.get_by_label("密码").fill("migu-pass-001")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        where = page.url.split("/", 3)[-1]
        for _ in range(args.reads):
            for how in walls:
                t0, c0 = time.perf_counter(), time.process_time()
                if how == "sent whole":
                    page.evaluate(whole, [fixed, step, personal])
                else:
                    kit.read(page, ["probe", "capture"], [None, step])
                walls[how].append(time.perf_counter() - t0)
                cpus[how].append(time.process_time() - c0)
        context.close()
    print(f"\n{machine()}, {session.description}; {args.reads} alternated pairs of reads on /{where}\n")
    print("| page read | median ms | Python CPU ms |\n| --- | ---: | ---: |")
    for how in walls:
        print(f"| {how} | {statistics.median(walls[how]) * 1000:.1f} | {statistics.median(cpus[how]) * 1000:.2f} |")


if __name__ == "__main__":
    main()
