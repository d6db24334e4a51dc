-- 0015_trash_aces: access control entries a trash entry took from the
-- folders it was deleted from (trash_mark, decision 0021), marked so
-- that they are dropped when it leaves the trash: restored elsewhere, it
-- answers to its new place's entries, not to copies of its old one's.

ALTER TABLE aces ADD COLUMN from_trash boolean NOT NULL DEFAULT false;
