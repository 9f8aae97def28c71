"""The documented seed accounts (docs/portals/migu.md) and their content and payment methods."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from ..clock import PortalClock
from ..passwords import seed_hash
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
    days_used: int
    days_left: int
    auto_renew: bool
    payments: tuple[tuple[str, str], ...]  # (kind, label); the first is the renewal method


ACCOUNTS = (
    SeedAccount(
        "13800000001",
        "migu-pass-001",
        "小林",
        "黄金会员",
        "monthly",
        15.0,
        "active",
        12,
        18,
        True,
        (
            ("支付宝", "支付宝 (lin***@163.com)"),
            ("银行卡", "银行卡 工商银行 (尾号 1024)"),
            ("话费支付", "话费支付 (138****0001)"),
        ),
    ),
    SeedAccount(
        "13800000002",
        "migu-pass-002",
        "阿杰",
        "钻石会员",
        "annual",
        248.0,
        "active",
        165,
        200,
        True,
        (("银行卡", "银行卡 招商银行 (尾号 6688)"), ("支付宝", "支付宝 (jie***@126.com)")),
    ),
    SeedAccount(
        "13800000003",
        "migu-pass-003",
        "王芳",
        "黄金会员",
        "monthly",
        15.0,
        "unsubscribed",
        30,
        0,
        False,
        (("话费支付", "话费支付 (138****0003)"),),
    ),
    SeedAccount(
        "13800000004",
        "migu-pass-004",
        "陈晨",
        "钻石会员",
        "monthly",
        30.0,
        "paused",
        18,
        12,
        False,
        (("支付宝", "支付宝 (chen***@qq.com)"),),
    ),
    SeedAccount(
        "13800000005",
        "migu-pass-005",
        "赵磊",
        "黄金会员",
        "annual",
        128.0,
        "active",
        100,
        265,
        True,
        (("支付宝", "支付宝 (zhao***@163.com)"),),
    ),
    SeedAccount(
        "13800000006",
        "migu-pass-006",
        "刘洋",
        "钻石会员",
        "annual",
        248.0,
        "active",
        3,
        362,
        True,
        (("银行卡", "银行卡 建设银行 (尾号 3399)"),),
    ),
)

SERVICES = {
    "黄金会员": ["咪咕视频 高清片库", "咪咕音乐 无损音质", "咪咕阅读 会员书库"],
    "钻石会员": ["咪咕视频 4K 片库与体育赛事直播", "咪咕音乐 无损音质", "咪咕阅读 会员书库", "咪咕快游 云游戏时长 20 小时/月"],
}

# Benefits members often miss; shown before they leave (会员状态 → 隐藏权益).
HIDDEN_BENEFITS = {
    "黄金会员": ["每月 2 张观影券(可兑换付费单片)", "咪咕音乐 演唱会直播 9 折"],
    "钻石会员": ["每月 4 张观影券(可兑换付费单片)", "体育赛事 VIP 解说", "续费年度会员立减 30 元(本月有效)"],
}

# (list, title, category, days ago, detail) per account; the same for every seed account keeps the docs short.
CONTENT = (
    ("history", "流浪地球 2", "电影", 2, "观看至 01:45:10"),
    ("history", "中超联赛 第 28 轮 上海申花 vs 北京国安", "体育", 5, "已看完"),
    ("history", "漫长的季节 第 6 集", "电视剧", 9, "观看至 00:32:08"),
    ("favorite", "繁花", "电视剧", 20, ""),
    ("favorite", "周深 2026 巡回演唱会", "音乐", 33, ""),
    ("purchased", "封神第二部:战火西岐(单片付费)", "电影", 40, "6.00 元,永久观看"),
    ("watchlist", "三体 第 1 季", "电视剧", 3, "待看,共 30 集"),
    ("watchlist", "纪录片:航拍中国 第四季", "纪录片", 11, "待看,共 8 集"),
)


def seed(conn: sqlite3.Connection, clock: PortalClock) -> None:
    now = clock.now()
    today = now.date()
    for a in ACCOUNTS:
        expires = today + timedelta(days=a.days_left)
        start = today - timedelta(days=a.days_used)
        paused_until = frozen = unsub_on = None
        if a.status == "paused":
            p = rules.pause(expires, today - timedelta(days=10), 1)
            paused_until, frozen = p.resumes_on.isoformat(), a.days_left
        if a.status == "unsubscribed":
            unsub_on = (today - timedelta(days=20)).isoformat()
        conn.execute(
            "INSERT INTO migu_account (account, phone, nickname, password_hash, member_type, plan, price_yuan, status,"
            " expires_on, auto_renew, payment_method, period_start, unsubscribed_on, paused_until, frozen_days)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                a.account,
                a.account,
                a.nickname,
                seed_hash(a.password),
                a.member_type,
                a.plan,
                a.price_yuan,
                a.status,
                expires.isoformat(),
                int(a.auto_renew),
                a.payments[0][1],
                start.isoformat(),
                unsub_on,
                paused_until,
                frozen,
            ),
        )
        for i, (kind, label) in enumerate(a.payments):
            conn.execute(
                "INSERT INTO migu_payment (account, kind, label, is_default) VALUES (?,?,?,?)",
                (a.account, kind, label, int(i == 0)),
            )
        for lst, title, category, days_ago, detail in CONTENT:
            conn.execute(
                "INSERT INTO migu_content (account, list, title, category, at, detail) VALUES (?,?,?,?,?,?)",
                (a.account, lst, title, category, (now - timedelta(days=days_ago)).isoformat(timespec="seconds"), detail),
            )
        if a.status == "unsubscribed":
            issued = now - timedelta(days=20)
            conn.execute(
                "INSERT INTO migu_receipt VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    f"MG{issued:%Y%m%d}000003",
                    a.account,
                    "unsubscribe",
                    f"{a.member_type}(连续包月)",
                    "官网",
                    issued.isoformat(),
                    issued.date().isoformat(),
                    "自动续费已关闭,会员权益已停止",
                    "0.00",
                ),
            )
