-- SMART Health Links the gateway hosts (visit summaries). The id is the manifest path segment:
-- 32 random bytes, a bearer capability, so audit records carry only its first 8 characters.
-- The link's key is never stored: files are encrypted once, at creation, and kept as JWE.
CREATE TABLE shl_link (
  id               text PRIMARY KEY,
  -- '' | 'P' | 'U' (sorted letters, as in the link)
  flag             text NOT NULL,
  label            text,
  -- scrypt$N$r$p$salt$hash; set exactly when the flag has P
  passcode_hash    text,
  max_attempts     integer NOT NULL CHECK (max_attempts > 0),
  -- Lifetime count of wrong passcodes. Guesses reserve an attempt with one conditional UPDATE
  -- before the check, so parallel guesses can never push it past max_attempts.
  failed_attempts  integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0 AND failed_attempts <= max_attempts),
  organization     text NOT NULL,
  client_id        text NOT NULL,
  patient_issuer   text,
  patient_subject  text,
  expires_at       timestamptz NOT NULL,
  revoked_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((passcode_hash IS NOT NULL) = (position('P' in flag) > 0))
);
CREATE INDEX shl_link_owner ON shl_link (organization, client_id);
CREATE INDEX shl_link_patient ON shl_link (patient_issuer, patient_subject);

CREATE TABLE shl_file (
  link_id       text NOT NULL REFERENCES shl_link (id) ON DELETE CASCADE,
  file_index    integer NOT NULL,
  content_type  text NOT NULL,
  -- Compact JWE (dir, A256GCM) under the link's key.
  jwe           text NOT NULL,
  last_updated  timestamptz NOT NULL,
  PRIMARY KEY (link_id, file_index)
);

-- Single-use, short-lived tickets behind manifest `location` URLs. Only a SHA-256 of the ticket
-- is kept, so the table cannot be replayed into working URLs.
CREATE TABLE shl_ticket (
  token_hash  text PRIMARY KEY,
  link_id     text NOT NULL REFERENCES shl_link (id) ON DELETE CASCADE,
  file_index  integer NOT NULL,
  -- The manifest request's recipient, so the file fetch is audited under the same name.
  recipient   text NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX shl_ticket_expiry ON shl_ticket (expires_at);
CREATE INDEX shl_ticket_link ON shl_ticket (link_id);
