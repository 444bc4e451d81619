-- One counter that every change to what nodes cache moves, in the same transaction as the change:
-- tags, manifests (not their pull times), repositories and their resource tags, and every policy.
-- A node compares it with the value its caches were filled at before it trusts them, so what one
-- node commits, every node serves at once (MetaStore::cache_epoch, wharf-core's cache sync).
-- Statement-level triggers: one bump per statement, whatever the number of rows.
CREATE TABLE cache_epoch (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO cache_epoch (id, epoch) VALUES (1, 0);

CREATE FUNCTION cache_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_epoch SET epoch = epoch + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tags_cache_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tags
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER manifests_cache_epoch AFTER INSERT OR DELETE OR TRUNCATE ON manifests
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
-- Recording a pull (last_pulled_at) changes nothing a cache holds.
CREATE TRIGGER manifests_update_cache_epoch
    AFTER UPDATE OF repository_id, digest, media_type, body, image_status, archived_at, activated_at
    ON manifests FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER repositories_cache_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON repositories
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER repository_tags_cache_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON repository_tags
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER registry_policies_cache_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON registry_policies
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER user_policies_cache_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_policies
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER users_cache_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER accounts_cache_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_bump();
