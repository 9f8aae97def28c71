"""Each action of the step table in a real browser, against pages served by Playwright routing."""

import json
from pathlib import Path

import pytest

from tuiding.model import ACTIONS
from tuiding.options import RunOptions
from tuiding.runner import run_scenario
from tuiding.scenario import load_scenario
from tuiding.steps import RUNNERS

pytestmark = pytest.mark.browser

SITE = "http://steps.test"
PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>动作测试</title>
<label><input type="checkbox" id="renew" checked> 自动续费</label>
<label for="q">搜索</label><input id="q" onkeydown="if(event.key==='Enter')document.getElementById('out').textContent='已搜索 '+this.value">
<p id="out"></p>
<button onclick="document.getElementById('ans').textContent = confirm('确定退订吗?') ? '已确认' : '已取消'">退订</button>
<p id="ans"></p>
<label for="f">附件</label><input type="file" id="f" onchange="document.getElementById('up').textContent='已选择 '+this.files[0].name">
<p id="up"></p>
<nav>会员中心 · 退订记录</nav>
<section data-testid="records"><h2>退订记录</h2><ul><li class="rec">MG001</li><li class="rec">MG002</li></ul></section>
<label for="why">其他原因说明(选择「其他」时必填,最多 200 字)</label><textarea id="why"></textarea>
<a href="data:text/csv;charset=utf-8,%E6%97%A5%E6%9C%9F%2C%E8%8A%82%E7%9B%AE%0A2026-11-01%2C%E6%96%B0%E9%97%BB%0A" download="history.csv">下载记录</a>
<a href="/next">下一页</a>
<button onclick="setTimeout(()=>{const p=document.createElement('p');p.textContent='稍后出现';document.body.append(p)},700)">延迟</button>
</html>"""


class RoutedSession:
    """A BrowserSession whose contexts answer http://steps.test/ from this test (the download is a data: URL:
    Chromium cancels downloads whose response came from route.fulfill)."""

    def __init__(self, session):
        self.session, self.devices, self.polls = session, session.devices, 0

    def new_context(self, **kw):
        ctx = self.session.new_context(**kw)
        ctx.route(f"{SITE}/**", self.handle)
        return ctx

    def handle(self, route):
        path = route.request.url[len(SITE) :]
        if path.startswith("/poll"):
            self.polls += 1
            route.fulfill(body=f"<p>{'已退订' if self.polls >= 3 else '处理中'}</p>", content_type="text/html; charset=utf-8")
        elif path.startswith("/next"):
            route.fulfill(body="<h1>下一页</h1>", content_type="text/html; charset=utf-8")
        else:
            route.fulfill(body=PAGE, content_type="text/html; charset=utf-8")


def run_yaml(tmp_path, session, steps: str, extra: str = ""):
    f = tmp_path / "s.yaml"
    f.write_text(f"name: 动作\nbase_url: {SITE}\n{extra}steps:\n{steps}", encoding="utf-8")
    (tmp_path / "id.txt").write_text("证件", encoding="utf-8")
    routed = RoutedSession(session)
    # live=True: steps.test is answered inside the browser by page.route, nothing leaves the machine
    result = run_scenario(load_scenario(f), routed, RunOptions(out_dir=tmp_path / "runs", timeout=5, live=True))
    return result, routed


def test_interaction_actions(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - uncheck: 自动续费
  - fill: {label: 搜索, value: 会员}
  - press: {label: 搜索, key: Enter}
  - see: 已搜索 会员
  - dialog: accept
  - click: 退订
  - see: 已确认
  - dialog: dismiss
  - click: 退订
  - see: 已取消
  - click: 退订
  - see: 已取消
    name: 未预先处理的弹窗被自动取消,不会卡住
  - upload: {label: 附件, files: id.txt}
  - see: 已选择 id.txt
  - click: 延迟
  - wait: {for: {text: 稍后出现}}
  - wait: 200ms
  - download: {click: 下载记录, as: 观看记录.csv}
  - save: {var: code, from: {css: "#out"}, pattern: "已搜索 (.*)"}
  - fill: {搜索: "again ${code}"}
  - click: 下一页
  - expect_url: /next
  - not_see: 退订
""",
    )
    assert result.passed, result.failure and result.failure.message
    steps = {r.action: r for r in result.records}
    assert steps["download"].events.downloads == ["downloads/观看记录.csv"]
    assert (result.run_dir / "downloads" / "观看记录.csv").read_text(encoding="utf-8").startswith("日期,节目")
    assert steps["fill"].target == "搜索=again 会员"  # the last fill, with the saved value substituted
    assert result.metrics.dialogs == 3 and result.metrics.downloads == 1
    manifest = json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["steps"][18]["events"]["downloads"] == ["downloads/观看记录.csv"]


