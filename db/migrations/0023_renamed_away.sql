-- 0023_renamed_away: a document renamed to a temporary name, for the save
-- that puts a new file in its place (decision 0033).
--
-- Word, Excel and PowerPoint save a document on a network drive by
-- writing the new content to a temporary file, renaming the document to
-- another temporary name (~WRL0001.tmp), renaming the new file to the
-- document's name, and deleting the renamed document.  Over WebDAV each
-- rename is a MOVE, and the document with its history, approval and
-- access control entries would end in the trash under its temporary
-- name.  A MOVE of a file to a temporary name in its own folder is
-- noted here for a short while; a MOVE by the same user of another file
-- of that folder to the document's old name then makes the new content
-- the document's next revision, at its name.  The temporary name then
-- holds a copy of the document as it was, for the program to delete: a
-- 'kept' row names it (doc_id: the document; props_md5: its dead
-- properties when made), and its DELETE removes it for good instead of
-- filling the trash, while it is still there, unchanged, never
-- submitted, and its content still one of the document's revisions.

CREATE TABLE renamed_away (
    space_id    bigint NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    from_path   text COLLATE "C" NOT NULL,
    to_path     text COLLATE "C" NOT NULL,
    resource_id bigint NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    rev_id      bigint NOT NULL,
    user_id     bigint NOT NULL,
    kept        boolean NOT NULL DEFAULT false,
    doc_id      bigint REFERENCES resources(id) ON DELETE CASCADE,
    props_md5   text,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space_id, from_path)
);
CREATE INDEX renamed_away_at ON renamed_away (at);
CREATE INDEX renamed_away_resource ON renamed_away (resource_id);
CREATE INDEX renamed_away_doc ON renamed_away (doc_id);
