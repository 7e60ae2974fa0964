import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditService } from '../audit/audit.js';
import type { CheckinRecord } from '../checkin/checkin-store.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/db.js';
import type { CpuPool } from '../cpu/pool.js';
import type { ClientPrincipal } from '../identity/types.js';
import { assertEntryCount, entryCount } from '../limits/bounds.js';
import type { KeyStore } from '../keys/keystore.js';
import { issueCard } from '../shc/issue.js';
import { renderQr as renderCardQr } from '../shc/render-qr.js';
import type { ShlHost } from '../shl/host.js';
import { FHIR_TYPE, SHC_TYPE } from '../shl/receiver.js';
import { renderQr } from '../qr.js';
import type { VisitRequest } from './visit-request.js';
import { insertVisit } from './visit-store.js';

export interface VisitDeps {
  db: Db;
  /** Validation runs there (src/cpu/tasks.ts 'visit.validate'), off the event loop. */
  cpu: CpuPool;
  limits: { maxEntries: number; validationBudgetMs: number };
  audit: AuditService;
  clock: Clock;
  keys: KeyStore;
  shl: ShlHost;
  publicBaseUrl: string;
}

export interface VisitSummaryResult {
  visitId: string;
  shlink: string;
  viewerUrl: string;
  qr: { svg: string; png: string };
  expiresAt: string;
  healthCard: { fitsSingleQr: boolean; download: string; qrNumeric?: string; qr?: { svg: string; png: string } };
}

/**
 * Stores the EHR's visit summary and hands it back to the patient the way they checked in: a
 * SMART Health Link hosted here (the FHIR document, plus the same document as a SMART Health Card
 * signed with the gateway key when it fits one QR), its QR, and a viewer URL.
 */
export async function createVisitSummary(
  d: VisitDeps,
  req: { checkin: CheckinRecord; client: ClientPrincipal; request: VisitRequest; audit: Pick<AuditEntry, 'actor' | 'sourceIp' | 'requestId'> },
): Promise<VisitSummaryResult> {
  const { checkin, client, request } = req;
  assertEntryCount(entryCount([request.bundle]), d.limits.maxEntries);
  await d.cpu.run('visit.validate', { bundle: request.bundle, patientId: checkin.patientId, budgetMs: d.limits.validationBudgetMs });
  const now = new Date(d.clock.now());
  const card = await issueCard(request.bundle, { key: d.keys.signingKey(), publicBaseUrl: d.publicBaseUrl, clock: d.clock });
  const visitId = randomUUID();
  const cardFile = { contentType: SHC_TYPE, content: JSON.stringify(card.file) };
  const files = [{ contentType: FHIR_TYPE, content: JSON.stringify(request.bundle) }, ...(card.fitsSingleQr && !request.singleFile ? [cardFile] : [])];
  const link = await d.db.transaction(async (tx) => {
    const created = await d.shl.create(
      {
        files,
        ...(request.passcode ? { passcode: request.passcode } : {}),
        expiresAt: new Date(now.getTime() + request.expiresInSeconds * 1000),
        singleFile: request.singleFile,
        label: 'Visit summary',
        owner: { organization: client.organization, clientId: client.clientId, patient: { issuer: checkin.patientIssuer, subject: checkin.patientSubject } },
      },
      tx,
    );
    await insertVisit(
      tx,
      {
        id: visitId,
        checkinId: checkin.id,
        organization: client.organization,
        clientId: client.clientId,
        patientIssuer: checkin.patientIssuer,
        patientSubject: checkin.patientSubject,
        bundle: request.bundle,
        shlId: created.id,
        healthCard: card.jws,
      },
      now,
    );
    await d.audit.record(
      {
        ...req.audit,
        action: 'C',
        subtype: 'visit.create',
        organization: client.organization,
        entity: { type: 'Bundle', id: visitId },
        detail: { checkin: checkin.id, passcode: Boolean(request.passcode), singleFile: request.singleFile, healthCardInLink: files.length > 1 },
      },
      tx,
    );
    return created;
  });
  return {
    visitId,
    shlink: link.shlink,
    viewerUrl: `${d.publicBaseUrl}/view#${link.shlink}`,
    // SMART Health Links recommends error correction M for link QRs.
    qr: await renderQr(link.shlink, 'M'),
    expiresAt: link.expiresAt.toISOString(),
    healthCard: {
      fitsSingleQr: card.fitsSingleQr,
      download: `${d.publicBaseUrl}/visits/${visitId}/health-card`,
      ...(card.qrNumeric ? { qrNumeric: card.qrNumeric, qr: await renderCardQr(card.qrNumeric) } : {}),
    },
  };
}
