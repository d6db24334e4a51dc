/*
 * tests/unit/conf/test_conf.c -- conf/: defaults, the "key = value" file
 * format and its errors, the PARVIS_DSN / PARVIS_LISTEN overrides and
 * conf_parse_listen.
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

#ifndef PARVIS_SRCDIR
#define PARVIS_SRCDIR "."
#endif

/* conf_load's strings are malloc'd for the process; tests free them. */
static void
conf_release(struct conf *c)
{
    free(c->listen_host);
    free(c->dsn);
    free(c->access_log);
    free(c->realm);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->anonymous_user);
    free(c->chunk_cache_dir);
    memset(c, 0, sizeof(*c));
}

static char conf_path[64];

/* Write 'text' to a fresh temporary file; its name is in conf_path. */
static const char *
write_conf(const char *text)
{
    snprintf(conf_path, sizeof(conf_path), "/tmp/parvis-test-conf-XXXXXX");
    int fd = mkstemp(conf_path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return conf_path;
}

static int
setup(void **state)
{
    unsetenv("PARVIS_DSN");
    unsetenv("PARVIS_LISTEN");
    unsetenv("PARVIS_CHUNK_CACHE_DIR");
    conf_path[0] = '\0';
    return unit_arena_setup(state);
}

static int
teardown(void **state)
{
    unsetenv("PARVIS_DSN");
    unsetenv("PARVIS_LISTEN");
    unsetenv("PARVIS_CHUNK_CACHE_DIR");
    if (conf_path[0] != '\0')
        unlink(conf_path);
    return unit_arena_teardown(state);
}

#define CONF_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static void
assert_defaults(const struct conf *c)
{
    assert_string_equal(c->listen_host, "127.0.0.1");
    assert_int_equal(c->listen_port, 8080);
    assert_string_equal(c->dsn, "dbname=parvis");
    assert_int_equal(c->db_pool_size, 8);
    assert_int_equal(c->max_connections, 1024);
    assert_int_equal(c->max_connections_per_client, 512);
    assert_int_equal(c->connection_timeout, 60);
    assert_int_equal(c->max_header_block, 32 * 1024);
    assert_int_equal(c->max_xml_body, 1024 * 1024);
    assert_string_equal(c->access_log, "-");
    assert_string_equal(c->realm, "Parvis");
    assert_int_equal(c->lock_timeout_max, 3600);
    assert_false(c->show_apple_files);
    assert_null(c->tls_cert);
    assert_null(c->tls_key);
    assert_false(c->trust_proxy_tls);
    assert_false(c->allow_unsafe_database);
    assert_null(c->anonymous_user);
    assert_int_equal(c->max_xml_depth, 256);
    assert_int_equal(c->max_xml_nodes, 100000);
    assert_int_equal(c->max_props_per_request, 1000);
    assert_int_equal(c->max_propfind_members, 100000);
    assert_int_equal(c->max_resource_size, 1024 * 1024);
    assert_int_equal(c->max_instances, 10000);
    assert_int_equal(c->max_attendees, 1000);
    assert_int_equal(c->audit_seal_interval, 200);
    assert_null(c->chunk_cache_dir);
    assert_int_equal(c->chunk_cache_size, 1024);
}

static void
test_defaults(void **state)
{
    (void)state;
    struct conf c;
    char err[256] = "";
    assert_true(conf_load(&c, NULL, err, sizeof(err)));
    assert_defaults(&c);
    conf_release(&c);
}

static void
test_sample_file_states_the_defaults(void **state)
{
    (void)state;
    struct conf c;
    char err[256] = "";
    const char *path = PARVIS_SRCDIR "/conf/parvis.conf.sample";
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_defaults(&c);
    conf_release(&c);
}

static void
test_file_comments_and_spaces(void **state)
{
    (void)state;
    const char *path = write_conf(
        "# a comment line\n"
        "\n"
        "   \t \n"
        "listen =  0.0.0.0:9090   # trailing comment\n"
        "\tdsn=host=/run/pg dbname=parvis user=p   \n"
        "db_pool_size   =   3\n"
        "max_connections = 100000\n"
        "connection_timeout = 0\n"
        "max_xml_body = 1024\n"
        "access_log = /var/log/parvis/access.log\n"
        "realm = Parvis at Example Corp\n"
        "# the last line has no newline\n"
        "realm = Final Realm");
    struct conf c;
    char err[256] = "";
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9090);
    /* only the first '=' separates key and value */
    assert_string_equal(c.dsn, "host=/run/pg dbname=parvis user=p");
    assert_int_equal(c.db_pool_size, 3);
    assert_int_equal(c.max_connections, 100000);
    assert_int_equal(c.connection_timeout, 0);
    assert_int_equal(c.max_xml_body, 1024);
    assert_string_equal(c.access_log, "/var/log/parvis/access.log");
    assert_string_equal(c.realm, "Final Realm"); /* later lines win */
    conf_release(&c);
}

