-- Plain-language summaries written by Claude, per visit version, language and reading level.
-- A visit change bumps visit.version, so older rows are never read again; the service deletes them
-- when it stores the new one, and they go with the visit.
CREATE TABLE visit_summary_cache (
  visit_id       text NOT NULL REFERENCES visit (id) ON DELETE CASCADE,
  visit_version  integer NOT NULL,
  language       text NOT NULL,
  reading_level  text NOT NULL CHECK (reading_level IN ('grade6', 'grade8', 'adult')),
  answer         jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (visit_id, visit_version, language, reading_level)
);
