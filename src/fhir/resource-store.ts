import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.js';
import { DomainError } from '../errors.js';

/** Who a stored resource belongs to: the tenant, and the verified patient identity when there is one. */
export interface ResourceOwner {
  organization: string;
  patientIssuer?: string;
  patientSubject?: string;
}

// The escape for U+0000 not itself escaped (an odd run of backslashes before it).
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * A resource as stored: JSON text. PostgreSQL's jsonb, which a new version passes through, cannot
 * hold U+0000, so a resource with one is refused here, whatever path it came by, rather than
 * stored once and then never updatable.
 */
function storedText(resource: Resource): string {
  const text = JSON.stringify(resource);
  if (NUL_ESCAPE.test(text)) {
    throw new DomainError('ERR_FHIR_INVALID', `${resource.resourceType} holds the character U+0000, which FHIR strings cannot be stored with`);
  }
  return text;
}

/**
 * The wire protocol counts bind parameters in 16 bits: past 65,535 a statement cannot be sent.
 * Three per row, so a statement takes at most this many rows.
 */
const ROWS_PER_INSERT = 1000;

const COLUMNS = '(resource_type, id, version_id, organization, patient_issuer, patient_subject, content, last_updated)';

/** A resource new by construction, with its text already checked: a refusal comes before anything is written. */
interface NewRow {
  resourceType: string;
  id: string;
  text: string;
}

const newRow = (r: Resource & { id: string }): NewRow => ({ resourceType: r.resourceType, id: r.id, text: storedText(r) });

/**
 * VALUES rows for resources new by construction, as version 1: each one's type, id and text are
 * appended to `params`; owner and time are the parameters `shared` names ("$1::text, $2::text, $3::text" and "$4::timestamptz").
 */
function newRows(rows: NewRow[], params: unknown[], shared: { owner: string; time: string }): string {
  return rows
    .map((r) => {
      params.push(r.resourceType, r.id, r.text);
      const n = params.length;
      // Typed: in a VALUES list under a SELECT, PostgreSQL would take an untyped parameter as text.
      return `($${n - 2}::text, $${n - 1}::text, 1, ${shared.owner}, $${n}::json, ${shared.time})`;
    })
    .join(', ');
}

const asVersionOne = <T extends Resource>(r: T, now: Date) => ({ ...r, meta: { ...r.meta, versionId: '1', lastUpdated: now.toISOString() } });

/**
 * Inserts or replaces a resource of one organization, setting meta.versionId/lastUpdated.
 * A resource id held by another organization is never overwritten (throws).
 */
export async function putResource<T extends Resource>(q: Queryable, resource: T & { id: string }, owner: ResourceOwner, now: Date): Promise<T & { id: string }> {
  return (await putResourceWithNew(q, resource, [], owner, now)).resource;
}

/**
 * putResource, and with it resources new by construction (fresh gateway ids) as version 1: a
 * check-in's Patient with its Encounter, Provenance and history. Up to ROWS_PER_INSERT of them go in
 * the same statement, the rest as few as the parameter limit allows: each statement is a round
 * trip, and on PGlite several WebAssembly calls on the event loop. Every text is checked before
 * anything is written; past ROWS_PER_INSERT, all or nothing needs the caller's transaction. A
 * collision among the new ones is a bug and fails the transaction.
 */
