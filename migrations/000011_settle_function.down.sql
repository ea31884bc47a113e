DROP FUNCTION creditkit_settle;