static void
expect_error(const char *text, const char *want)
{
    const char *path = write_conf(text);
    struct conf c;
    char err[512] = "";
    bool ok = conf_load(&c, path, err, sizeof(err));
    conf_release(&c);
    unlink(path);
    if (ok)
        fail_msg("accepted: %s", text);
    char full[600];
    snprintf(full, sizeof(full), "%s:%s", path, want);
    if (strstr(err, full) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, full);
}

static void
test_unknown_key_has_line_number(void **state)
{
    (void)state;
    expect_error("# header\nrealm = x\n\nbogus = 1\nlisten = 1.2.3.4:5\n",
                 "4: unknown key \"bogus\"");
    /* keys are case-sensitive: a typo is never silently ignored */
    expect_error("Listen = 1.2.3.4:5\n", "1: unknown key \"Listen\"");
    expect_error("\n\nrealm\n", "3: expected key = value");
}

static void
test_bad_numbers(void **state)
{
    (void)state;
    static const char *bad[] = {
        "db_pool_size = abc",
        "db_pool_size = ",
        "db_pool_size = 0",
        "db_pool_size = 1025",
        "db_pool_size = -1",
        "db_pool_size = 12x",
        "db_pool_size = 0x10",
        "db_pool_size = 99999999999999999999999",
        "max_connections = 0",
        "max_connections = 100001",
        "connection_timeout = 86401",
        "connection_timeout = -5",
        "max_xml_body = 1023",
        "max_xml_body = 1073741825",
        "max_xml_body = 1 MB",
        "lock_timeout_max = 59",
        "lock_timeout_max = 604801",
        "max_header_block = 4095",
        "max_header_block = 1048577",
        "max_xml_depth = 15",
        "max_xml_depth = 257",
        "max_xml_nodes = 99",
        "max_xml_nodes = 10000001",
        "max_props_per_request = 15",
        "max_props_per_request = 100001",
        "max_propfind_members = 99",
        "max_propfind_members = 10000001",
        "max_resource_size = 1023",
        "max_resource_size = 67108865",
        "max_instances = 99",
        "max_instances = 1000001",
        "max_attendees = 0",
        "max_attendees = 100001",
        "audit_seal_interval = 9",
        "audit_seal_interval = 60001",
        "chunk_cache_size = 15",
        "chunk_cache_size = 1048577",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "realm = r\n%s\n", bad[i]);
        expect_error(text, "2: ");
        const char *path = write_conf(text);
        struct conf c;
        char err[512] = "";
        assert_false(conf_load(&c, path, err, sizeof(err)));
        conf_release(&c);
        unlink(path);
        if (strstr(err, "invalid or out-of-range number") == NULL)
            fail_msg("\"%s\": error \"%s\"", bad[i], err);
    }
    /* the bounds themselves are accepted */
    const char *path = write_conf("db_pool_size = 1024\n"
                                  "max_connections = 1\n"
                                  "connection_timeout = 86400\n"
                                  "max_xml_body = 1073741824\n"
                                  "lock_timeout_max = 604800\n"
                                  "max_header_block = 1048576\n"
                                  "max_xml_depth = 256\n"
                                  "max_xml_nodes = 10000000\n"
                                  "max_props_per_request = 100000\n"
                                  "max_propfind_members = 10000000\n"
                                  "max_resource_size = 67108864\n"
                                  "max_instances = 1000000\n"
                                  "max_attendees = 100000\n"
                                  "audit_seal_interval = 60000\n"
                                  "chunk_cache_size = 1048576\n");
    struct conf c;
    char err[256] = "";
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(c.db_pool_size, 1024);
    assert_int_equal(c.max_connections, 1);
    assert_int_equal(c.connection_timeout, 86400);
    assert_int_equal(c.max_xml_body, 1073741824);
    assert_int_equal(c.lock_timeout_max, 604800);
    assert_int_equal(c.max_header_block, 1048576);
    assert_int_equal(c.max_xml_depth, 256);
    assert_int_equal(c.max_xml_nodes, 10000000);
    assert_int_equal(c.max_props_per_request, 100000);
    assert_int_equal(c.max_propfind_members, 10000000);
    assert_int_equal(c.max_resource_size, 67108864);
    assert_int_equal(c.max_instances, 1000000);
    assert_int_equal(c.max_attendees, 100000);
    assert_int_equal(c.audit_seal_interval, 60000);
    assert_int_equal(c.chunk_cache_size, 1048576);
    conf_release(&c);
    unlink(path);
    /* and so are the lower ones */
    path = write_conf("max_header_block = 4096\n"
                      "max_xml_depth = 16\n"
                      "max_xml_nodes = 100\n"
                      "max_props_per_request = 16\n"
                      "max_propfind_members = 100\n"
                      "max_resource_size = 1024\n"
                      "max_instances = 100\n"
                      "max_attendees = 1\n"
                      "audit_seal_interval = 10\n"
                      "chunk_cache_size = 16\n");
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(c.max_header_block, 4096);
    assert_int_equal(c.max_xml_depth, 16);
    assert_int_equal(c.max_xml_nodes, 100);
    assert_int_equal(c.max_props_per_request, 16);
    assert_int_equal(c.max_propfind_members, 100);
    assert_int_equal(c.max_resource_size, 1024);
    assert_int_equal(c.max_instances, 100);
    assert_int_equal(c.max_attendees, 1);
    assert_int_equal(c.audit_seal_interval, 10);
    assert_int_equal(c.chunk_cache_size, 16);
    conf_release(&c);
}

