-- +goose Up
-- Every server instance answers a session lookup from a cache for at most a
-- few seconds; these triggers tell the instances at once (LISTEN
-- grantflow_sessions) when a cached answer may have gone stale, whichever
-- code path or person changed the rows: "s:<token_hash>" when a session is
-- revoked, its expiry moved or it is deleted; "u:<user_id>" when anything of
-- a user changes (password, disabled, roles, scope) or the user is deleted.
-- NOTIFY is delivered at commit, so a rolled-back change invalidates nothing.
-- +goose StatementBegin
CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'sessions' THEN
        PERFORM pg_notify('grantflow_sessions', 's:' || OLD.token_hash);
    ELSE
        PERFORM pg_notify('grantflow_sessions', 'u:' || OLD.id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_notify_change AFTER UPDATE ON sessions FOR EACH ROW
    WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.expires_at IS DISTINCT FROM OLD.expires_at
          OR NEW.user_id IS DISTINCT FROM OLD.user_id OR NEW.token_hash IS DISTINCT FROM OLD.token_hash)
    EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER sessions_notify_delete AFTER DELETE ON sessions FOR EACH ROW
    EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER users_notify_change AFTER UPDATE OR DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION notify_session_change();