def test_wait_until_polls_with_reload(tmp_path, session):
    result, routed = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /poll
  - wait: {until: {see: 已退订}, reload: true, every: 100ms, timeout: 10s}
""",
    )
    assert result.passed and routed.polls >= 3


def test_if_optional_retry_and_budget(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - click: 不存在的按钮
    if: {see: 挽留优惠}
  - see: 不存在的文字
    optional: true
    timeout: 300ms
  - click: 延迟
    retry: 1
  - click: 下一页
""",
        extra="budget: {clicks: 1}\n",
    )
    statuses = [r.status for r in result.records]
    assert statuses == ["passed", "skipped", "optional-failed", "passed", "passed"]
    assert result.records[1].screenshot is None  # a skipped step leaves no receipt
    assert not result.passed and result.failure.message == "budget: clicks 2 > 1 (steps 4, 5)"
    assert result.failure.step == 5  # pinned on the step where the budget was first exceeded, not the last one


def test_the_vocabulary_tables_agree():
    assert set(RUNNERS) == set(ACTIONS) - {"run"}  # run: is structural (the runner inlines the flow)


def test_every_action_is_exercised_here_or_by_the_migu_scenarios():
    here = Path(__file__).read_text(encoding="utf-8")
    scenarios = "".join(p.read_text(encoding="utf-8") for p in (Path(__file__).parents[1] / "scenarios").rglob("*.yaml"))
    for name in ACTIONS:
        assert f"- {name}:" in here + scenarios, f"action '{name}' has no test"


def test_a_secret_typed_into_a_plain_field_is_painted_over_in_the_receipt(tmp_path, session):
    from PIL import Image

    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - fill: {搜索: "${token}"}
    name: 输入令牌
""",
        extra="vars: {token: s3cr3t-token-value}\nsecrets: [token]\n",
    )
    assert result.passed
    rec = result.records[1]
    box = rec.shot.to_image(rec.bbox)
    img = Image.open(result.run_dir / rec.screenshot).convert("RGB")
    x, y = int(box.x + box.width / 2), int(box.y + box.height / 2)
    assert img.getpixel((x, y)) == (0x3D, 0x44, 0x50)  # the mask colour covers the field
    assert "s3cr3t-token-value" not in (result.run_dir / "manifest.json").read_text(encoding="utf-8")


def test_label_map_prefers_the_exact_label_then_one_containing_the_words(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - fill: {其他原因说明: 价格太高}
  - fill: {搜索: 会员}
""",
    )
    assert result.passed, result.failure and result.failure.message
    assert [r.target for r in result.records[1:]] == ["其他原因说明=价格太高", "搜索=会员"]


