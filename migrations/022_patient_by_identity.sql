-- A check-in finds the organization's Patient for the verified identity; without this index the lookup
-- reads every resource of that patient (fhir_resource_patient), so it slowed with each visit.
CREATE INDEX fhir_resource_patient_record ON fhir_resource (organization, patient_issuer, patient_subject, last_updated DESC) WHERE resource_type = 'Patient';
