import type { Module } from '../module.js';
import type { CapabilityContribution } from '../fhir/capability.js';
import { createNotifier } from '../notifications/notifier.js';
import { createRetrieveGrants } from '../notifications/retrieve-grant.js';
import type { Services } from '../services.js';
import { ehrRoutes } from './routes.js';

const patientFilter = {
  name: 'patient.identifier',
  type: 'token' as const,
  documentation:
    'As a Subscription filter criterion (backport-filter-criteria), also written patient:identifier: system|value of any identifier of the stored Patient, or its verified identity (identity provider issuer|sub). Required for another organization',
};

const ehrResource = (type: 'Encounter' | 'Appointment', extra: string) => ({
  type,
  updateCreate: false,
  searchParam: [patientFilter],
  documentation: `${type}s from the EHR (system/${type}.write to write, system/${type}.read to read); each change that fires a topic becomes a notification. ${extra}`,
});

const RETRIEVE =
  'Another organization reads it (RetrieveResource) only while an active subscription of its own names the patient and a data-sharing agreement (purpose of use in its token) or the patient’s Consent grants it; otherwise 404.';

export const ehrCapability: CapabilityContribution = {
  resources: [
    ehrResource('Encounter', RETRIEVE),
    ehrResource('Appointment', RETRIEVE),
    {
      type: 'Patient',
      documentation: `Patients checked in (system/Patient.read). ${RETRIEVE} Another organization sees name, birth date and identifiers only.`,
    },
  ],
};

/** The EHR's Encounter/Appointment API; its changes reach the notifier through a hook, as check-in's do. */
export function ehrModule(s: Services): Module {
  return { router: ehrRoutes(s, { changes: createNotifier(s), retrieve: createRetrieveGrants(s) }), capability: ehrCapability };
}
