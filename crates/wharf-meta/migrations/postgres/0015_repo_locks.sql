-- Per-repository write locking (wharf-meta locks.rs). Until now every write transaction took one
-- advisory lock (512852324966, dialect.rs WRITE_LOCK) exclusively, and the cache-epoch triggers of
-- 0002 took it too; so every metadata write of the cluster ran one at a time. Now a write to one
-- repository takes that lock SHARED plus the repository's own key, and only global writes
-- (collection, encryption keys, data migration) take it exclusively.

-- The keyed lock, in one round trip: the shared write lock first, then the keys in ascending
-- order (so two transactions needing several keys never wait for each other in a cycle, and none
-- holds a key while it waits behind a global writer). `keys` is a comma-separated list of bigints.
CREATE FUNCTION wharf_lock_keys(keys TEXT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(512852324966);
    FOR k IN SELECT DISTINCT CAST(x AS BIGINT) FROM unnest(string_to_array(keys, ',')) AS x ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
END;
$$;

-- The cache epoch, reworked so that it no longer serializes writers.
--
-- 0002's statement triggers took the write lock exclusively before any change to cached data, so
-- that the one epoch row was only ever updated by the lock's holder: a statement could not hold a
-- row another writer waited for while it waited for the epoch row (which deadlocked). With
-- repository writers running concurrently that lock would serialize them again (and a writer
-- holding it shared could not take it exclusively beside another), so:
--
-- 1. The bump runs at commit: the row triggers become deferred constraint triggers. A transaction
--    then locks an epoch row only as the very last thing it does, after every other row it
--    touches; a transaction holding an epoch row waits for nothing else, so no cycle can go
--    through it, and the statement-level lock triggers go.
-- 2. The epoch is spread over 32 rows, each transaction bumping the one its transaction id picks;
--    the epoch is their sum (MetaStore::cache_epoch). Every commit that changes cached data still
--    makes the sum grow, and the sum a snapshot sees never shrinks, which is all a node relies on
--    (wharf-core epoch.rs); two concurrent commits now mostly bump different rows instead of
--    queuing on one.
-- Still true: the bump commits with the change, so a node reading the new sum reads the change.
DROP TRIGGER tags_lock ON tags;
DROP TRIGGER manifests_lock ON manifests;
DROP TRIGGER manifests_update_lock ON manifests;
DROP TRIGGER repositories_lock ON repositories;
DROP TRIGGER repositories_update_lock ON repositories;
DROP TRIGGER repository_tags_lock ON repository_tags;
DROP TRIGGER registry_policies_lock ON registry_policies;
DROP TRIGGER user_policies_lock ON user_policies;
DROP TRIGGER users_lock ON users;
DROP TRIGGER accounts_lock ON accounts;
DROP TRIGGER access_keys_lock ON access_keys;
DROP FUNCTION cache_epoch_lock();

ALTER TABLE cache_epoch DROP CONSTRAINT cache_epoch_id_check;
ALTER TABLE cache_epoch ADD CONSTRAINT cache_epoch_shard CHECK (id BETWEEN 1 AND 32);
INSERT INTO cache_epoch (id, epoch) SELECT g, 0 FROM generate_series(2, 32) AS g;

CREATE OR REPLACE FUNCTION cache_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('wharf.cache_epoch_bumped', true) IS DISTINCT FROM 'on' THEN
        UPDATE cache_epoch SET epoch = epoch + 1 WHERE id = 1 + txid_current() % 32;
        PERFORM set_config('wharf.cache_epoch_bumped', 'on', true);
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER tags_insert_delete ON tags;
DROP TRIGGER tags_update ON tags;
CREATE CONSTRAINT TRIGGER tags_insert_delete AFTER INSERT OR DELETE ON tags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE CONSTRAINT TRIGGER tags_update AFTER UPDATE ON tags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.digest IS DISTINCT FROM NEW.digest OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION cache_epoch_bump();

DROP TRIGGER manifests_insert_delete ON manifests;
DROP TRIGGER manifests_update ON manifests;
CREATE CONSTRAINT TRIGGER manifests_insert_delete AFTER INSERT OR DELETE ON manifests
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE CONSTRAINT TRIGGER manifests_update
    AFTER UPDATE OF repository_id, digest, media_type, body, image_status, archived_at, activated_at
    ON manifests DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.repository_id IS DISTINCT FROM NEW.repository_id OR OLD.digest IS DISTINCT FROM NEW.digest
          OR OLD.media_type IS DISTINCT FROM NEW.media_type OR OLD.body IS DISTINCT FROM NEW.body
          OR OLD.image_status IS DISTINCT FROM NEW.image_status)
    EXECUTE FUNCTION cache_epoch_bump();

DROP TRIGGER repositories_insert_delete ON repositories;
DROP TRIGGER repositories_update ON repositories;
CREATE CONSTRAINT TRIGGER repositories_insert_delete AFTER INSERT OR DELETE ON repositories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
CREATE CONSTRAINT TRIGGER repositories_update
    AFTER UPDATE OF id, account_id, name, image_tag_mutability, mutability_exclusions, scan_on_push,
        encryption_type, kms_key, policy, lifecycle_policy
    ON repositories DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.account_id IS DISTINCT FROM NEW.account_id
          OR OLD.name IS DISTINCT FROM NEW.name OR OLD.policy IS DISTINCT FROM NEW.policy)
    EXECUTE FUNCTION cache_epoch_bump();

DROP TRIGGER repository_tags_change ON repository_tags;
CREATE CONSTRAINT TRIGGER repository_tags_change AFTER INSERT OR UPDATE OR DELETE ON repository_tags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
DROP TRIGGER registry_policies_change ON registry_policies;
CREATE CONSTRAINT TRIGGER registry_policies_change AFTER INSERT OR UPDATE OR DELETE ON registry_policies
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
DROP TRIGGER user_policies_change ON user_policies;
CREATE CONSTRAINT TRIGGER user_policies_change AFTER INSERT OR UPDATE OR DELETE ON user_policies
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
DROP TRIGGER users_change ON users;
CREATE CONSTRAINT TRIGGER users_change AFTER INSERT OR UPDATE OR DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
DROP TRIGGER accounts_change ON accounts;
CREATE CONSTRAINT TRIGGER accounts_change AFTER INSERT OR UPDATE OR DELETE ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
DROP TRIGGER access_keys_change ON access_keys;
CREATE CONSTRAINT TRIGGER access_keys_change AFTER INSERT OR UPDATE OR DELETE ON access_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_epoch_bump();
