"""The customer-service dialogue as a state machine (no Flask), with a recording Desk."""

from tuiding_portals.migu.service_desk import Dialogue, advance, chat_event, ivr_event


class FakeDesk:
    """Stands in for the portal's storage so each transition can be checked in isolation."""

    def __init__(self, status="active"):
        self.status, self.codes_sent, self.unsubscribed = status, 0, 0

    def member_label(self, account):
        return ("黄金会员(连续包月)", self.status) if account == "13800000001" else None

    def send_code(self, account):
        self.codes_sent += 1

    def code_ok(self, account, code):
        return code == "123456"

    def password_ok(self, account, password):
        return password == "pw"

    def penalty(self, account):
        return "0.00"

    def unsubscribe(self, account):
        self.unsubscribed += 1
        return "MG20261122000001", self.status != "unsubscribed"


def press(d, desk, *keys):
    out = []
    for k in keys:
        ev = ivr_event(d, k)
        if ev is not None:
            out.append(advance(d, ev, desk))
    return out


def test_ivr_happy_path_reads_the_receipt_number_aloud():
    d, desk = Dialogue("ivr"), FakeDesk()
    replies = press(d, desk, "2", "138000", "00001#", "1", "123456#", "1")
    assert desk.codes_sent == 1 and desk.unsubscribed == 1 and d.state == "done"
    assert "M G 2 0 2 6 1 1 2 2 0 0 0 0 0 1" in replies[-1]
    assert "9" in replies[-1] and "M G" in press(d, desk, "9")[0]


def test_ivr_multi_key_entries_wait_for_hash():
    d = Dialogue("ivr", state="account")
    assert ivr_event(d, "1380") is None and ivr_event(d, "0000001") is None
    assert ivr_event(d, "#").value == "13800000001"


def test_ivr_wrong_key_repeats_the_menu_and_unknown_account_is_refused():
    d, desk = Dialogue("ivr"), FakeDesk()
    assert "输入有误" in press(d, desk, "7")[0] and d.state == "menu"
    assert "未查询到该账号" in press(d, desk, "2", "13900000000#")[1] and d.state == "account"
    assert "账号格式有误" in press(d, desk, "12#")[0]


def test_three_failed_verifications_end_the_call():
    d, desk = Dialogue("ivr"), FakeDesk()
    press(d, desk, "2", "13800000001#", "1")
    replies = press(d, desk, "000000#", "111111#", "222222#")
    assert "还可尝试 2 次" in replies[0] and "还可尝试 1 次" in replies[1]
    assert "验证失败次数过多" in replies[2] and d.state == "ended" and desk.unsubscribed == 0
    assert "通话已结束" in press(d, desk, "1")[0]


def test_declining_at_confirmation_changes_nothing():
    d, desk = Dialogue("ivr"), FakeDesk()
    press(d, desk, "2", "13800000001#", "2", "pw#")
    assert d.state == "confirm"
    assert "已取消退订" in press(d, desk, "2")[0] and desk.unsubscribed == 0 and d.state == "menu"


def test_chat_understands_requests_in_plain_words():
    for text in ("我想退订会员", "帮我取消咪咕会员", "不想续费了", "关闭自动续费", "please cancel"):
        assert chat_event(Dialogue("chat"), text).kind == "unsubscribe", text
    assert chat_event(Dialogue("chat"), "今天天气怎么样").kind == "unknown"
    assert chat_event(Dialogue("chat"), "<script>alert(1)</script>").kind == "unknown"


def test_chat_already_unsubscribed_gets_the_existing_receipt_not_a_new_one():
    d, desk = Dialogue("chat"), FakeDesk(status="unsubscribed")
    for text in ("退订", "13800000001", "2", "pw"):
        reply = advance(d, chat_event(d, text), desk)
    assert "无需重复办理" in reply and "MG20261122000001" in reply and d.state == "done"
