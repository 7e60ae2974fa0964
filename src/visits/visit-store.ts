import type { Bundle } from '@medplum/fhirtypes';
import { camelRow } from '../db/camel-row.js';
import type { Queryable } from '../db/db.js';

export interface VisitRecord {
  id: string;
  checkinId: string;
  organization: string;
  clientId: string;
  patientIssuer: string;
  patientSubject: string;
  bundle: Bundle;
  version: number;
  shlId: string | null;
  healthCard: string;
  createdAt: Date;
  updatedAt: Date;
}

interface VisitRow {
  id: string;
  checkin_id: string;
  organization: string;
  client_id: string;
  patient_issuer: string;
  patient_subject: string;
  bundle: Bundle;
  version: number;
  shl_id: string | null;
  health_card: string;
  created_at: Date;
  updated_at: Date;
}

export async function getVisit(q: Queryable, id: string): Promise<VisitRecord | undefined> {
  const { rows } = await q.query<VisitRow>('SELECT * FROM visit WHERE id = $1', [id]);
  return rows[0] ? camelRow(rows[0]) : undefined;
}

export async function insertVisit(q: Queryable, v: Omit<VisitRecord, 'version' | 'createdAt' | 'updatedAt'>, now: Date): Promise<void> {
  await q.query(
    `INSERT INTO visit (id, checkin_id, organization, client_id, patient_issuer, patient_subject, bundle, shl_id, health_card, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
    [v.id, v.checkinId, v.organization, v.clientId, v.patientIssuer, v.patientSubject, JSON.stringify(v.bundle), v.shlId, v.healthCard, now],
  );
}
