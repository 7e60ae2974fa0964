import type { Consent } from '@medplum/fhirtypes';
import { camelRow } from '../db/camel-row.js';
import type { Queryable } from '../db/db.js';

/** A patient's Consent as stored: who (verified identity) permits which organization. */
export interface StoredConsent {
  id: string;
  patientIssuer: string;
  patientSubject: string;
  recipientOrganization: string;
  resource: Consent;
  createdAt: Date;
  revokedAt: Date | undefined;
}

interface Row {
  id: string;
  patient_issuer: string;
  patient_subject: string;
  recipient_organization: string;
  resource: Consent;
  created_at: Date;
  revoked_at: Date | null;
}

function fromRow({ revoked_at, ...columns }: Row): StoredConsent {
  return { ...camelRow(columns), revokedAt: revoked_at ?? undefined };
}

export async function insertConsent(q: Queryable, c: Omit<StoredConsent, 'revokedAt'>): Promise<void> {
  await q.query(`INSERT INTO patient_consent (id, patient_issuer, patient_subject, recipient_organization, resource, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
    c.id,
    c.patientIssuer,
    c.patientSubject,
    c.recipientOrganization,
    JSON.stringify(c.resource),
    c.createdAt,
  ]);
}

/** One patient's consents, newest first (revoked ones too: they are part of the record). */
export async function listConsents(q: Queryable, issuer: string, subject: string): Promise<StoredConsent[]> {
  const { rows } = await q.query<Row>(`SELECT * FROM patient_consent WHERE patient_issuer = $1 AND patient_subject = $2 ORDER BY created_at DESC, id`, [issuer, subject]);
  return rows.map(fromRow);
}

/** Revokes one of the patient's active consents; undefined when they have no such active consent. */
export async function revokeConsent(q: Queryable, id: string, issuer: string, subject: string, at: Date): Promise<StoredConsent | undefined> {
  const { rows } = await q.query<Row>(
    `UPDATE patient_consent SET revoked_at = $4 WHERE id = $1 AND patient_issuer = $2 AND patient_subject = $3 AND revoked_at IS NULL RETURNING *`,
    [id, issuer, subject, at],
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function hasActiveConsentFor(q: Queryable, organization: string): Promise<boolean> {
  const { rows } = await q.query(`SELECT 1 FROM patient_consent WHERE recipient_organization = $1 AND revoked_at IS NULL LIMIT 1`, [organization]);
  return rows.length > 0;
}

/** Whether the patient (verified identity) currently permits `organization`. */
export async function patientConsents(q: Queryable, issuer: string, subject: string, organization: string): Promise<boolean> {
  const { rows } = await q.query(
    `SELECT 1 FROM patient_consent WHERE patient_issuer = $1 AND patient_subject = $2 AND recipient_organization = $3 AND revoked_at IS NULL LIMIT 1`,
    [issuer, subject, organization],
  );
  return rows.length > 0;
}
