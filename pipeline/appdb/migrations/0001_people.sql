-- Who may log in, their sessions, failed logins, kiosk links and the audit log.
-- Times are Unix seconds (UTC).

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'leader', 'committee', 'ops', 'liaison', 'unit')),
    -- A unit login's unit, a liaison's prefecture (division code); nothing for the others.
    unit_id TEXT,
    prefecture INTEGER,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL,
    disabled_at INTEGER,
    CHECK ((role = 'unit') = (unit_id IS NOT NULL)),
    CHECK ((role = 'liaison') = (prefecture IS NOT NULL))
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: a copy of this file logs nobody in.
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    address TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE kiosk_links (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    address TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- What a unit tells the office about its accounts (a wrong account, a missing one), the
-- office's queue.
CREATE TABLE unit_reports (
    id INTEGER PRIMARY KEY,
    unit_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('wrong_account', 'missing_account', 'other')),
    account TEXT NOT NULL,
    text TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_by TEXT,
    resolved_at INTEGER,
    resolution TEXT,
    CHECK ((resolved_at IS NULL) = (resolved_by IS NULL))
);
CREATE INDEX unit_reports_open ON unit_reports (resolved_at, created_at);

-- Operations' acknowledgements of an account's health state: who looks after it, with a note.
-- The latest per account counts; older ones stay as its history.
CREATE TABLE acknowledgements (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    state TEXT NOT NULL,
    assignee TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX acknowledgements_account ON acknowledgements (account_id, id);
