"""Seed accounts of the cloud PC portal (docs/portals/cloudpc.md)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from ..clock import PortalClock
from ..passwords import seed_hash
from . import rules


@dataclass(frozen=True)
class SeedAccount:
    phone: str
    password: str
    name: str
    verify_method: str
    plan: str
    plan_name: str
    price_yuan: str
    days_used: int
    period_days: int
    payment_account: str
    question: str | None = None
    answer: str | None = None
    in_processing: bool = False


ACCOUNTS = (
    SeedAccount(
        "13900000001", "cloud-pass-001", "张伟", "sms", "annual", "个人版 年付", "399.00", 100, 365, "支付宝 (zhang***@139.com)"
    ),
    SeedAccount(
        "13900000002", "cloud-pass-002", "李娜", "face", "monthly", "个人版 月付", "39.00", 10, 30, "和包支付 (139****0002)"
    ),
    SeedAccount(
        "13900000003",
        "cloud-pass-003",
        "王强",
        "question",
        "annual",
        "专业版 年付",
        "699.00",
        3,
        365,
        "银行卡 中国银行 (尾号 8812)",
        question="您就读的第一所小学的名称?",
        answer="新华小学",
    ),
    SeedAccount(
        "13900000004", "cloud-pass-004", "赵敏", "sms", "monthly", "个人版 月付", "39.00", 30, 30, "话费支付 (139****0004)"
    ),
    SeedAccount(
        "13900000005",
        "cloud-pass-005",
        "孙丽",
        "sms",
        "monthly",
        "个人版 月付",
        "39.00",
        12,
        30,
        "支付宝 (sun***@139.com)",
        in_processing=True,
    ),
    SeedAccount(
        "13900000006", "cloud-pass-006", "周杰", "sms", "monthly", "个人版 月付", "39.00", 20, 30, "支付宝 (zhou***@139.com)"
    ),
)

DOCUMENTS = (
    ("我的文档/2026 年度预算.xlsx", 86),
    ("我的文档/项目汇报.pptx", 2450),
    ("桌面/会议纪要 11-18.docx", 42),
    ("图片/团建合影.jpg", 3860),
    ("视频/产品演示.mp4", 48200),
    ("下载/云电脑使用手册.pdf", 1320),
)
INSTALLED_SOFTWARE = ("WPS Office 2026", "微信 4.1", "Visual Studio Code 1.106", "7-Zip 25.01")


def seed(conn: sqlite3.Connection, clock: PortalClock) -> None:
    now = clock.now()
    today = now.date()
    for a in ACCOUNTS:
        start = today - timedelta(days=a.days_used)
        end = start + timedelta(days=a.period_days)
        conn.execute(
            "INSERT INTO cloudpc_account (phone, name, password_hash, verify_method, question, answer_hash, plan, plan_name,"
            " price_yuan, period_start, period_end, payment_account) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                a.phone,
                a.name,
                seed_hash(a.password),
                a.verify_method,
                a.question,
                seed_hash(rules.normalise_answer(a.answer)) if a.answer else None,
                a.plan,
                a.plan_name,
                a.price_yuan,
                start.isoformat(),
                end.isoformat(),
                a.payment_account,
            ),
        )
        for i, (path, size) in enumerate(DOCUMENTS):
            conn.execute(
                "INSERT INTO cloudpc_document (phone, path, size_kb, modified) VALUES (?,?,?,?)",
                (a.phone, path, size, (now - timedelta(days=i * 3 + 1)).isoformat(timespec="seconds")),
            )
        if a.in_processing:
            from .store import create_request  # the same path a real submission takes

            create_request(conn, a.phone, "使用频率低", "", "sms", "standard", now - timedelta(hours=2), rules.PROCESSING)
