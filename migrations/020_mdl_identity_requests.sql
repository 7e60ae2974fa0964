-- OpenID4VP requests for an mDL (ISO 18013-5) over the Digital Credentials API. Each is answered
-- at most once: used_at is set by one atomic UPDATE, so a presentation cannot be replayed, on any
-- replica. purpose 'checkin' requests belong to the kiosk that made them (and, when made with a
-- check-in session, to that session); 'patient' requests are for the patient's own access token.
CREATE TABLE identity_request (
  id            text PRIMARY KEY,
  purpose       text NOT NULL CHECK (purpose IN ('checkin', 'patient')),
  nonce         text NOT NULL UNIQUE,
  organization  text,
  client_id     text,
  session_id    text REFERENCES checkin_session (id) ON DELETE CASCADE,
  -- For dc_api.jwt: the ephemeral private JWK the wallet encrypts its answer to (sealed when KEY_ENCRYPTION_KEY is set).
  response_key  text,
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_request_expiry ON identity_request (expires_at);

-- A kiosk may verify the patient's mDL on the kiosk page while the wallet sends the health data
-- through the session: the verified identity waits here until the submission (cleared then).
ALTER TABLE checkin_session ADD COLUMN identity jsonb;

-- Secrets the gateway generates once and shares across replicas (sealed when KEY_ENCRYPTION_KEY is set).
CREATE TABLE gateway_secret (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  encrypted   boolean NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
