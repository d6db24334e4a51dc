/*
 * http/http.h -- the libmicrohttpd adapter of parvisd.
 *
 * Threading model: libmicrohttpd runs one thread per connection
 * (MHD_USE_THREAD_PER_CONNECTION), bounded by max_connections.  Handlers
 * may block on PostgreSQL: only their own connection waits.  Database
 * connections come from the bounded pool of db/ (db_pool_size), leased
 * per transaction, so many idle or slow HTTP connections hold no database
 * connection.
 */
#ifndef PARVIS_HTTP_H
#define PARVIS_HTTP_H

#include <stdbool.h>

#include "dav/dav.h"

struct http_server;

/* Start serving on conf's listen address; NULL with a message logged on
 * failure.  The dav_server must outlive the http_server. */
struct http_server *http_server_start(const struct dav_server *dav);
/* Stop accepting, finish with the open connections, free everything. */
void http_server_stop(struct http_server *s);

#endif
