import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Db } from '../db/db.js';
import { open, seal } from './envelope.js';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

// Serialises key creation across replicas starting together.
const KEY_LOCK_ID = 7_401_020_302;

/**
 * The gateway's ES256 keys: created on first start, persisted in the database (sealed when a
 * KEY_ENCRYPTION_KEY is configured). Rotation adds a new active key and keeps old public keys
 * published so cards signed earlier still verify.
 */
export class KeyStore {
  private active: SigningKey | undefined;
  private published: JWK[] = [];
  private publishedKeys: JWTVerifyGetKey | undefined;

  constructor(
    private readonly db: Db,
    private readonly encryptionKey: string | undefined,
  ) {}

  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK_ID]);
      const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM signing_key WHERE retired_at IS NULL');
      if ((rows[0]?.n ?? 0) === 0) await this.insertNewKey(tx);
    });
    await this.load();
  }

  /** Makes a new active key; the previous ones are retired but stay in the JWKS. */
  async rotate(): Promise<SigningKey> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK_ID]);
      await tx.query('UPDATE signing_key SET retired_at = now() WHERE retired_at IS NULL');
      await this.insertNewKey(tx);
    });
    await this.load();
    return this.signingKey();
  }

  signingKey(): SigningKey {
    if (!this.active) throw new Error('KeyStore.init() has not run');
    return this.active;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.published };
  }

  /**
   * The published keys as a jose key resolver, for the gateway's own tokens. One per key set: jose
   * imports a key once per resolver, and importing it for every request cost more than verifying.
   */
  verificationKeys(): JWTVerifyGetKey {
    if (!this.publishedKeys) throw new Error('KeyStore.init() has not run');
    return this.publishedKeys;
  }

  private async insertNewKey(tx: Pick<Db, 'query'>): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const pub = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(pub, 'sha256');
    const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y, kid, use: 'sig', alg: 'ES256' };
    const priv = JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' });
    const stored = this.encryptionKey ? seal(priv, this.encryptionKey) : priv;
    await tx.query('INSERT INTO signing_key (kid, public_jwk, private_jwk, encrypted) VALUES ($1, $2, $3, $4)', [
      kid,
      JSON.stringify(publicJwk),
      stored,
      Boolean(this.encryptionKey),
    ]);
  }

  private async load(): Promise<void> {
    const { rows } = await this.db.query<{ kid: string; public_jwk: JWK; private_jwk: string; encrypted: boolean; retired_at: Date | null }>(
      'SELECT kid, public_jwk, private_jwk, encrypted, retired_at FROM signing_key ORDER BY created_at DESC, kid',
    );
    this.published = rows.map((r) => r.public_jwk);
    this.publishedKeys = createLocalJWKSet(this.jwks());
    const current = rows.find((r) => r.retired_at === null);
    if (!current) throw new Error('no active signing key');
    if (current.encrypted && !this.encryptionKey) {
      throw new Error('the signing key is encrypted at rest; set KEY_ENCRYPTION_KEY');
    }
    const privText = current.encrypted ? open(current.private_jwk, this.encryptionKey as string) : current.private_jwk;
    const privateKey = (await importJWK(JSON.parse(privText) as JWK, 'ES256')) as CryptoKey;
    this.active = { kid: current.kid, privateKey, publicJwk: current.public_jwk };
  }
}