static void
test_booleans(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        bool want;
    } cases[] = { { "true", true }, { "yes", true }, { "on", true },
                  { "false", false }, { "no", false }, { "off", false } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[160];
        /* start from the opposite value, so that each line must act */
        snprintf(text, sizeof(text),
                 "show_apple_files = %s\nshow_apple_files = %s\n"
                 "trust_proxy_tls = %s\n",
                 cases[i].want ? "false" : "true", cases[i].v, cases[i].v);
        const char *path = write_conf(text);
        struct conf c;
        char err[256] = "";
        if (!conf_load(&c, path, err, sizeof(err)))
            fail_msg("%s", err);
        unlink(path);
        if (c.show_apple_files != cases[i].want ||
            c.trust_proxy_tls != cases[i].want)
            fail_msg("show_apple_files = %s", cases[i].v);
        conf_release(&c);
    }
    expect_error("show_apple_files = maybe\n",
                 "1: show_apple_files: expected true or false");
    expect_error("show_apple_files = TRUE\n", "1: show_apple_files:");
    expect_error("\ntrust_proxy_tls = 1\n", "2: trust_proxy_tls:");
}

static void
test_tls_pair(void **state)
{
    (void)state;
    const char *path = write_conf("tls_cert = /etc/parvis/cert.pem\n"
                                  "tls_key = /etc/parvis/key.pem\n");
    struct conf c;
    char err[256] = "";
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(c.tls_cert, "/etc/parvis/cert.pem");
    assert_string_equal(c.tls_key, "/etc/parvis/key.pem");
    conf_release(&c);
    unlink(path);
    /* one without the other is an error */
    path = write_conf("tls_cert = /etc/parvis/cert.pem\n");
    assert_false(conf_load(&c, path, err, sizeof(err)));
    conf_release(&c);
    assert_non_null(strstr(err, "tls_cert and tls_key"));
    unlink(path);
    /* an empty value unsets */
    path = write_conf("tls_cert = /c.pem\ntls_key = /k.pem\n"
                      "tls_cert =\ntls_key =\n");
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_null(c.tls_cert);
    assert_null(c.tls_key);
    conf_release(&c);
}

