"""The documented seed accounts (README: "Seed accounts")."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from werkzeug.security import generate_password_hash

from ..clock import PortalClock
from . import rules


@dataclass(frozen=True)
class SeedAccount:
    account: str
    password: str
    nickname: str
    member_type: str
    plan: str
    price_yuan: float
    status: str
    days_left: int
    auto_renew: bool
    payment_method: str


ACCOUNTS = (
    SeedAccount("13800000001", "migu-pass-001", "小林", "黄金会员", "monthly", 15.0, "active", 18, True, "支付宝 (lin***@163.com)"),
    SeedAccount("13800000002", "migu-pass-002", "阿杰", "钻石会员", "annual", 248.0, "active", 200, True, "银行卡 招商银行 (尾号 6688)"),
    SeedAccount("13800000003", "migu-pass-003", "王芳", "黄金会员", "monthly", 15.0, "unsubscribed", 0, False, "话费支付 (138****0003)"),
    SeedAccount("13800000004", "migu-pass-004", "陈晨", "钻石会员", "monthly", 30.0, "paused", 12, False, "支付宝 (chen***@qq.com)"),
)

SERVICES = {
    "黄金会员": ["咪咕视频 高清片库", "咪咕音乐 无损音质", "咪咕阅读 会员书库"],
    "钻石会员": ["咪咕视频 4K 片库与体育赛事直播", "咪咕音乐 无损音质", "咪咕阅读 会员书库", "咪咕快游 云游戏时长 20 小时/月"],
}


def seed(conn: sqlite3.Connection, clock: PortalClock) -> None:
    now = clock.now()
    today = now.date()
    for a in ACCOUNTS:
        expires = today + timedelta(days=a.days_left)
        paused_until = frozen = None
        if a.status == "paused":
            p = rules.pause(expires, today - timedelta(days=10), 1)
            paused_until, frozen = p.resumes_on.isoformat(), a.days_left
        conn.execute(
            "INSERT INTO migu_account (account, phone, nickname, password_hash, member_type, plan, price_yuan, status,"
            " expires_on, auto_renew, payment_method, paused_until, frozen_days) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (a.account, a.account, a.nickname, generate_password_hash(a.password), a.member_type, a.plan, a.price_yuan,
             a.status, expires.isoformat(), int(a.auto_renew), a.payment_method, paused_until, frozen),
        )
        if a.status == "unsubscribed":
            issued = now - timedelta(days=20)
            conn.execute(
                "INSERT INTO migu_receipt VALUES (?,?,?,?,?,?,?,?)",
                (f"MG{issued:%Y%m%d}000003", a.account, "unsubscribe", f"{a.member_type}(连续包月)", "官网",
                 issued.isoformat(), issued.date().isoformat(), "自动续费已关闭,会员权益已停止"),
            )
