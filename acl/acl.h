/*
 * acl/acl.h -- authentication (HTTP Basic against Argon2id hashes, with a
 * cache of verified credentials) and access decisions (space roles mapped
 * to RFC 3744 privileges).  acl/ plugs into the DAV core through the
 * authn/authz hooks of the registry.
 */
#ifndef PARVIS_ACL_H
#define PARVIS_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "dav/dav.h"

#define ACL_PRIV_READ DAV_PRIV_READ
#define ACL_PRIV_WRITE DAV_PRIV_WRITE
#define ACL_PRIV_WRITE_PROPS DAV_PRIV_WRITE_PROPS
#define ACL_PRIV_WRITE_CONTENT DAV_PRIV_WRITE_CONTENT
#define ACL_PRIV_BIND DAV_PRIV_BIND
#define ACL_PRIV_UNBIND DAV_PRIV_UNBIND

/* Install the hooks in the registry and initialise the credential cache
 * (process lifetime).  Call once at start-up. */
void acl_register(struct dav_registry *r);

/* Privileges granted by a space role ("manager", "validator", "editor",
 * "reader"); 0 for an unknown role. */
unsigned acl_role_privs(const char *role);
bool acl_role_valid(const char *role);

/*
 * Hash a password with Argon2id into an encoded string ($argon2id$...),
 * written to out (at most outlen bytes).  Returns false on failure.
 */
bool acl_password_hash(const char *password, char *out, size_t outlen);

/* Forget every cached credential (tests, password changes). */
void acl_cache_clear(void);

/* A new app password: a random secret written to 'secret' (at least 30
 * bytes) and its SHA-256, which is what is stored. */
bool acl_app_password_new(char *secret, size_t secretlen,
                          unsigned char sha[32]);

/* Parse a privilege name of RFC 3744 §3 ("read", "write", "all"...). */
bool acl_priv_parse(const char *name, unsigned *out);
/* Comma-separated names of the privileges in 'privs', in 'a'. */
const char *acl_priv_names(struct arena *a, unsigned privs);

#endif
