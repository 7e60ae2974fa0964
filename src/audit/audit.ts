import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import type { Db, Queryable } from '../db/db.js';
import { requestId } from '../http/request-context.js';
import { ACT_REASON_SYSTEM } from '../identity/purpose-of-use.js';
import type { Principal } from '../identity/types.js';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
/** FHIR AuditEvent.outcome: 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
export type AuditOutcome = '0' | '4' | '8' | '12';

export interface AuditActor {
  kind: 'client' | 'patient' | 'system' | 'anonymous';
  /** Client id, or `issuer|subject` for a patient. */
  id: string;
  organization?: string;
}

export interface AuditEntry {
  action: AuditAction;
  /** What happened, e.g. `checkin.create`, `shl.manifest`, `visit.read`. */
  subtype: string;
  outcome?: AuditOutcome;
  actor: AuditActor;
  /** Whose data it is, when it differs from the actor (a client reading a patient's check-in). */
  organization?: string;
  entity?: { type: string; id: string };
  /** Non-PHI facts only (recipient label, reason codes, counts). */
  detail?: Record<string, unknown>;
  /** The verified patient the record is about, who may then read it (disclosures). */
  patient?: { issuer: string; subject: string };
  /** Set for a disclosure to another organization: rendered as a DICOM Export with its purpose and recipient. */
  disclosure?: Disclosure;
  sourceIp?: string;
  requestId?: string;
}

/** Data of one organization's patient given to another organization. */
export interface Disclosure {
  recipientOrganization: string;
  clientId: string;
  /** v3-ActReason code. */
  purpose: string;
  /** `Patient/{id}` at the source. */
  patient: string;
}

export function actorOf(p: Principal | undefined): AuditActor {
  if (!p) return { kind: 'anonymous', id: 'anonymous' };
  return p.kind === 'client'
    ? { kind: 'client', id: p.client.clientId, organization: p.client.organization }
    : { kind: 'patient', id: `${p.identity.issuer}|${p.identity.subject}` };
}

/** The request-derived part of an entry: actor, source address and request id. */
export function requestAudit(req: Request, res: Response): Pick<AuditEntry, 'actor' | 'sourceIp' | 'requestId'> {
  return {
    actor: actorOf(res.locals.principal as Principal | undefined),
    ...(req.ip ? { sourceIp: req.ip } : {}),
    requestId: requestId(res),
  };
}

interface AuditRow {
  id: number;
  recorded_at: Date;
  action: AuditAction;
  subtype: string;
  outcome: AuditOutcome;
  actor_kind: string;
  actor_id: string;
  organization: string | null;
  entity_type: string | null;
  entity_id: string | null;
  detail: Record<string, unknown>;
  source_ip: string | null;
  request_id: string | null;
}

const COLUMNS = 'id, recorded_at, action, subtype, outcome, actor_kind, actor_id, organization, entity_type, entity_id, detail, source_ip, request_id';

export class AuditService {
  constructor(private readonly db: Db) {}

  /** Appends one record; pass the transaction's handle to make it part of that write. */
  async record(e: AuditEntry, q: Queryable = this.db): Promise<void> {
    await q.query(
      `INSERT INTO audit_event (action, subtype, outcome, actor_kind, actor_id, organization, entity_type, entity_id, detail, source_ip, request_id,
         patient_issuer, patient_subject)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        e.action,
        e.subtype,
        e.outcome ?? '0',
        e.actor.kind,
        e.actor.id,
        e.organization ?? e.actor.organization ?? null,
        e.entity?.type ?? null,
        e.entity?.id ?? null,
        JSON.stringify(e.disclosure ? { ...e.detail, disclosure: e.disclosure } : (e.detail ?? {})),
        e.sourceIp ?? null,
        e.requestId ?? null,
        e.patient?.issuer ?? null,
        e.patient?.subject ?? null,
      ],
    );
  }

  /** The newest `count` records of one organization, as a FHIR searchset Bundle whose `total` counts all that match. */
  async search(organization: string, opts: { count: number; entity?: { type: string; id: string } }): Promise<Bundle<AuditEvent>> {
    const params: unknown[] = [organization, opts.count];
    let where = 'organization = $1';
    if (opts.entity) {
      params.push(opts.entity.type, opts.entity.id);
      where += ' AND entity_type = $3 AND entity_id = $4';
    }
    // The window count sees every matching row, not only the page LIMIT keeps.
    const { rows } = await this.db.query<AuditRow & { total: number }>(
      `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM audit_event WHERE ${where} ORDER BY id DESC LIMIT $2`,
      params,
    );
    return searchset(rows);
  }

  /** The newest records about one verified patient (the disclosures of their data), for that patient. */
  async searchByPatient(issuer: string, subject: string, count: number): Promise<Bundle<AuditEvent>> {
    const { rows } = await this.db.query<AuditRow & { total: number }>(
      `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM audit_event WHERE patient_issuer = $1 AND patient_subject = $2 ORDER BY id DESC LIMIT $3`,
      [issuer, subject, count],
    );
    return searchset(rows);
  }
}

function searchset(rows: (AuditRow & { total: number })[]): Bundle<AuditEvent> {
  return { resourceType: 'Bundle', type: 'searchset', total: rows[0]?.total ?? 0, entry: rows.map((r) => ({ resource: toAuditEvent(r) })) };
}

/** A disclosure's FHIR shape: DICOM 110106 Export, its purpose of use, the recipient as a second agent, the patient as an entity. */
function disclosureParts(d: Disclosure): Partial<AuditEvent> {
  return {
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' },
    purposeOfEvent: [{ coding: [{ system: ACT_REASON_SYSTEM, code: d.purpose }] }],
  };
}

function toAuditEvent(r: AuditRow): AuditEvent {
  const disclosure = r.detail.disclosure as Disclosure | undefined;
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: String(r.id),
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'urn:ktc-gateway:audit-subtype', code: r.subtype }],
    action: r.action,
    recorded: r.recorded_at.toISOString(),
    outcome: r.outcome,
    agent: [
      {
        type: { coding: [{ system: 'urn:ktc-gateway:actor-kind', code: r.actor_kind }] },
        who: { identifier: { value: r.actor_id } },
        requestor: true,
        ...(r.source_ip ? { network: { address: r.source_ip, type: '2' as const } } : {}),
      },
    ],
    source: { observer: { display: 'ktc-gateway' }, ...(r.request_id ? { site: r.request_id } : {}) },
    ...(r.entity_type && r.entity_id
      ? {
          entity: [
            {
              what: { reference: `${r.entity_type}/${r.entity_id}` },
              ...(Object.keys(r.detail).length
                ? { detail: Object.entries(r.detail).map(([type, v]) => ({ type, valueString: typeof v === 'string' ? v : JSON.stringify(v) })) }
                : {}),
            },
          ],
        }
      : {}),
  };
  if (!disclosure) return event;
  return {
    ...event,
    ...disclosureParts(disclosure),
    agent: [
      ...event.agent,
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'CST', display: 'custodian' }] },
        who: { display: r.organization ?? 'unknown' },
        requestor: false,
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
        who: { identifier: { system: 'urn:ktc-gateway:client', value: disclosure.clientId }, display: disclosure.recipientOrganization },
        requestor: false,
      },
    ],
    entity: [
      ...(event.entity ?? []),
      { what: { reference: disclosure.patient }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } },
    ],
  };
}
