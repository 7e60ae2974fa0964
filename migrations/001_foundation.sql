-- The gateway's own ES256 signing keys. The newest active key signs; retired keys stay published.
CREATE TABLE signing_key (
  kid          text PRIMARY KEY,
  public_jwk   jsonb NOT NULL,
  -- The private JWK, as JSON text, or an AES-256-GCM envelope of it when KEY_ENCRYPTION_KEY is set.
  private_jwk  text NOT NULL,
  encrypted    boolean NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  retired_at   timestamptz
);

-- Append-only trail of every read and write of patient data. Never holds the PHI itself.
CREATE TABLE audit_event (
  id             bigserial PRIMARY KEY,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  action         text NOT NULL CHECK (action IN ('C', 'R', 'U', 'D', 'E')),
  subtype        text NOT NULL,
  outcome        text NOT NULL CHECK (outcome IN ('0', '4', '8', '12')),
  actor_kind     text NOT NULL CHECK (actor_kind IN ('client', 'patient', 'system', 'anonymous')),
  actor_id       text NOT NULL,
  organization   text,
  entity_type    text,
  entity_id      text,
  detail         jsonb NOT NULL DEFAULT '{}'::jsonb,
  source_ip      text,
  request_id     text
);
CREATE INDEX audit_event_org_time ON audit_event (organization, recorded_at DESC);
CREATE INDEX audit_event_entity ON audit_event (entity_type, entity_id);

CREATE FUNCTION audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only';
END;
$$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only();

-- FHIR resources the gateway holds (check-ins, visit summaries, encounters, appointments).
-- organization is the tenant boundary; patient_subject links a resource to a verified identity.
CREATE TABLE fhir_resource (
  resource_type    text NOT NULL,
  id               text NOT NULL,
  version_id       integer NOT NULL DEFAULT 1,
  organization     text NOT NULL,
  patient_issuer   text,
  patient_subject  text,
  content          jsonb NOT NULL,
  last_updated     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX fhir_resource_org ON fhir_resource (organization, resource_type);
CREATE INDEX fhir_resource_patient ON fhir_resource (patient_issuer, patient_subject);