static void
test_bad_listen_and_missing_file(void **state)
{
    (void)state;
    expect_error("listen = localhost\n", "1: listen: expected host:port");
    expect_error("listen = localhost:http\n", "1: listen:");
    struct conf c;
    char err[256] = "";
    assert_false(conf_load(&c, "/nonexistent/parvis.conf", err, sizeof(err)));
    conf_release(&c);
    assert_non_null(strstr(err, "cannot open /nonexistent/parvis.conf"));
}

static void
test_env_overrides(void **state)
{
    (void)state;
    const char *path = write_conf("dsn = dbname=fromfile\n"
                                  "listen = 10.0.0.1:1000\n"
                                  "chunk_cache_dir = /var/cache/a\n");
    struct conf c;
    char err[256] = "";

    /* the environment wins over the file */
    setenv("PARVIS_DSN", "host=/tmp dbname=fromenv", 1);
    setenv("PARVIS_LISTEN", "[::1]:8081", 1);
    setenv("PARVIS_CHUNK_CACHE_DIR", "/var/cache/b", 1);
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(c.dsn, "host=/tmp dbname=fromenv");
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 8081);
    assert_string_equal(c.chunk_cache_dir, "/var/cache/b");
    conf_release(&c);

    /* and over the defaults */
    if (!conf_load(&c, NULL, err, sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(c.dsn, "host=/tmp dbname=fromenv");
    assert_string_equal(c.listen_host, "::1");
    conf_release(&c);

    /* empty variables are ignored */
    setenv("PARVIS_DSN", "", 1);
    setenv("PARVIS_LISTEN", "", 1);
    setenv("PARVIS_CHUNK_CACHE_DIR", "", 1);
    if (!conf_load(&c, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(c.dsn, "dbname=fromfile");
    assert_string_equal(c.chunk_cache_dir, "/var/cache/a");
    assert_string_equal(c.listen_host, "10.0.0.1");
    assert_int_equal(c.listen_port, 1000);
    conf_release(&c);

    /* a malformed override is an error that names the variable */
    setenv("PARVIS_LISTEN", "nonsense", 1);
    assert_false(conf_load(&c, path, err, sizeof(err)));
    conf_release(&c);
    assert_non_null(strstr(err, "PARVIS_LISTEN"));
}

static void
test_parse_listen(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *host;
        unsigned port;
    } good[] = {
        { "127.0.0.1:8080", "127.0.0.1", 8080 },
        { "0.0.0.0:80", "0.0.0.0", 80 },
        { "localhost:65535", "localhost", 65535 },
        { "example.org:0", "example.org", 0 },
        { "[::1]:8080", "::1", 8080 },
        { "[::]:443", "::", 443 },
        { "[fe80::1%eth0]:8443", "fe80::1%eth0", 8443 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *host = NULL;
        unsigned port = 1;
        if (!conf_parse_listen(good[i].in, &host, &port))
            fail_msg("refused \"%s\"", good[i].in);
        assert_string_equal(host, good[i].host);
        assert_int_equal(port, good[i].port);
        free(host);
    }
    static const char *bad[] = { "", "localhost", ":8080", "host:",
                                 "host:65536", "host:80x", "host:-1",
                                 "host:99999999999999999999", "[::1]" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *host = NULL;
        unsigned port = 77;
        if (conf_parse_listen(bad[i], &host, &port)) {
            free(host);
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_null(host);
        assert_int_equal(port, 77);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        CONF_TEST(test_defaults),
        CONF_TEST(test_sample_file_states_the_defaults),
        CONF_TEST(test_file_comments_and_spaces),
        CONF_TEST(test_unknown_key_has_line_number),
        CONF_TEST(test_bad_numbers),
        CONF_TEST(test_booleans),
        CONF_TEST(test_tls_pair),
        CONF_TEST(test_bad_listen_and_missing_file),
        CONF_TEST(test_env_overrides),
        CONF_TEST(test_parse_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
