-- 0007_revision_refs: indexes on the two references from resources to
-- revisions.  Deleting a revision (a purge, or a subtree deleted for good,
-- whose revisions go with their resources) makes PostgreSQL check that no
-- resource still names it as current or approved; without these indexes
-- each check read every resource, so deleting a tree cost the square of its
-- size.

CREATE INDEX resources_current_rev ON resources (current_rev)
    WHERE current_rev IS NOT NULL;
CREATE INDEX resources_approved_rev ON resources (approved_rev)
    WHERE approved_rev IS NOT NULL;
