import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditService } from '../audit/audit.js';
import type { CheckinRecord } from '../checkin/checkin-store.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/db.js';
import type { CpuPool } from '../cpu/pool.js';
import type { FhirValidator } from '../fhir/validator.js';
import type { ClientPrincipal } from '../identity/types.js';
import { assertEntryCount, entryCount } from '../limits/bounds.js';
import type { KeyStore } from '../keys/keystore.js';
import { issueCard } from '../shc/issue.js';
import { renderCardQr } from '../shc/render-qr.js';
import { FHIR_TYPE, SHC_TYPE } from '../shl/constants.js';
import type { HostedFile, ShlHost } from '../shl/host.js';
import { checkedSummaryComposition } from '../summaries/fhir-form.js';
import { plainLanguageSummary, type SummaryDeps } from '../summaries/summary-service.js';
import { renderLinkQr } from '../qr.js';
import type { VisitRequest } from './visit-request.js';
import { insertVisit, type VisitRecord } from './visit-store.js';

export interface VisitDeps {
  db: Db;
  /** Validation runs there (src/cpu/tasks.ts 'visit.validate'), off the event loop. */
  cpu: CpuPool;
  /** Checks the summary's FHIR form (small, on the event loop). */
  fhir: FhirValidator;
  limits: { maxEntries: number; validationBudgetMs: number };
  audit: AuditService;
  clock: Clock;
  keys: KeyStore;
  shl: ShlHost;
  summaries: SummaryDeps;
  publicBaseUrl: string;
}

type RequestAudit = Pick<AuditEntry, 'actor' | 'sourceIp' | 'requestId'>;
type SummaryOptions = NonNullable<VisitRequest['plainLanguageSummary']>;

/** The role of the summary's file in the link: a later summary replaces it (a new version of the file). */
export const SUMMARY_FILE_ROLE = 'plain-language-summary';
const LINK_LABEL = 'Visit summary';

export interface LinkedSummary {
  language: string;
  readingLevel: string;
  aiGenerated: boolean;
  label: string;
  lastUpdated: string;
}

export interface VisitSummaryResult {
  visitId: string;
  shlink: string;
  viewerUrl: string;
  qr: { svg: string; png: string };
  expiresAt: string;
  healthCard: { inLink: true; fitsSingleQr: boolean; download: string; qrNumeric?: string; qr?: { svg: string; png: string } };
  plainLanguageSummary?: LinkedSummary;
}

/**
 * Stores the EHR's visit summary and hands it back to the patient the way they checked in: a
 * SMART Health Link hosted here holding the FHIR document and, always, the same document as a
 * SMART Health Card signed with the gateway key (inside a link no QR limit applies; the single-QR
 * form is returned too when it fits). A U-flag link holds one file only: the card, which carries
 * the whole document. When asked, the plain-language summary is written once the visit is stored
 * (the summary service keys its cache on the stored visit) and added to the link as a second FHIR
 * file. The service answers with its fallback when Claude fails, so what can still fail here is a
 * defect or the database: that is a 500, and the visit and its link, already stored, stay valid.
 */
