import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db, Queryable } from '../db/db.js';
import { failWith } from '../errors.js';
import { FHIR_VERSION } from '../fhir/version.js';
import type { Principal } from '../identity/types.js';
import { decryptFile, encryptFile } from './jwe.js';
import { LABEL_MAX, URL_MAX, buildShlink } from './link.js';
import { hashPasscode, verifyPasscode } from './passcode.js';

/**
 * The sharing side of SMART Health Links: links the gateway hosts (visit summaries). Each link
 * gets a random 256-bit manifest id and key; files are encrypted once at creation and only the
 * JWEs are kept, so the host never needs (or holds) the key afterwards. Every inactive state
 * (unknown, expired, revoked, locked) looks the same to callers: `{ kind: 'inactive' }`.
 */

export const DEFAULT_MAX_ATTEMPTS = 10;
/** `location` tickets are single-use and live this long (the spec's ceiling is one hour). */
export const DEFAULT_LOCATION_TTL_MS = 15 * 60_000;
const PASSCODE_MAX = 256;
const FILES_MAX = 20;
const badLinkRequest = failWith('ERR_SHL_LINK_REQUEST');

export interface ShlOwner {
  organization: string;
  /** The client that made the link (an EHR); it may revoke it. */
  clientId: string;
  /** The patient the data is about; they may revoke it too. */
  patient?: { issuer: string; subject: string };
}

export interface HostedFile {
  contentType: string;
  content: string;
  /** What the file is for; a later file with the same role replaces it (putFile). */
  role?: string;
}

export interface CreateShlInput {
  files: HostedFile[];
  passcode?: string;
  expiresAt: Date;
  /** U flag: the one file is fetched by GET on the link's URL, no manifest. Not with a passcode. */
  singleFile?: boolean;
  label?: string;
  owner: ShlOwner;
  /** Lifetime wrong-passcode allowance (default 10). */
  maxAttempts?: number;
}

export interface CreatedShl {
  /** The manifest id: a bearer capability; keep it out of logs. */
  id: string;
  /** base64url AES-256 key; returned once, never stored. */
  key: string;
  shlink: string;
  url: string;
  expiresAt: Date;
}

/** What audit records may name: the first 8 characters of the id and the owner's organization. */
export interface LinkRef {
  auditId: string;
  organization: string;
}

export interface ManifestRequest {
  recipient: string;
  passcode?: string;
  embeddedLengthMax?: number;
}

export interface ManifestFile {
  contentType: string;
  embedded?: string;
  location?: string;
  lastUpdated: string;
  status: 'finalized';
  fhirVersion?: string;
}

export type Inactive = { kind: 'inactive'; link?: LinkRef };
export type ManifestResult = { kind: 'ok'; link: LinkRef; files: ManifestFile[] } | { kind: 'passcode'; link: LinkRef; remainingAttempts: number } | Inactive;
export type FileResult = { kind: 'ok'; link: LinkRef; jwe: string; recipient?: string } | Inactive;

export interface ShlHostOptions {
  db: Db;
  clock: Clock;
  publicBaseUrl: string;
  locationTtlMs?: number;
}

interface LinkRow {
  id: string;
  flag: string;
  passcode_hash: string | null;
  max_attempts: number;
  failed_attempts: number;
  organization: string;
  expires_at: Date;
  revoked_at: Date | null;
}

interface FileRow {
  file_index: number;
  content_type: string;
  jwe: string;
  last_updated: Date;
}

const random43 = () => randomBytes(32).toString('base64url');
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const refOf = (row: LinkRow): LinkRef => ({ auditId: row.id.slice(0, 8), organization: row.organization });

export class ShlHost {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly baseUrl: string;
  private readonly locationTtlMs: number;

  constructor(opts: ShlHostOptions) {
    this.db = opts.db;
    this.clock = opts.clock;
    this.baseUrl = opts.publicBaseUrl.replace(/\/+$/, '');
    this.locationTtlMs = Math.min(opts.locationTtlMs ?? DEFAULT_LOCATION_TTL_MS, 60 * 60_000);
  }

