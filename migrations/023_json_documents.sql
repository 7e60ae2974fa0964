-- Documents the gateway stores and hands back whole and never searches inside: as json the text is
-- kept as sent, so storing is a syntax check instead of a conversion to jsonb's binary form, and
-- reading returns the text as it is. On PGlite that conversion ran in WebAssembly on the event loop,
-- about 0.06 ms per resource. A resource's version is still set with jsonb_set, through a cast.
ALTER TABLE fhir_resource ALTER COLUMN content TYPE json USING content::json;
ALTER TABLE checkin ALTER COLUMN bundle TYPE json USING bundle::json;
ALTER TABLE audit_event ALTER COLUMN detail DROP DEFAULT;
ALTER TABLE audit_event ALTER COLUMN detail TYPE json USING detail::json;
ALTER TABLE audit_event ALTER COLUMN detail SET DEFAULT '{}'::json;
