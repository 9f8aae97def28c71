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
    period_start TEXT NOT NULL,
    unsubscribed_on TEXT,
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
    details TEXT NOT NULL,
    penalty_yuan TEXT NOT NULL DEFAULT '0.00'
);
CREATE TABLE IF NOT EXISTS migu_payment (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL REFERENCES migu_account(account),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS migu_content (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL REFERENCES migu_account(account),
    list TEXT NOT NULL CHECK (list IN ('history', 'favorite', 'purchased', 'watchlist')),
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS migu_dialogue (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS migu_confirm_token (
    token TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    receipt_no TEXT
);
