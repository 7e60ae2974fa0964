-- What a hosted SHL file is for (e.g. 'plain-language-summary'), so a later version of that file
-- replaces it instead of piling up; NULL for files that are never replaced.
ALTER TABLE shl_file ADD COLUMN role text;
CREATE UNIQUE INDEX shl_file_role ON shl_file (link_id, role) WHERE role IS NOT NULL;
