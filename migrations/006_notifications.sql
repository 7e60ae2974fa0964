-- Topic-based subscriptions (FHIR Subscriptions R5 Backport on R4), each owned by one organization.
-- Every transaction that touches a subscription row and its outbox rows locks the subscription
-- row first, so event recording, delivery bookkeeping and unsubscribing never deadlock.
CREATE TABLE subscription (
  id                 text PRIMARY KEY,
  organization       text NOT NULL,
  client_id          text NOT NULL,
  topic              text NOT NULL,
  status             text NOT NULL CHECK (status IN ('requested', 'active', 'error', 'off')),
  -- Parsed backport-filter-criteria, all of which an event must match.
  filters            jsonb NOT NULL,
  endpoint           text NOT NULL,
  -- channel.header lines, sent verbatim; they often carry the subscriber's credentials, so they
  -- are never logged and are redacted when the Subscription is read back.
  headers            jsonb NOT NULL,
  content_type       text NOT NULL,
  payload            text NOT NULL CHECK (payload IN ('empty', 'id-only', 'full-resource')),
  heartbeat_seconds  integer,
  timeout_seconds    integer NOT NULL,
  max_count          integer,
  end_at             timestamptz,
  -- The Subscription as accepted (headers redacted); status and error are filled in on read.
  resource           jsonb NOT NULL,
  -- events-since-subscription-start: bumped under the row lock by the transaction that records
  -- each event, which is what makes event numbers gapless and unique.
  event_count        bigint NOT NULL DEFAULT 0,
  error_code         text,
  error              text,
  last_notified_at   timestamptz,
  -- Delivery lease: one replica at a time delivers a subscription's events. Database time, so
  -- replicas with skewed clocks agree on expiry.
  lease_owner        text,
  lease_until        timestamptz,
  created_at         timestamptz NOT NULL,
  deleted_at         timestamptz
);
CREATE INDEX subscription_match ON subscription (organization, topic) WHERE status <> 'off';

-- One resource change that fired a topic, with the resource as it was then (full-resource payloads).
CREATE TABLE notification_event (
  id            bigserial PRIMARY KEY,
  organization  text NOT NULL,
  topic         text NOT NULL,
  focus_type    text NOT NULL,
  focus_id      text NOT NULL,
  interaction   text NOT NULL CHECK (interaction IN ('create', 'update')),
  resource      jsonb NOT NULL,
  occurred_at   timestamptz NOT NULL
);

-- The transactional outbox: one row per (subscription, event), written in the transaction that
-- changed the resource, and the only record of what is still owed to a subscriber. Rows leave
-- 'pending' only by delivery, by failing past their deadline, or by the subscription's deletion.
CREATE TABLE outbox (
  subscription_id  text NOT NULL REFERENCES subscription (id),
  event_number     bigint NOT NULL,
  event_id         bigint NOT NULL REFERENCES notification_event (id),
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  deadline_at      timestamptz NOT NULL,
  delivered_at     timestamptz,
  last_error       text,
  PRIMARY KEY (subscription_id, event_number)
);
CREATE INDEX outbox_pending ON outbox (subscription_id, event_number) WHERE state = 'pending';
CREATE INDEX outbox_event ON outbox (event_id);
