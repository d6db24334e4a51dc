-- 0001_initial: users, spaces, members, the resource tree, revisions,
-- content-addressed content and dead properties.
-- Every table holding a space's data carries space_id (the distribution key).

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    display_name  text,
    email         text,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE spaces (
    id         bigserial PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    title      text NOT NULL,
    archived   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE members (
    space_id bigint NOT NULL REFERENCES spaces(id),
    user_id  bigint NOT NULL REFERENCES users(id),
    role     text NOT NULL CHECK (role IN ('manager', 'validator', 'editor', 'reader')),
    PRIMARY KEY (space_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

-- The tree of a space.  path is '' for the space root and '/a/b' below it;
-- parent_path is the path of the parent ('' for members of the root, NULL
-- for the root).  The "C" collation makes a subtree one index range:
-- path >= p || '/' AND path < p || '0'.
CREATE TABLE resources (
    id          bigserial PRIMARY KEY,
    space_id    bigint NOT NULL REFERENCES spaces(id),
    path        text COLLATE "C" NOT NULL,
    parent_path text COLLATE "C",
    name        text NOT NULL,
    kind        smallint NOT NULL CHECK (kind IN (0, 1)),
    current_rev bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (space_id, path)
);
CREATE INDEX resources_children ON resources (space_id, parent_path, name);

-- One row per distinct content of a space, and its ordered chunks.
CREATE TABLE blobs (
    space_id bigint NOT NULL,
    sha256   bytea NOT NULL,
    size     bigint NOT NULL,
    PRIMARY KEY (space_id, sha256)
);

CREATE TABLE blob_chunks (
    space_id     bigint NOT NULL,
    blob_sha256  bytea NOT NULL,
    seq          integer NOT NULL,
    chunk_sha256 bytea NOT NULL,
    size         integer NOT NULL,
    PRIMARY KEY (space_id, blob_sha256, seq)
);

CREATE TABLE chunks (
    space_id bigint NOT NULL,
    sha256   bytea NOT NULL,
    size     integer NOT NULL,
    data     bytea NOT NULL,
    PRIMARY KEY (space_id, sha256)
);
-- Most uploaded documents are already compressed: do not try again.
ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE revisions (
    id           bigserial PRIMARY KEY,
    space_id     bigint NOT NULL,
    resource_id  bigint NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    num          integer NOT NULL,
    author_id    bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    size         bigint NOT NULL,
    content_type text NOT NULL,
    sha256       bytea NOT NULL,
    comment      text,
    UNIQUE (resource_id, num)
);

ALTER TABLE resources ADD CONSTRAINT resources_current_rev
    FOREIGN KEY (current_rev) REFERENCES revisions(id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE props (
    space_id    bigint NOT NULL,
    resource_id bigint NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    ns          text NOT NULL,
    name        text NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (resource_id, ns, name)
);
