-- 0006_audit_append_only: besides the revoked privileges, a trigger
-- refuses any change to the audit trail by a non-superuser, so that
-- parvisd's role cannot grant itself UPDATE back and use it.  (A
-- superuser can still alter rows: parvisctl audit verify then names them.)

CREATE FUNCTION parvis_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only'
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION parvis_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION parvis_audit_append_only();
