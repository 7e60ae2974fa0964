-- Where an unauthenticated (patient) identity request came from, so one address cannot spend the
-- shared budget of open patient requests alone. Pruned with the request, an hour after it expires.
ALTER TABLE identity_request ADD COLUMN address text;
