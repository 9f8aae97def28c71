SQL = """
CREATE TABLE IF NOT EXISTS migu_account (
    account TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    nickname TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    member_type TEXT NOT NULL,
    plan TEXT NOT NULL CHECK (plan IN ('monthly', 'annual')),
    price_yuan REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'unsubscribed')),
    expires_on TEXT NOT NULL,
    auto_renew INTEGER NOT NULL,
    payment_method TEXT NOT NULL,
    paused_until TEXT,
    frozen_days INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
);
CREATE TABLE IF NOT EXISTS migu_receipt (
    receipt_no TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES migu_account(account),
    kind TEXT NOT NULL,
    service TEXT NOT NULL,
    channel TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS migu_confirm_token (
    token TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    receipt_no TEXT
);
"""
