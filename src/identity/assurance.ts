import type { JWTPayload } from 'jose';
import type { AssuranceRule, IdentityProviderConfig } from '../config.js';
import type { VerifiedIdentity } from './types.js';

/** NIST SP 800-63B: AAL2 requires reauthentication at least every 12 hours. */
export const AAL2_REAUTH_SECONDS = 12 * 3600;

export interface Verification {
  trustFramework: string;
  assuranceLevel?: string;
  time?: string;
}

export interface Assurance {
  ial: number;
  aal: number;
  evidence: VerifiedIdentity['evidence'];
  /** The verified_claims entry whose verification proved IAL2 (its claims are the proofed ones). */
  proofed?: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `verified_claims` may be one object or an array of them (OpenID for Identity Assurance 1.0). */
export function verifiedClaimsOf(claims: JWTPayload): Record<string, unknown>[] {
  const vc = claims.verified_claims;
  return (Array.isArray(vc) ? vc : [vc]).filter(isRecord);
}

function verificationOf(vc: Record<string, unknown>): Verification | undefined {
  const v = vc.verification;
  if (!isRecord(v) || typeof v.trust_framework !== 'string') return undefined;
  return {
    trustFramework: v.trust_framework,
    ...(typeof v.assurance_level === 'string' ? { assuranceLevel: v.assurance_level } : {}),
    ...(typeof v.time === 'string' ? { time: v.time } : {}),
  };
}

/** Older drafts folded the level into the framework (`nist_800_63A_ial_2`); split it so both forms compare equal. */
function normalise(v: { trustFramework: string; assuranceLevel?: string | undefined }): { framework: string; level?: string } {
  const m = v.assuranceLevel === undefined ? /^(.+)_(ial|aal)_(\d+)$/i.exec(v.trustFramework) : null;
  if (m) return { framework: m[1]!.toLowerCase(), level: `${m[2]!.toLowerCase()}${m[3]}` };
  return { framework: v.trustFramework.toLowerCase(), ...(v.assuranceLevel ? { level: v.assuranceLevel.toLowerCase() } : {}) };
}

/** A numbered level (`ial3`) meets a lower one of the same family (`ial2`); other levels must be equal. */
function levelMeets(have: string | undefined, need: string | undefined): boolean {
  if (need === undefined) return true;
  if (have === undefined) return false;
  if (have === need) return true;
  const h = /^([a-z_]+)(\d+)$/.exec(have);
  const n = /^([a-z_]+)(\d+)$/.exec(need);
  return Boolean(h && n && h[1] === n[1] && Number(h[2]) >= Number(n[2]));
}

function verificationMeets(rule: AssuranceRule, v: Verification): boolean {
  const have = normalise(v);
  return (rule.verifiedClaims ?? []).some((r) => {
    const need = normalise(r);
    return need.framework === have.framework && levelMeets(have.level, need.level);
  });
}

function acrMeets(rule: AssuranceRule, acr: string | undefined): boolean {
  return acr !== undefined && (rule.acr ?? []).includes(acr);
}

function amrMeets(rule: AssuranceRule, amr: string[]): boolean {
  return (rule.amr ?? []).some((set) => set.every((m) => amr.includes(m)));
}

/**
 * The IAL and AAL a verified token proves under its issuer's configured policy: level 2 when a
 * rule of that level is met (acr value, complete amr set, or verified_claims verification), else 1.
 * An `auth_time` older than the AAL2 reauthentication window drops AAL to 1.
 */
export function assessAssurance(claims: JWTPayload, policy: IdentityProviderConfig['assurance'], nowSeconds: number): Assurance {
  const acr = typeof claims.acr === 'string' ? claims.acr : undefined;
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : [];
  const entries = verifiedClaimsOf(claims).flatMap((vc) => {
    const v = verificationOf(vc);
    return v ? [{ vc, v }] : [];
  });

  const meets = (rule: AssuranceRule) => {
    const byVerification = entries.find((e) => verificationMeets(rule, e.v));
    return { ok: acrMeets(rule, acr) || amrMeets(rule, amr) || Boolean(byVerification), byVerification };
  };
  const ial2 = meets(policy.ial2);
  const aal2 = meets(policy.aal2);
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  const fresh = authTime === undefined || nowSeconds - authTime <= AAL2_REAUTH_SECONDS;

  const shown = ial2.byVerification ?? aal2.byVerification ?? entries[0];
  return {
    ial: ial2.ok ? 2 : 1,
    aal: aal2.ok && fresh ? 2 : 1,
    evidence: {
      ...(acr !== undefined ? { acr } : {}),
      ...(amr.length ? { amr } : {}),
      ...(shown ? { trustFramework: shown.v.trustFramework } : {}),
      ...(shown?.v.assuranceLevel ? { assuranceLevel: shown.v.assuranceLevel } : {}),
      ...(shown?.v.time ? { verificationTime: shown.v.time } : {}),
    },
    ...(ial2.byVerification ? { proofed: ial2.byVerification.vc } : {}),
  };
}