export async function createVisitSummary(
  d: VisitDeps,
  req: { checkin: CheckinRecord; client: ClientPrincipal; request: VisitRequest; audit: RequestAudit },
): Promise<VisitSummaryResult> {
  const { checkin, client, request } = req;
  assertEntryCount(entryCount([request.bundle]), d.limits.maxEntries);
  await d.cpu.run('visit.validate', { bundle: request.bundle, patientId: checkin.patientId, budgetMs: d.limits.validationBudgetMs });
  const now = new Date(d.clock.now());
  const card = await issueCard(request.bundle, { key: d.keys.signingKey(), publicBaseUrl: d.publicBaseUrl, clock: d.clock });
  const cardFile: HostedFile = { contentType: SHC_TYPE, content: JSON.stringify(card.file) };
  const files = request.singleFile ? [cardFile] : [{ contentType: FHIR_TYPE, content: JSON.stringify(request.bundle) }, cardFile];
  const visit: VisitRecord = {
    id: randomUUID(),
    checkinId: checkin.id,
    organization: client.organization,
    clientId: client.clientId,
    patientIssuer: checkin.patientIssuer,
    patientSubject: checkin.patientSubject,
    bundle: request.bundle,
    version: 1,
    shlId: null,
    healthCard: card.jws,
    createdAt: now,
    updatedAt: now,
  };
  const link = await d.db.transaction(async (tx) => {
    const created = await d.shl.create(
      {
        files,
        ...(request.passcode ? { passcode: request.passcode } : {}),
        expiresAt: new Date(now.getTime() + request.expiresInSeconds * 1000),
        singleFile: request.singleFile,
        label: LINK_LABEL,
        owner: { organization: client.organization, clientId: client.clientId, patient: { issuer: checkin.patientIssuer, subject: checkin.patientSubject } },
      },
      tx,
    );
    visit.shlId = created.id;
    await insertVisit(tx, visit, now);
    await d.audit.record(
      {
        ...req.audit,
        action: 'C',
        subtype: 'visit.create',
        organization: client.organization,
        entity: { type: 'Bundle', id: visit.id },
        detail: {
          checkin: checkin.id,
          passcode: Boolean(request.passcode),
          singleFile: request.singleFile,
          healthCardInLink: true,
          plainLanguageSummary: Boolean(request.plainLanguageSummary),
        },
      },
      tx,
    );
    return created;
  });
  const summary = request.plainLanguageSummary
    ? await linkSummary(d, { visit, shlId: link.id, key: link.key, options: request.plainLanguageSummary, audit: req.audit })
    : undefined;
  return {
    visitId: visit.id,
    shlink: link.shlink,
    viewerUrl: `${d.publicBaseUrl}/view#${link.shlink}`,
    // SMART Health Links recommends error correction M for link QRs.
    qr: await renderLinkQr(link.shlink),
    expiresAt: link.expiresAt.toISOString(),
    healthCard: {
      inLink: true,
      fitsSingleQr: card.fitsSingleQr,
      download: `${d.publicBaseUrl}/visits/${visit.id}/health-card`,
      ...(card.qrNumeric ? { qrNumeric: card.qrNumeric, qr: await renderCardQr(card.qrNumeric) } : {}),
    },
    ...(summary ? { plainLanguageSummary: summary } : {}),
  };
}

/**
 * Writes the visit's plain-language summary with the summary service (Claude or the labelled
 * fallback, its rules, citations, red flags, cache and audit) and puts its FHIR form into the
 * visit's link, replacing an earlier one: a new version of that file in the same link.
 */
export async function linkSummary(
  d: Pick<VisitDeps, 'fhir' | 'shl' | 'audit' | 'summaries'>,
  req: { visit: VisitRecord; shlId: string; key: string; options: SummaryOptions; audit: RequestAudit },
): Promise<LinkedSummary> {
  const { visit, options } = req;
  const answer = await plainLanguageSummary(d.summaries, { visit, ...options, audit: req.audit });
  const composition = checkedSummaryComposition(answer, visit.bundle, d.fhir);
  const { lastUpdated } = await d.shl.putFile(req.shlId, req.key, { contentType: FHIR_TYPE, content: JSON.stringify(composition), role: SUMMARY_FILE_ROLE });
  await d.audit.record({
    ...req.audit,
    action: 'U',
    subtype: 'visit.link-update',
    organization: visit.organization,
    entity: { type: 'Bundle', id: visit.id },
    detail: { file: SUMMARY_FILE_ROLE, language: answer.language, readingLevel: answer.readingLevel, aiGenerated: answer.aiGenerated },
  });
  return { language: answer.language, readingLevel: answer.readingLevel, aiGenerated: answer.aiGenerated, label: answer.label, lastUpdated: lastUpdated.toISOString() };
}
