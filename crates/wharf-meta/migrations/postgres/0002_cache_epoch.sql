-- One counter that every change to what nodes cache moves, in the same transaction as the change:
-- tags, manifests (not their pull times), repositories and their resource tags, every policy,
-- users and access keys.
-- A node compares it with the value its caches were filled at before it trusts them, so what one
-- node commits, every node serves at once (MetaStore::cache_epoch, wharf-core's epoch.rs).
CREATE TABLE cache_epoch (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO cache_epoch (id, epoch) VALUES (1, 0);

-- Lock order. Every statement that may change cached data first takes the write lock that write
-- transactions take in MetaStore::begin_write (the key is dialect.rs WRITE_LOCK, 512852324966),
-- before it locks any row. The epoch row is then only ever updated by the one transaction holding
-- that lock, and a single statement cannot hold a row another writer waits for while it waits for
-- the epoch row (which deadlocked). Taking the lock again inside begin_write costs nothing.
CREATE FUNCTION cache_epoch_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(512852324966);
    RETURN NULL;
END;
$$;

-- One bump per transaction, and only for rows that really changed (row triggers: an upsert that
-- changes nothing, or a delete that matches nothing, does not flush every node's caches).
CREATE FUNCTION cache_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('wharf.cache_epoch_bumped', true) IS DISTINCT FROM 'on' THEN
        UPDATE cache_epoch SET epoch = epoch + 1 WHERE id = 1;
        PERFORM set_config('wharf.cache_epoch_bumped', 'on', true);
    END IF;
    RETURN NULL;
END;
$$;

-- tags: a tag written again at the same digest (a re-push) changes nothing cached.
CREATE TRIGGER tags_lock BEFORE INSERT OR UPDATE OR DELETE ON tags
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER tags_insert_delete AFTER INSERT OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER tags_update AFTER UPDATE ON tags
    FOR EACH ROW WHEN (OLD.digest IS DISTINCT FROM NEW.digest OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION cache_epoch_bump();

-- manifests: recording a pull (last_pulled_at) changes nothing cached and takes no lock.
CREATE TRIGGER manifests_lock BEFORE INSERT OR DELETE ON manifests
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER manifests_update_lock
    BEFORE UPDATE OF repository_id, digest, media_type, body, image_status, archived_at, activated_at
    ON manifests FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER manifests_insert_delete AFTER INSERT OR DELETE ON manifests
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER manifests_update
    AFTER UPDATE OF repository_id, digest, media_type, body, image_status, archived_at, activated_at
    ON manifests FOR EACH ROW
    WHEN (OLD.repository_id IS DISTINCT FROM NEW.repository_id OR OLD.digest IS DISTINCT FROM NEW.digest
          OR OLD.media_type IS DISTINCT FROM NEW.media_type OR OLD.body IS DISTINCT FROM NEW.body
          OR OLD.image_status IS DISTINCT FROM NEW.image_status)
    EXECUTE FUNCTION cache_epoch_bump();

-- repositories: every recorded blob runs INSERT … ON CONFLICT DO NOTHING on its repository (row
-- triggers fire only when one is created); the lifecycle job's bookkeeping (lifecycle_evaluated_at)
-- changes nothing cached.
CREATE TRIGGER repositories_lock BEFORE INSERT OR DELETE ON repositories
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER repositories_update_lock
    BEFORE UPDATE OF id, account_id, name, image_tag_mutability, mutability_exclusions, scan_on_push,
        encryption_type, kms_key, policy, lifecycle_policy
    ON repositories FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER repositories_insert_delete AFTER INSERT OR DELETE ON repositories
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER repositories_update
    AFTER UPDATE OF id, account_id, name, image_tag_mutability, mutability_exclusions, scan_on_push,
        encryption_type, kms_key, policy, lifecycle_policy
    ON repositories FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.account_id IS DISTINCT FROM NEW.account_id
          OR OLD.name IS DISTINCT FROM NEW.name OR OLD.policy IS DISTINCT FROM NEW.policy)
    EXECUTE FUNCTION cache_epoch_bump();

-- Authorization inputs: resource tags, registry and identity policies, users, accounts, and the
-- access keys login tokens are checked against.
CREATE TRIGGER repository_tags_lock BEFORE INSERT OR UPDATE OR DELETE ON repository_tags
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER repository_tags_change AFTER INSERT OR UPDATE OR DELETE ON repository_tags
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER registry_policies_lock BEFORE INSERT OR UPDATE OR DELETE ON registry_policies
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER registry_policies_change AFTER INSERT OR UPDATE OR DELETE ON registry_policies
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER user_policies_lock BEFORE INSERT OR UPDATE OR DELETE ON user_policies
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER user_policies_change AFTER INSERT OR UPDATE OR DELETE ON user_policies
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER users_lock BEFORE INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER users_change AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER accounts_lock BEFORE INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER accounts_change AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE TRIGGER access_keys_lock BEFORE INSERT OR UPDATE OR DELETE ON access_keys
    FOR EACH STATEMENT EXECUTE FUNCTION cache_epoch_lock();
CREATE TRIGGER access_keys_change AFTER INSERT OR UPDATE OR DELETE ON access_keys
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