export async function putResourceWithNew<T extends Resource, N extends Resource & { id: string }>(
  q: Queryable,
  resource: T & { id: string },
  fresh: N[],
  owner: ResourceOwner,
  now: Date,
): Promise<{ resource: T & { id: string }; fresh: N[] }> {
  const stored = asVersionOne(resource, now);
  const storedFresh = fresh.map((r) => asVersionOne(r, now));
  const rowsOfNew = storedFresh.map(newRow);
  const params: unknown[] = [resource.resourceType, resource.id, owner.organization, owner.patientIssuer ?? null, owner.patientSubject ?? null, storedText(stored), now];
  const alongside = rowsOfNew.slice(0, ROWS_PER_INSERT);
  // The version is bumped under the row lock the upsert takes, and another tenant's row is left
  // alone; the new resources are joined to the upsert's row, so without it none is inserted either.
  const put = `INSERT INTO fhir_resource ${COLUMNS}
     VALUES ($1, $2, 1, $3, $4, $5, $6, $7)
     ON CONFLICT (resource_type, id) DO UPDATE
       SET version_id = fhir_resource.version_id + 1,
           content = jsonb_set(EXCLUDED.content::jsonb, '{meta,versionId}', to_jsonb((fhir_resource.version_id + 1)::text))::json,
           last_updated = EXCLUDED.last_updated
       WHERE fhir_resource.organization = EXCLUDED.organization
     RETURNING version_id`;
  const sql = alongside.length
    ? `WITH put AS (${put}), fresh AS (
         INSERT INTO fhir_resource ${COLUMNS}
         SELECT v.* FROM (VALUES ${newRows(alongside, params, { owner: '$3::text, $4::text, $5::text', time: '$7::timestamptz' })}) AS v, put
       )
       SELECT version_id FROM put`
    : put;
  const { rows } = await q.query<{ version_id: number }>(sql, params);
  const version = rows[0]?.version_id;
  if (version === undefined) throw new Error(`${resource.resourceType}/${resource.id} belongs to another organization`);
  stored.meta.versionId = String(version);
  await insertRows(q, rowsOfNew.slice(ROWS_PER_INSERT), owner, now);
  return { resource: stored, fresh: storedFresh };
}

/** A resource of one organization (undefined for unknown ids and for other tenants alike). */
export async function getResource<T extends Resource>(q: Queryable, resourceType: T['resourceType'], id: string, organization: string): Promise<T | undefined> {
  const { rows } = await q.query<{ content: T }>('SELECT content FROM fhir_resource WHERE resource_type = $1 AND id = $2 AND organization = $3', [resourceType, id, organization]);
  return rows[0]?.content;
}

/** The Patient resource an organization already holds for a verified identity, if any. */
export async function findPatientId(q: Queryable, organization: string, issuer: string, subject: string): Promise<string | undefined> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM fhir_resource WHERE resource_type = 'Patient' AND organization = $1 AND patient_issuer = $2 AND patient_subject = $3
     ORDER BY last_updated DESC LIMIT 1`,
    [organization, issuer, subject],
  );
  return rows[0]?.id;
}

async function insertRows(q: Queryable, rows: NewRow[], owner: ResourceOwner, now: Date): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const params: unknown[] = [owner.organization, owner.patientIssuer ?? null, owner.patientSubject ?? null, now];
    const values = newRows(rows.slice(start, start + ROWS_PER_INSERT), params, { owner: '$1::text, $2::text, $3::text', time: '$4::timestamptz' });
    await q.query(`INSERT INTO fhir_resource ${COLUMNS} VALUES ${values}`, params);
  }
}

/**
 * A resource whichever organization holds it, with its owner. Only for callers that then decide,
 * by an explicit grant, whether the caller may see it (cross-organization reads).
 */
export async function findResourceWithOwner<T extends Resource>(
  q: Queryable,
  resourceType: T['resourceType'],
  id: string,
): Promise<{ resource: T; owner: ResourceOwner } | undefined> {
  const { rows } = await q.query<{ content: T; organization: string; patient_issuer: string | null; patient_subject: string | null }>(
    'SELECT content, organization, patient_issuer, patient_subject FROM fhir_resource WHERE resource_type = $1 AND id = $2',
    [resourceType, id],
  );
  const r = rows[0];
  if (!r) return undefined;
  const owner: ResourceOwner = {
    organization: r.organization,
    ...(r.patient_issuer && r.patient_subject ? { patientIssuer: r.patient_issuer, patientSubject: r.patient_subject } : {}),
  };
  return { resource: r.content, owner };
}
