-- Client assertion ids already used at /auth/token (RFC 7523 / SMART replay protection). The
-- primary key makes "seen before" one atomic INSERT ... ON CONFLICT DO NOTHING across replicas;
-- rows are pruned once the assertion could no longer pass its exp check.
CREATE TABLE client_assertion_jti (
  client_id   text NOT NULL,
  jti         text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jti_expiry ON client_assertion_jti (expires_at);
