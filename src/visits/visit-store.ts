import type { Bundle } from '@medplum/fhirtypes';
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

function fromRow(r: VisitRow): VisitRecord {
  return {
    id: r.id,
    checkinId: r.checkin_id,
    organization: r.organization,
    clientId: r.client_id,
    patientIssuer: r.patient_issuer,
    patientSubject: r.patient_subject,
    bundle: r.bundle,
    version: r.version,
    shlId: r.shl_id,
    healthCard: r.health_card,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function getVisit(q: Queryable, id: string): Promise<VisitRecord | undefined> {
  const { rows } = await q.query<VisitRow>('SELECT * FROM visit WHERE id = $1', [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function insertVisit(q: Queryable, v: Omit<VisitRecord, 'version' | 'createdAt' | 'updatedAt'>, now: Date): Promise<void> {
  await q.query(
    `INSERT INTO visit (id, checkin_id, organization, client_id, patient_issuer, patient_subject, bundle, shl_id, health_card, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
    [v.id, v.checkinId, v.organization, v.clientId, v.patientIssuer, v.patientSubject, JSON.stringify(v.bundle), v.shlId, v.healthCard, now],
  );
}
