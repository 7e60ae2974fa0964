import type { Basic, Extension } from '@medplum/fhirtypes';
import type { Topic } from './topics.js';

/**
 * The two published shapes of a topic definition, both made from one Topic:
 * - the R4B/R5 SubscriptionTopic resource (what Backport IG clients written against R4B read);
 * - the R4-valid Basic wrapper with cross-version extensions (Backport IG 1.2 ballot, "topics in R4").
 */

const XV = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic';

/** R4B SubscriptionTopic, which R4 type definitions lack; only served at /fhir/SubscriptionTopic. */
export interface SubscriptionTopicR4B {
  resourceType: 'SubscriptionTopic';
  id: string;
  url: string;
  title: string;
  status: 'active';
  description: string;
  resourceTrigger: { description: string; resource: string; supportedInteraction: string[]; fhirPathCriteria: string }[];
  canFilterBy: { description: string; resource: string; filterParameter: string }[];
  notificationShape: { resource: string }[];
}

export function subscriptionTopic(t: Topic): SubscriptionTopicR4B {
  return {
    resourceType: 'SubscriptionTopic',
    id: t.id,
    url: t.url,
    title: t.title,
    status: 'active',
    description: t.description,
    resourceTrigger: [
      {
        description: t.description,
        resource: `http://hl7.org/fhir/StructureDefinition/${t.resourceType}`,
        supportedInteraction: ['create', 'update'],
        fhirPathCriteria: t.fhirPathCriteria,
      },
    ],
    canFilterBy: t.canFilterBy.map((f) => ({ description: f.description, resource: t.resourceType, filterParameter: f.name })),
    notificationShape: [{ resource: t.resourceType }],
  };
}

export function basicTopic(t: Topic): Basic & { id: string } {
  const part = (url: string, value: Omit<Extension, 'url'>): Extension => ({ url, ...value });
  return {
    resourceType: 'Basic',
    id: t.id,
    code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
    extension: [
      part(`${XV}.url`, { valueUri: t.url }),
      part(`${XV}.title`, { valueString: t.title }),
      part(`${XV}.status`, { valueCode: 'active' }),
      part(`${XV}.description`, { valueMarkdown: t.description }),
      part(`${XV}.resourceTrigger`, {
        extension: [
          part('description', { valueMarkdown: t.description }),
          part('resource', { valueUri: `http://hl7.org/fhir/StructureDefinition/${t.resourceType}` }),
          part('supportedInteraction', { valueCode: 'create' }),
          part('supportedInteraction', { valueCode: 'update' }),
          part('fhirPathCriteria', { valueString: t.fhirPathCriteria }),
        ],
      }),
      ...t.canFilterBy.map((f) =>
        part(`${XV}.canFilterBy`, {
          extension: [part('description', { valueMarkdown: f.description }), part('resource', { valueUri: t.resourceType }), part('filterParameter', { valueString: f.name })],
        }),
      ),
      part(`${XV}.notificationShape`, { extension: [part('resource', { valueUri: t.resourceType })] }),
    ],
  };
}
