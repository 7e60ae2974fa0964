-- A visit summary posted by the EHR at the end of an encounter, for the checked-in patient.
CREATE TABLE visit (
  id               text PRIMARY KEY,
  checkin_id       text NOT NULL REFERENCES checkin (id),
  organization     text NOT NULL,
  client_id        text NOT NULL,
  patient_issuer   text NOT NULL,
  patient_subject  text NOT NULL,
  -- The FHIR document Bundle (Composition first).
  bundle           jsonb NOT NULL,
  -- Bumped on every change of the bundle; caches (plain-language summaries) key on it.
  version          integer NOT NULL DEFAULT 1,
  shl_id           text,
  -- The same Bundle as a SMART Health Card (compact JWS) signed with the gateway key.
  health_card      text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visit_checkin ON visit (checkin_id);
CREATE INDEX visit_patient ON visit (patient_issuer, patient_subject);