  manifestUrl(id: string): string {
    return `${this.baseUrl}/shl/${id}`;
  }

  /** Encrypts the files under a new key and stores the link; pass `q` to join a caller's transaction. */
  async create(input: CreateShlInput, q?: Queryable): Promise<CreatedShl> {
    const { files, passcode, singleFile, label } = input;
    if (files.length === 0 || files.length > FILES_MAX) throw badLinkRequest(`A health link holds 1 to ${FILES_MAX} files`);
    if (singleFile && files.length !== 1) throw badLinkRequest('A single-file (U) health link holds exactly one file');
    if (singleFile && passcode !== undefined) throw badLinkRequest('A single-file (U) health link cannot have a passcode', ['passcode']);
    if (passcode !== undefined && (passcode.length === 0 || passcode.length > PASSCODE_MAX)) {
      throw badLinkRequest(`A passcode has 1 to ${PASSCODE_MAX} characters`, ['passcode']);
    }
    if (label !== undefined && label.length > LABEL_MAX) throw badLinkRequest(`A health link label has at most ${LABEL_MAX} characters`, ['label']);
    const now = this.clock.now();
    if (!(input.expiresAt.getTime() > now)) throw badLinkRequest('A health link must expire in the future', ['expiresAt']);
    const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw badLinkRequest('maxAttempts must be a positive integer');

    const id = random43();
    const url = this.manifestUrl(id);
    // A deployment fault (PUBLIC_BASE_URL too long), not the caller's: fail loudly.
    if (url.length > URL_MAX) throw new Error(`PUBLIC_BASE_URL makes SHL URLs longer than ${URL_MAX} characters`);
    const keyText = random43();
    const key = Buffer.from(keyText, 'base64url');
    const flag = passcode !== undefined ? 'P' : singleFile ? 'U' : '';
    const jwes = await Promise.all(files.map((f) => encryptFile(f.content, key, f.contentType, { zip: true })));
    key.fill(0);
    const passcodeHash = passcode !== undefined ? await hashPasscode(passcode) : null;
    const o = input.owner;

    const store = async (tx: Queryable) => {
      await tx.query(
        `INSERT INTO shl_link (id, flag, label, passcode_hash, max_attempts, organization, client_id, patient_issuer, patient_subject, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [id, flag, label ?? null, passcodeHash, maxAttempts, o.organization, o.clientId, o.patient?.issuer ?? null, o.patient?.subject ?? null, input.expiresAt, new Date(now)],
      );
      for (const [i, jwe] of jwes.entries()) {
        await tx.query('INSERT INTO shl_file (link_id, file_index, content_type, jwe, last_updated, role) VALUES ($1, $2, $3, $4, $5, $6)', [
          id,
          i,
          files[i]!.contentType,
          jwe,
          new Date(now),
          files[i]!.role ?? null,
        ]);
      }
    };
    if (q) await store(q);
    else await this.db.transaction(store);

    const exp = Math.floor(input.expiresAt.getTime() / 1000);
    return { id, key: keyText, url, expiresAt: input.expiresAt, shlink: buildShlink({ url, key: keyText, exp, flag, ...(label !== undefined ? { label } : {}) }) };
  }

  /**
   * A new version of the link's files (SHL files may change; the manifest shows `lastUpdated`):
   * the file replaces the link's file of the same role, or is added. The host keeps no keys, so
   * the caller brings the link's key; it must decrypt the link's first file, which proves it is
   * this link's key and not merely a well-formed one. Only active manifest links (not U) change.
   */
  async putFile(id: string, keyText: string, file: HostedFile & { role: string }): Promise<{ lastUpdated: Date }> {
    const found = await this.load(id);
    const now = this.clock.now();
    if (!found || !this.isActive(found.link, now)) throw new ShlUpdateError('inactive');
    if (found.link.flag.includes('U')) throw new ShlUpdateError('single-file');
    const key = Buffer.from(keyText, 'base64url');
    try {
      await decryptFile(found.files[0]!.jwe, key);
    } catch {
      throw new ShlUpdateError('wrong-key');
    }
    const jwe = await encryptFile(file.content, key, file.contentType, { zip: true });
    key.fill(0);
    const at = new Date(now);
    const replaced = await this.db.query('UPDATE shl_file SET content_type = $3, jwe = $4, last_updated = $5 WHERE link_id = $1 AND role = $2', [
      id,
      file.role,
      file.contentType,
      jwe,
      at,
    ]);
    if (replaced.rowCount === 0) {
      if (found.files.length >= FILES_MAX) throw new ShlUpdateError('full');
      const next = Math.max(...found.files.map((f) => f.file_index)) + 1;
      await this.db.query('INSERT INTO shl_file (link_id, file_index, content_type, jwe, last_updated, role) VALUES ($1, $2, $3, $4, $5, $6)', [
        id,
        next,
        file.contentType,
        jwe,
        at,
        file.role,
      ]);
    }
    return { lastUpdated: at };
  }

  /** The manifest for a POST /shl/:id, after the passcode check (one reserved attempt per guess). */
  async manifest(id: string, req: ManifestRequest): Promise<ManifestResult> {
    const now = this.clock.now();
    const found = await this.load(id);
    if (!found || !this.isActive(found.link, now) || found.link.flag.includes('U')) return inactive(found?.link);
    const row = found.link;
    if (row.passcode_hash !== null) {
      if (req.passcode === undefined) return { kind: 'passcode', link: refOf(row), remainingAttempts: row.max_attempts - row.failed_attempts };
      const verdict = await this.guess(row, req.passcode, now);
      if (verdict !== 'right') return verdict;
    }
    const out: ManifestFile[] = [];
    const tickets: { hash: string; fileIndex: number }[] = [];
    for (const f of found.files) {
      const entry = {
        contentType: f.content_type,
        lastUpdated: f.last_updated.toISOString(),
        status: 'finalized' as const,
        ...(f.content_type === 'application/fhir+json' ? { fhirVersion: FHIR_VERSION } : {}),
      };
      // The spec: never embed beyond the client's limit. Ours: without a limit, send a location.
      if (req.embeddedLengthMax !== undefined && f.jwe.length <= req.embeddedLengthMax) {
        out.push({ ...entry, embedded: f.jwe });
        continue;
      }
      const token = random43();
      tickets.push({ hash: sha256(token), fileIndex: f.file_index });
      out.push({ ...entry, location: `${this.manifestUrl(id)}/file/${f.file_index}?token=${token}` });
    }
    if (tickets.length) await this.issueTickets(id, req.recipient, tickets, now);
    return { kind: 'ok', link: refOf(row), files: out };
  }

  /** Stores the tickets and, in the same statement, drops every expired one (unused tickets pile up otherwise). */
  private async issueTickets(id: string, recipient: string, tickets: { hash: string; fileIndex: number }[], now: number): Promise<void> {
    const params: unknown[] = [new Date(now), new Date(now + this.locationTtlMs), id, recipient];
    const rows = tickets.map((t) => {
      params.push(t.hash, t.fileIndex);
      return `($${params.length - 1}, $3, $${params.length}, $4, $2)`;
    });
    await this.db.query(
      `WITH pruned AS (DELETE FROM shl_ticket WHERE expires_at <= $1)
       INSERT INTO shl_ticket (token_hash, link_id, file_index, recipient, expires_at) VALUES ${rows.join(', ')}`,
      params,
    );
  }

  /**
   * One passcode guess. The attempt is reserved first (a conditional increment, atomic in one
   * statement), then checked, then refunded if right: however many guesses run in parallel, no
   * more than max_attempts are ever evaluated over the link's life.
   */
  private async guess(row: LinkRow, passcode: string, now: number): Promise<'right' | ManifestResult> {
    const reserved = await this.db.query<{ remaining: number }>(
      `UPDATE shl_link SET failed_attempts = failed_attempts + 1
        WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 AND failed_attempts < max_attempts
        RETURNING max_attempts - failed_attempts AS remaining`,
      [row.id, new Date(now)],
    );
    const slot = reserved.rows[0];
    if (!slot) return inactive(row);
    if (!(await verifyPasscode(passcode, row.passcode_hash ?? ''))) {
      return { kind: 'passcode', link: refOf(row), remainingAttempts: slot.remaining };
    }
    await this.db.query('UPDATE shl_link SET failed_attempts = failed_attempts - 1 WHERE id = $1', [row.id]);
    return 'right';
  }

  /** The file behind a `location`: consumes the ticket (single use), then checks it and the link. */
  async file(id: string, fileIndex: number, token: string): Promise<FileResult> {
    const now = this.clock.now();
    const ticket = await this.db.query<{ recipient: string; expires_at: Date }>(
      'DELETE FROM shl_ticket WHERE token_hash = $1 AND link_id = $2 AND file_index = $3 RETURNING recipient, expires_at',
      [sha256(token), id, fileIndex],
    );
    const found = await this.load(id, fileIndex);
    const t = ticket.rows[0];
    const file = found?.files[0];
    if (!found || !file || !t || t.expires_at.getTime() <= now || !this.isActive(found.link, now)) return inactive(found?.link);
    return { kind: 'ok', link: refOf(found.link), jwe: file.jwe, recipient: t.recipient };
  }

  /** The single file of a U-flag link (GET on the link's URL). */
  async direct(id: string): Promise<FileResult> {
    const found = await this.load(id, 0);
    const file = found?.files[0];
    if (!found || !file || !found.link.flag.includes('U') || !this.isActive(found.link, this.clock.now())) return inactive(found?.link);
    return { kind: 'ok', link: refOf(found.link), jwe: file.jwe };
  }

  /**
   * Revokes the link if `who` owns it: the client that made it, or the patient it is about.
   * Idempotent for the owner; undefined for anyone else, as for an unknown id.
   */
  async revoke(id: string, who: Principal): Promise<LinkRef | undefined> {
    const [a, b] = who.kind === 'client' ? [who.client.organization, who.client.clientId] : [who.identity.issuer, who.identity.subject];
    const owner = who.kind === 'client' ? 'organization = $3 AND client_id = $4' : 'patient_issuer = $3 AND patient_subject = $4';
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<LinkRow>(`UPDATE shl_link SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 AND ${owner} RETURNING id, organization`, [
        id,
        new Date(this.clock.now()),
        a,
        b,
      ]);
      const row = rows[0];
      if (!row) return undefined;
      await tx.query('DELETE FROM shl_ticket WHERE link_id = $1', [id]);
      return refOf(row);
    });
  }

  /** The link with its files (or the one file asked for), in one query: every link has a file. */
  private async load(id: string, fileIndex?: number): Promise<{ link: LinkRow; files: FileRow[] } | undefined> {
    const { rows } = await this.db.query<LinkRow & FileRow>(
      `SELECT l.id, l.flag, l.passcode_hash, l.max_attempts, l.failed_attempts, l.organization, l.expires_at, l.revoked_at,
              f.file_index, f.content_type, f.jwe, f.last_updated
         FROM shl_link l JOIN shl_file f ON f.link_id = l.id
        WHERE l.id = $1${fileIndex === undefined ? '' : ' AND f.file_index = $2'}
        ORDER BY f.file_index`,
      fileIndex === undefined ? [id] : [id, fileIndex],
    );
    const [first] = rows;
    return first && { link: first, files: rows };
  }

  private isActive(row: LinkRow, now: number): boolean {
    return row.revoked_at === null && row.expires_at.getTime() > now && (row.passcode_hash === null || row.failed_attempts < row.max_attempts);
  }
}

/** Why a link's files could not be updated; the edge decides the status. */
export class ShlUpdateError extends Error {
  constructor(readonly reason: 'inactive' | 'single-file' | 'wrong-key' | 'full') {
    super(`SHL file update refused: ${reason}`);
  }
}

function inactive(row: LinkRow | undefined): Inactive {
  return row ? { kind: 'inactive', link: refOf(row) } : { kind: 'inactive' };
}
