-- 0014_sync_marks: sync tokens that stand for every change before them.
--
-- A token was the highest change sequence of the collection.  Sequences
-- are drawn when a writer logs its change, not when it commits: a writer
-- that logged first and committed after another was below a token a
-- client already held, so that client never heard of its change
-- (RFC 6578 asks for every change since the token), and the CTag did not
-- move either.  Each change now records its transaction; a token is the
-- oldest transaction that may still add a change the client has not seen
-- (decision 0018), and a synchronisation reports the changes of that
-- transaction and every later one.  Rows logged before this migration
-- belong to transaction 0: older than any token issued from now on.

ALTER TABLE changes ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE changes ALTER COLUMN xid SET DEFAULT pg_current_xact_id();

DROP INDEX changes_collection;
CREATE INDEX changes_collection ON changes (collection_id, xid);
