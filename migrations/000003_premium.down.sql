DROP TABLE IF EXISTS premium_grants;
DROP FUNCTION IF EXISTS premium_grant_matches_entry();
DROP TABLE IF EXISTS memberships;
