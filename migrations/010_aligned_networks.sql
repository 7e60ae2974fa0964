-- Aligned networks: subscriptions of other organizations, per patient, under a data-sharing
-- agreement (purpose of use) or the patient's consent.

-- The purposes of use the subscribing token carried (v3-ActReason codes); empty = own organization only.
ALTER TABLE subscription ADD COLUMN purposes jsonb NOT NULL DEFAULT '[]'::jsonb;
-- The patient filter (`patient.identifier=system|value`), as `system|value` keys; empty = no patient filter.
ALTER TABLE subscription ADD COLUMN patient_keys jsonb NOT NULL DEFAULT '[]'::jsonb;

-- The index an event is matched through: its patient's identifiers and verified identity, each
-- `system|value`, lead to the subscriptions naming them, without reading any other subscription.
CREATE TABLE subscription_patient (
  patient_key      text NOT NULL,
  subscription_id  text NOT NULL REFERENCES subscription (id),
  PRIMARY KEY (patient_key, subscription_id)
);
CREATE INDEX subscription_patient_sub ON subscription_patient (subscription_id);

-- Who an event is about, and for other organizations the minimum the CMS e-notification asks for
-- (Patient, sending Organization, treating Practitioner) as it was when the event happened.
ALTER TABLE notification_event ADD COLUMN patient_id text;
ALTER TABLE notification_event ADD COLUMN patient_issuer text;
ALTER TABLE notification_event ADD COLUMN patient_subject text;
ALTER TABLE notification_event ADD COLUMN context jsonb;
CREATE INDEX notification_event_identity ON notification_event (patient_issuer, patient_subject);

-- Why an event went to another organization (the granting purpose); NULL within the organization.
ALTER TABLE outbox ADD COLUMN purpose text;

-- A patient's permission (FHIR Consent, purpose PATRQT) for one recipient organization.
CREATE TABLE patient_consent (
  id                      text PRIMARY KEY,
  patient_issuer          text NOT NULL,
  patient_subject         text NOT NULL,
  recipient_organization  text NOT NULL,
  resource                jsonb NOT NULL,
  created_at              timestamptz NOT NULL,
  revoked_at              timestamptz
);
CREATE INDEX patient_consent_patient ON patient_consent (patient_issuer, patient_subject) WHERE revoked_at IS NULL;
CREATE INDEX patient_consent_recipient ON patient_consent (recipient_organization) WHERE revoked_at IS NULL;

-- Disclosures are about a patient, who may read them with their identity token.
ALTER TABLE audit_event ADD COLUMN patient_issuer text;
ALTER TABLE audit_event ADD COLUMN patient_subject text;
CREATE INDEX audit_event_patient ON audit_event (patient_issuer, patient_subject, id DESC) WHERE patient_issuer IS NOT NULL;
