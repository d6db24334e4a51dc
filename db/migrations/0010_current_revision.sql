-- 0010_current_revision: a resource keeps its current revision's number,
-- size, content type and hash beside the revision's id.
--
-- Every read of a resource joined it to its current revision for these
-- four values: in a Depth 1 listing of 1,000 files that probe of
-- revisions' primary key was some 40 % of PostgreSQL's time.  Revisions
-- never change once written, so the copy cannot go stale; the statements
-- that set current_rev (a new revision, a restored one, a copy) set the
-- copy in the same UPDATE.  A collection, or a file created but not yet
-- written, has NULL in all four, as the join gave.

ALTER TABLE resources
    ADD COLUMN cur_num integer,
    ADD COLUMN cur_size bigint,
    ADD COLUMN cur_type text,
    ADD COLUMN cur_sha256 bytea;

-- Filling them in changes no resource as clients see it: the change log's
-- trigger (which would hold every row twice to find that out) is off for
-- it.
ALTER TABLE resources DISABLE TRIGGER resources_log_update;
UPDATE resources r
   SET cur_num = v.num, cur_size = v.size, cur_type = v.content_type,
       cur_sha256 = v.sha256
  FROM revisions v
 WHERE v.id = r.current_rev;
ALTER TABLE resources ENABLE TRIGGER resources_log_update;
