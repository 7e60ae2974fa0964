import type { Bundle } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.js';

export interface CheckinRecord {
  id: string;
  organization: string;
  clientId: string;
  patientIssuer: string;
  patientSubject: string;
  patientId: string;
  method: 'shlink' | 'shc' | 'bundle';
  bundle: Bundle;
}

/** `bundleJson` is the check-in Bundle as serialized for its response: stored as sent, serialized once. */
export async function insertCheckin(
  q: Queryable,
  c: Omit<CheckinRecord, 'bundle'> & { bundleJson: string; source: string | undefined; sourceVerified: boolean; createdAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO checkin (id, organization, client_id, patient_issuer, patient_subject, patient_id, method, source, source_verified, bundle, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [c.id, c.organization, c.clientId, c.patientIssuer, c.patientSubject, c.patientId, c.method, c.source ?? null, c.sourceVerified, c.bundleJson, c.createdAt],
  );
}

export async function getCheckin(q: Queryable, id: string): Promise<CheckinRecord | undefined> {
  const { rows } = await q.query<{
    id: string;
    organization: string;
    client_id: string;
    patient_issuer: string;
    patient_subject: string;
    patient_id: string;
    method: CheckinRecord['method'];
    bundle: Bundle;
  }>('SELECT id, organization, client_id, patient_issuer, patient_subject, patient_id, method, bundle FROM checkin WHERE id = $1', [id]);
  const r = rows[0];
  return r
    ? {
        id: r.id,
        organization: r.organization,
        clientId: r.client_id,
        patientIssuer: r.patient_issuer,
        patientSubject: r.patient_subject,
        patientId: r.patient_id,
        method: r.method,
        bundle: r.bundle,
      }
    : undefined;
}

/** The organization's newest check-ins, newest first (a front desk's arrivals list). */
export async function recentCheckins(
  q: Queryable,
  organization: string,
  limit: number,
): Promise<{ id: string; patientId: string; patientIssuer: string; patientSubject: string; createdAt: Date }[]> {
  const { rows } = await q.query<{ id: string; patient_id: string; patient_issuer: string; patient_subject: string; created_at: Date }>(
    'SELECT id, patient_id, patient_issuer, patient_subject, created_at FROM checkin WHERE organization = $1 ORDER BY created_at DESC LIMIT $2',
    [organization, limit],
  );
  return rows.map((r) => ({ id: r.id, patientId: r.patient_id, patientIssuer: r.patient_issuer, patientSubject: r.patient_subject, createdAt: r.created_at }));
}
