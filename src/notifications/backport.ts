/** Canonical URLs of the Subscriptions R5 Backport IG (hl7.fhir.uv.subscriptions-backport 1.1.0). */
export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport';

export const BP = {
  subscriptionProfile: `${BACKPORT}/StructureDefinition/backport-subscription`,
  notificationProfile: `${BACKPORT}/StructureDefinition/backport-subscription-notification-r4`,
  statusProfile: `${BACKPORT}/StructureDefinition/backport-subscription-status-r4`,
  filterCriteria: `${BACKPORT}/StructureDefinition/backport-filter-criteria`,
  payloadContent: `${BACKPORT}/StructureDefinition/backport-payload-content`,
  heartbeatPeriod: `${BACKPORT}/StructureDefinition/backport-heartbeat-period`,
  timeout: `${BACKPORT}/StructureDefinition/backport-timeout`,
  maxCount: `${BACKPORT}/StructureDefinition/backport-max-count`,
  channelType: `${BACKPORT}/StructureDefinition/backport-channel-type`,
  topicCanonical: `${BACKPORT}/StructureDefinition/capabilitystatement-subscriptiontopic-canonical`,
  statusOperation: `${BACKPORT}/OperationDefinition/backport-subscription-status`,
  eventsOperation: `${BACKPORT}/OperationDefinition/backport-subscription-events`,
  serverCapability: `${BACKPORT}/CapabilityStatement/backport-subscription-server-r4`,
} as const;

export const SUBSCRIPTION_ERROR_SYSTEM = 'http://terminology.hl7.org/CodeSystem/subscription-error';

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export const PAYLOAD_CONTENTS: readonly PayloadContent[] = ['empty', 'id-only', 'full-resource'];

/** Subscription error codes (terminology.hl7.org subscription-error). */
export type SubscriptionErrorCode = 'no-response' | 'error-response' | 'dns-resolution-error';