def test_a_timed_out_step_says_what_it_missed_in_words_within_its_timeout(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - fill: {手机号码: "138"}
    timeout: 1s
    optional: true
  - click: {role: button, name: 不存在}
    timeout: 1s
    optional: true
  - select: {label: 套餐, option: 年付}
    timeout: 1s
    optional: true
""",
    )
    missing_field, missing_button, missing_list = result.records[1:]
    assert missing_field.error == "no field labelled '手机号码' on the page after 1s"
    assert missing_button.error == "no element {role=button name=不存在} ready to click on the page after 1s"
    assert missing_list.error == "no element {label=套餐} ready to choose from on the page after 1s"
    assert "get_by_role" in (missing_button.error_detail or "")  # Playwright's words stay in the record


def test_finding_and_acting_share_one_timeout():
    """What is left of the budget, never 0 (Playwright's "wait forever"): no timing, just the arithmetic."""
    import time

    from tuiding.steps import Events, StepContext

    ctx = StepContext(
        page=None,  # type: ignore[arg-type]
        budget_ms=1000,
        vars={},
        events=Events(),
        base_dir=Path("."),
        save_download=lambda d, n: Path(n),
        has_secret=lambda t: False,
        mask=lambda loc: None,
        arm_dialog=lambda how: None,
        started=time.monotonic() - 0.6,
    )
    assert 0 < ctx.timeout_ms <= 400
    ctx.started -= 10
    assert ctx.timeout_ms == 1.0


def test_a_dialog_answer_armed_and_never_used_is_a_warning(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - dialog: accept
  - click: 延迟
  - dialog: dismiss
  - click: 退订
  - see: 已取消
""",
    )
    assert result.passed, result.failure and result.failure.message
    unused, used = result.records[2], result.records[4]
    assert unused.warnings == ["dialog: accept was armed for this step, but no dialog appeared"]
    assert used.warnings == [] and used.events.dialogs == 1


def test_within_count_and_download_content(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - not_see: 会员中心
    within: {testid: records}
  - see: 退订记录
    within: {testid: records}
  - count: {css: li.rec, equals: 2}
  - count: {text: MG00, at_least: 1, at_most: 2}
    within: {testid: records}
  - click: 下载记录
    within: {testid: records}
    timeout: 1s
    optional: true
  - count: {css: li.rec, at_least: 3}
    timeout: 1s
    optional: true
  - download: {click: 下载记录, as: h.csv, expect: {rows: 1, contains: [新闻, "2026-11-01"]}}
  - download: {click: 下载记录, as: h2.csv, expect: {rows: 5, contains: [电影]}}
    optional: true
""",
    )
    assert result.passed, result.failure and result.failure.message
    statuses = [r.status for r in result.records]
    assert statuses == ["passed"] * 5 + ["optional-failed", "optional-failed", "passed", "optional-failed"]
    outside, too_few, wrong_file = (result.records[i] for i in (5, 6, 8))
    assert outside.error == "no button, link or text '下载记录' on the page after 1s"
    assert too_few.error == "expected at least 3 visible {css=li.rec}, found 2 after 1s"
    assert wrong_file.error == "h2.csv does not contain '电影'; h2.csv has 1 rows, expected 5"


def test_an_ambiguous_target_says_how_to_pick_one(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - click: {css: li.rec}
    optional: true
""",
    )
    ambiguous = result.records[1]
    assert ambiguous.error == (
        "{css=li.rec} matches 2 elements on the page; add `exact: true` or `nth: 0` (the first), or scope the step with `within:`"
    )
    assert "strict mode violation" in (ambiguous.error_detail or "")


def test_mask_and_redaction_boxes_are_measured_per_target_in_one_round_trip(browser):
    """CSS and test-id targets are measured together (shadow DOM included), Playwright-only selectors and
    role/text targets one by one; two targets on one element give two boxes; hidden elements none."""
    from tuiding import model as M
    from tuiding.capture import measure_boxes as _boxes

    page = browser.new_page()
    page.set_content(
        "<div data-testid='no' style='position:absolute;left:10px;top:20px;width:100px;height:30px'>凭证</div>"
        "<p class='x' hidden>hidden</p><i data-testid='say &quot;hi&quot;'>引号</i><button style='margin:50px'>确认退订</button><div id='host'></div>"
        "<script>const r = document.getElementById('host').attachShadow({mode: 'open'});"
        "r.innerHTML = \"<span class='deep' style='display:inline-block;width:40px;height:10px'>d</span>\";</script>"
    )
    calls = []
    original = page.evaluate

    def counting(*args, **kwargs):
        calls.append(args[0][:20])
        return original(*args, **kwargs)

    page.evaluate = counting  # type: ignore[method-assign]
    masks, redact, quoted = _boxes(
        page,
        [M.Target(testid="no"), M.Target(css=".deep"), M.Target(css="p.x"), M.Target(css="button:has-text('确认')")],
        [M.Target(testid="no"), M.Target(role="button", name="确认退订"), "凭证"],
        [M.Target(testid='say "hi"')],
    )
    assert len(calls) == 1  # every CSS target in one evaluate; the :has-text() one went the locator way
    assert [(b.x, b.y, b.width, b.height) for b in masks[:1]] == [(10, 20, 100, 30)]
    assert len(masks) == 3 and masks[1].width == 40  # .deep inside the shadow root; p.x is hidden: no box
    assert len(redact) == 3 and redact[0] == masks[0]  # the same element, once per target
    assert len(quoted) == 1  # a test id with quotes is escaped for CSS, not broken by them
    page.close()


def test_secret_fields_are_painted_by_a_style_and_unnamed_ones_by_their_locator(browser, tmp_path):
    """Fields are named for the screenshot style by id and name (escaped for CSS); a field with neither
    is masked by its locator; a field holding no secret stays as it is."""
    from PIL import Image

    from tuiding.capture import FIELD_SELECTORS_JS as _FIELD_SELECTORS_JS
    from tuiding.capture import MASK_COLOR, capture

    page = browser.new_page(viewport={"width": 400, "height": 300})
    page.set_content(
        "<style>input{position:absolute;left:10px;width:120px;height:30px;border:1px solid #999;border-radius:6px}</style>"
        "<input type=password style='top:10px' value='pw'><input id='a\"b' style='top:60px' value='137'>"
        "<input style='top:110px' value='unnamed'><input name='plain' style='top:160px' value='shown'>"
    )
    fields = page.locator("input")
    assert fields.nth(1).evaluate(_FIELD_SELECTORS_JS, False) == ['input#a\\"b']
    assert fields.nth(2).evaluate(_FIELD_SELECTORS_JS, False) == []
    assert fields.nth(3).evaluate(_FIELD_SELECTORS_JS, False) == ['input[name="plain"]']
    path = tmp_path / "shot.png"
    capture(page, path, True, [fields.nth(2)], 5000, 1.0, masked_fields=['input#a\\"b'])
    image = Image.open(path).convert("RGB")
    mask = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))

    def painted(top: int) -> bool:
        return all(image.getpixel((x, y)) == mask for x in (12, 70, 128) for y in (top + 2, top + 15, top + 28))

    assert [painted(top) for top in (10, 60, 110, 160)] == [True, True, True, False]
    page.close()


def test_a_string_target_prefers_controls_and_exact_words_and_is_measured_while_chosen(browser, monkeypatch):
    """Preference: a button/link named exactly so, then an element with exactly that text, then a control
    containing the words, then any element containing them. A control already on the page is chosen
    and measured in one round trip; one that appears later is waited for."""
    from playwright.sync_api import Locator

    from tuiding.locators import locate_measured

    page = browser.new_page()
    page.set_content(
        "<h2>重置密码</h2><p>立即退订</p><a href='#'>立即退订会员</a>"
        "<button style='position:absolute;left:30px;top:200px;width:90px;height:40px'>重置密码</button>"
        "<span>仅文字</span><div>包含仅文字的段落</div>"
    )
    calls: list[str] = []
    original = Locator.evaluate_all

    def counting(self: Locator, *args: object, **kwargs: object) -> object:
        calls.append("evaluate_all")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Locator, "evaluate_all", counting)
    loc, measured = locate_measured(page, "重置密码", 2000)
    assert loc.evaluate("e => e.tagName") == "BUTTON"  # not the heading above it
    assert measured is not None and measured[:4] == (30, 200, 90, 40)
    assert calls == ["evaluate_all"]  # chosen and measured in one round trip
    assert locate_measured(page, "立即退订", 2000)[0].evaluate("e => e.tagName") == "P"  # exact text beats a containing link
    assert locate_measured(page, "退订会员", 2000)[0].evaluate("e => e.tagName") == "A"  # a control containing the words
    assert locate_measured(page, "仅文字", 2000)[0].evaluate("e => e.tagName") == "SPAN"
    page.evaluate("setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<button>稍后出现</button>'), 300)")
    late, box = locate_measured(page, "稍后出现", 3000)
    assert late.evaluate("e => e.tagName") == "BUTTON" and box is not None
    page.close()


def test_a_load_state_already_reached_is_not_waited_for_through_the_driver(browser, monkeypatch):
    """Playwright's wait_for_load_state sends three messages even when the state was reached; ours checks the
    client's own record first, and still waits (and times out) as Playwright does when it was not."""
    from playwright.sync_api import Error as PlaywrightError

    from tuiding.loadstate import reached, wait_for_load

    page = browser.new_page()
    held: list[object] = []
    page.route("http://load.test/", lambda r: r.fulfill(body="<p>页面</p><img src='/slow.png'>", content_type="text/html"))
    page.route("http://load.test/slow.png", lambda r: held.append(r))  # not answered yet: the load event waits for it
    page.goto("http://load.test/", wait_until="domcontentloaded")
    while not held:
        page.wait_for_timeout(20)
    assert reached(page, "domcontentloaded") and not reached(page, "load")
    from playwright._impl.connection import Connection

    sent: list[str] = []
    original = Connection.send_message_to_server

    def counting(self: Connection, owner: object, method: str, *args: object) -> object:
        sent.append(method)
        return original(self, owner, method, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Connection, "send_message_to_server", counting)
    wait_for_load(page, "domcontentloaded", 1000)
    assert sent == []  # nothing to wait for, nothing sent
    with pytest.raises(PlaywrightError, match="Timeout"):
        wait_for_load(page, "load", 300)
    held[0].fulfill(status=404, body=b"")  # type: ignore[attr-defined]
    wait_for_load(page, "load", 5000)
    assert reached(page, "load") and page.evaluate("document.readyState") == "complete"
    sent.clear()
    wait_for_load(page, "load", 1000)
    assert sent == []
    page.close()


@pytest.mark.parametrize(
    ("expectation", "ok"),
    [
        ("/next", True),  # contained text, as always
        ("'**/next'", True),  # Playwright's own glob, as its users write it
        ("'http://steps.test/*'", True),  # * stops at a slash: /next is one segment
        ("'**/admin/login/**'", False),
        ("{regex: '/n[a-z]+t$'}", True),
        ("{glob: '**/ne?t'}", False),  # ? is a literal in Playwright's glob
        ("{contains: 'steps.test/next'}", True),
    ],
)
def test_expect_url_takes_text_a_playwright_glob_or_a_regular_expression(tmp_path, session, expectation, ok):
    result, _ = run_yaml(tmp_path, session, f"  - goto: /next\n  - expect_url: {expectation}\n    timeout: 1s\n")
    assert result.passed is ok, result.failure and result.failure.message
    if not ok:
        assert result.failure and result.failure.message.startswith("expected the URL to match")
        assert result.failure.message.endswith("it is http://steps.test/next")


def test_a_value_saved_as_secret_is_masked_everywhere_and_painted_where_the_page_shows_it(tmp_path, session):
    """A token the site hands out is a secret from the moment it is saved: masked in every later record, and
    painted over in the receipts of pages that show it (here the page itself echoes it in a field)."""
    from PIL import Image

    from tuiding.capture import MASK_COLOR

    result, _ = run_yaml(
        tmp_path,
        session,
        """\
  - goto: /
  - fill: {搜索: "tok-9f3a2c-secret"}
  - press: {label: 搜索, key: Enter}
  - save: {var: token, from: {css: "#out"}, pattern: "已搜索 (.*)", secret: true}
  - fill: {label: 搜索, value: "${token}"}
    name: 再填 ${token}
    screenshot: {label: 搜索}
  - see: 已搜索
    screenshot: {css: "#out"}
""",
    )
    assert result.passed, result.failure and result.failure.message
    records = (result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    assert "tok-9f3a2c-secret" in records[1]  # typed before anyone said it was a secret
    assert not any("tok-9f3a2c-secret" in line for line in records[3:])  # from its saving on, nowhere
    assert "tok-9f3a2c-secret" not in (result.run_dir / "manifest.json").read_text(encoding="utf-8").split('"index": 4', 1)[1]
    assert result.records[4].name == "再填 ••••••"
    mask = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    for index in (5, 6):  # the field it was typed into, and the paragraph the page shows it in
        image = Image.open(result.run_dir / result.records[index - 1].screenshot).convert("RGB")
        share = dict((c, n) for n, c in image.getcolors(image.width * image.height)).get(mask, 0) / (image.width * image.height)
        assert share > 0.5, (index, share)


def test_now_reads_the_browser_clock_a_scenario_installs(tmp_path, session):
    result, _ = run_yaml(
        tmp_path,
        session,
        "  - goto: /\n  - fill: {搜索: '${now:%Y-%m-%d %H:%M}'}\n",
        extra="clock: '2030-01-02T03:04:00+08:00'\ntimezone: Asia/Shanghai\nvars: {today: '${now:%Y-%m-%d}'}\n",
    )
    assert result.passed, result.failure and result.failure.message
    assert result.records[1].target == "搜索=2030-01-02 03:04"
    assert result.manifest.clock == "browser"
