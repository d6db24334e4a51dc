/*
 * acl/acl_int.h -- declarations private to acl/.
 */
#ifndef PARVIS_ACL_INT_H
#define PARVIS_ACL_INT_H

#include "acl/acl.h"

/* The authorization hook (acl/access.c). */
struct dav_err *acl_authz(struct dav_req *req, const struct dav_target *t,
                          unsigned priv);
/* Properties, the ACL method and the principal reports (acl/access.c). */
void acl_access_register(struct dav_registry *r);

#endif
