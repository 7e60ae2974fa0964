-- A completed check-in: the resources received (in fhir_resource) tied to a verified identity.
CREATE TABLE checkin (
  id               text PRIMARY KEY,
  organization     text NOT NULL,
  client_id        text NOT NULL,
  patient_issuer   text NOT NULL,
  patient_subject  text NOT NULL,
  patient_id       text NOT NULL,
  -- How the data came: shlink | shc | bundle; source_verified false for unverified SHC issuers and plain Bundles.
  method           text NOT NULL CHECK (method IN ('shlink', 'shc', 'bundle')),
  source           text,
  source_verified  boolean NOT NULL,
  bundle           jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkin_org ON checkin (organization, created_at DESC);
CREATE INDEX checkin_patient ON checkin (patient_issuer, patient_subject);

-- Wallet-scans-kiosk sessions: opened by a kiosk, completed once by a patient, expiring.
CREATE TABLE checkin_session (
  id            text PRIMARY KEY,
  organization  text NOT NULL,
  client_id     text NOT NULL,
  status        text NOT NULL CHECK (status IN ('waiting', 'completed')),
  checkin_id    text REFERENCES checkin (id),
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
