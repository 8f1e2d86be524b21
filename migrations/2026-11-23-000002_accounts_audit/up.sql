-- Accounts, roles, sessions, API tokens and the tamper-evident audit trail.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('icb', 'provider', 'local_authority', 'host_provider')),
    name TEXT NOT NULL,
    -- LA code for local authorities (matches children.responsible_la); ODS code otherwise.
    code TEXT NOT NULL UNIQUE,
    -- The ICB whose children this organisation works with; NULL for an ICB itself.
    icb_id TEXT REFERENCES organisations (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'health_admin', 'clinician', 'social_worker', 'assurance', 'read_only')),
    PRIMARY KEY (user_id, role)
);

-- Browser sessions: only a hash of the cookie value is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    client_address TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Bearer tokens for integrations: only a hash is stored; shown once when issued.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed sign-ins by client address, for throttling across instances.
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    client_address TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (client_address, occurred_at);

-- Append-only. Each entry carries the hash of the one before it, so an edited, deleted or
-- reordered row breaks the chain (`cla-tracker audit verify`).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    user_id TEXT,
    user_email TEXT,
    role TEXT,
    client_address TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    child_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    changes TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_child ON audit_log (child_id, seq);

-- The child's allocated social worker (an account), beside the free-text email.
ALTER TABLE children ADD COLUMN social_worker_id TEXT REFERENCES users (id);
