CREATE TABLE IF NOT EXISTS cloudpc_account (
    phone TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    verify_method TEXT NOT NULL CHECK (verify_method IN ('sms', 'face', 'question')),
    question TEXT,
    answer_hash TEXT,
    plan TEXT NOT NULL CHECK (plan IN ('monthly', 'annual')),
    plan_name TEXT NOT NULL,
    price_yuan TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    payment_account TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    question_wrong INTEGER NOT NULL DEFAULT 0,
    question_locked_until TEXT,
    sms_wrong INTEGER NOT NULL DEFAULT 0,
    sms_last_sent TEXT
);
CREATE TABLE IF NOT EXISTS cloudpc_request (
    id TEXT PRIMARY KEY,
    phone TEXT NOT NULL REFERENCES cloudpc_account(phone),
    reason TEXT NOT NULL,
    reason_text TEXT NOT NULL DEFAULT '',
    verified_by TEXT NOT NULL,
    flow TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    complete_at TEXT NOT NULL,
    refund_amount TEXT NOT NULL,
    refund_lines TEXT NOT NULL,
    refund_from TEXT,
    refund_by TEXT,
    refund_official_calendar INTEGER NOT NULL DEFAULT 1,
    superseded INTEGER NOT NULL DEFAULT 0  -- 1 once the service was ordered again: history, no longer the open request
);
CREATE TABLE IF NOT EXISTS cloudpc_document (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL REFERENCES cloudpc_account(phone),
    path TEXT NOT NULL,
    size_kb INTEGER NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cloudpc_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
