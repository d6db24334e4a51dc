-- 0009_acl_reach: whether a principal reaches a space through an access
-- control entry, as a function.
--
-- Every request looks up its space for its user in one statement: a member
-- reaches it by membership, anyone else only by an entry granting them (or
-- a space they belong to) something inside it.  Written inline, that
-- second test added half a dozen nodes to the statement's plan, which
-- PostgreSQL sets up on each execution although members (nearly every
-- request) never run it.  A PL/pgSQL function is one call in the plan,
-- made only when the membership test fails; its own statement is planned
-- once per session.

CREATE FUNCTION parvis_acl_reaches(space bigint, principal bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        SELECT 1 FROM aces a
         WHERE a.space_id = space AND a.is_grant
           AND ((a.principal_kind = 'user' AND a.principal_id = principal)
                OR (a.principal_kind = 'space' AND a.principal_id IN
                    (SELECT m.space_id FROM members m
                      WHERE m.user_id = principal))));
END
$$;
