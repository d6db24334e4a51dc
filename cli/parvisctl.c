/*
 * cli/parvisctl.c -- administration of a Parvis installation: schema
 * migrations, users, spaces and members.  Talks to PostgreSQL through
 * db/db.h and hashes passwords through acl/.
 *
 * Exit status: 0 success, 1 failure (message on stderr), 2 usage error.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl/acl.h"
#include "conf/conf.h"
#include "db/db.h"

static const char usage_text[] =
    "Usage: parvisctl [-c FILE] [--json] COMMAND ...\n"
    "\n"
    "  migrate                                 apply pending schema migrations\n"
    "  user add NAME --password-stdin [--email E] [--display-name N]\n"
    "  user passwd NAME --password-stdin        set a new password\n"
    "  user list                               list users\n"
    "  user disable|enable NAME                 forbid or allow logging in\n"
    "  user transfer FROM TO                   hand FROM's roles, locks and\n"
    "                                          authorship over to TO\n"
    "  guest add NAME --expires DATE --password-stdin [--email E]\n"
    "                                          an outside partner's account,\n"
    "                                          until DATE (YYYY-MM-DD)\n"
    "  apppassword add USER --label LABEL       print a new app password\n"
    "  apppassword list USER\n"
    "  apppassword revoke USER ID|LABEL\n"
    "  space create SLUG --title TITLE          create a space (and its root)\n"
    "  space list                              list spaces\n"
    "  space quota SLUG SIZE|none              set the space's quota (bytes, or\n"
    "                                          with a K, M, G or T suffix)\n"
    "  audit [--space S] [--user U] [--path SPACE/PATH] [--since DATE]\n"
    "        [--until DATE] [--format text|csv|json]\n"
    "                                          the audit trail\n"
    "  audit verify                            seal, then check the hash chain\n"
    "  submit|approve|reject SPACE/PATH [--comment C] [--as USER]\n"
    "                                          move a file through approval\n"
    "  space retention SLUG --keep-all | --keep-revisions N | --keep-days D\n"
    "                                          N revisions of each file, or\n"
    "                                          D days (1 to 36500) of history\n"
    "  maintenance purge                       apply retention, drop unused\n"
    "                                          content\n"
    "  handover USER                           what USER owns, locks, submitted\n"
    "  lock list [SPACE]                       list the active locks\n"
    "  lock break TOKEN                        remove a lock (urn:uuid:...)\n"
    "  member add SPACE USER --role ROLE        ROLE: manager, validator,\n"
    "                                          editor or reader\n"
    "  member remove SPACE USER\n"
    "  member list SPACE                       list the members of a space\n"
    "  space archive SLUG                      hide a space from everyone\n"
    "  acl show SPACE[/PATH]                   access entries there and above\n"
    "  acl grant|deny SPACE[/PATH] PRINCIPAL PRIV[,PRIV...]\n"
    "  acl revoke SPACE[/PATH] PRINCIPAL\n"
    "      PRINCIPAL: NAME, user:NAME or space:SLUG (its members);\n"
    "      PRIV: read, write, write-properties, write-content, bind,\n"
    "      unbind, unlock, read-acl, write-acl, approve, read-free-busy,\n"
    "      all (a calendar is SPACE/.calendars/NAME)\n"
    "\n"
    "The database is the dsn of the configuration file given with -c, else\n"
    "PARVIS_DSN, else \"dbname=parvis\".  --json prints lists as JSON.\n";

/* Days of history a retention rule may keep: a century (longer is
 * --keep-all). */
#define RETENTION_MAX_DAYS 36500

static const char retention_usage[] =
    "space retention SLUG --keep-all | --keep-revisions N | --keep-days D\n"
    "  N: revisions of each file, from 1 to 2147483647;\n"
    "  D: days of history, from 1 to 36500";

static const char guest_usage[] =
    "guest add NAME --expires DATE --password-stdin [--email E]\n"
    "  DATE: YYYY-MM-DD, the day access ends";

static bool json_out;

static int
usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

/* The usage of one command, exit status 2. */
static int
usage_of(const char *text)
{
    fprintf(stderr, "Usage: parvisctl %s\n", text);
    return 2;
}

static int
fail(const char *fmt, const char *a)
{
    fprintf(stderr, "parvisctl: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    return 1;
}

static const char *
opt_value(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc - 1; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static bool
opt_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* Read a password from standard input: the first line, without its end. */
static bool
read_password(char *out, size_t outlen)
{
    if (fgets(out, (int)outlen, stdin) == NULL)
        return false;
    size_t l = strlen(out);
    while (l > 0 && (out[l - 1] == '\n' || out[l - 1] == '\r'))
        out[--l] = '\0';
    return l > 0;
}

struct printer {
    const char *const *names;
    int n;
    bool first;
};

static void
json_string(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void
print_row(void *ctx, int ncols, const char *const *cols)
{
    struct printer *p = ctx;
    if (json_out) {
        printf("%s{", p->first ? "" : ",\n ");
        for (int i = 0; i < ncols && i < p->n; i++) {
            printf("%s\"%s\": ", i > 0 ? ", " : "", p->names[i]);
            json_string(cols[i]);
        }
        putchar('}');
    } else {
        for (int i = 0; i < ncols; i++)
            printf("%s%s", i > 0 ? "\t" : "", cols[i]);
        putchar('\n');
    }
    p->first = false;
}

/* A listing: list_open prints what comes before the rows and returns the
 * printer to hand to the query; list_close prints what follows them and
 * reports the query's failure. */
static struct printer
list_open(const char *const *names, int n)
{
    if (json_out)
        putchar('[');
    return (struct printer){ names, n, true };
}

static int
list_close(enum db_admin_rc rc, const char *err)
{
    if (json_out)
        puts("]");
    if (rc != DB_ADMIN_OK)
        return fail("%s", err);
    return 0;
}

static int
admin_result(enum db_admin_rc rc, const char *err, const char *what)
{
    switch (rc) {
    case DB_ADMIN_OK:
        return 0;
    case DB_ADMIN_EXISTS:
        return fail("%s already exists", what);
    case DB_ADMIN_INVALID:
        return fail("invalid value: %s", err);
    default:
        return fail("%s", err);
    }
}

static int
cmd_user(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        static const char *const names[] = { "name", "display_name", "email",
                                             "status" };
        struct printer p = list_open(names, 4);
        return list_close(db_user_list(c, print_row, &p, err, sizeof(err)),
                          err);
    }
    if (argc == 2 && (strcmp(argv[0], "disable") == 0 ||
                      strcmp(argv[0], "enable") == 0)) {
        bool off = strcmp(argv[0], "disable") == 0;
        enum db_admin_rc rc = db_user_disable(c, argv[1], off, err,
                                              sizeof(err));
        if (rc == DB_ADMIN_OK)
            printf("user %s %s\n", argv[1], off ? "disabled" : "enabled");
        return admin_result(rc, err, "user");
    }
    if (argc == 3 && strcmp(argv[0], "transfer") == 0) {
        enum db_admin_rc rc = db_user_transfer(c, argv[1], argv[2], err,
                                               sizeof(err));
        if (rc == DB_ADMIN_OK)
            printf("%s's roles, locks and resources now belong to %s\n",
                   argv[1], argv[2]);
        return admin_result(rc, err, "user");
    }
    if (argc < 2 || (strcmp(argv[0], "add") != 0 &&
                     strcmp(argv[0], "passwd") != 0))
        return usage();
    const char *name = argv[1];
    if (!opt_flag(argc, argv, "--password-stdin"))
        return fail("%s", "give the password on standard input with "
                          "--password-stdin");
    char pw[1024];
    if (!read_password(pw, sizeof(pw)))
        return fail("%s", "no password on standard input");
    char hash[256];
    if (!acl_password_hash(pw, hash, sizeof(hash)))
        return fail("%s", "cannot hash the password");
    memset(pw, 0, sizeof(pw));
    if (strcmp(argv[0], "passwd") == 0) {
        enum db_admin_rc rc = db_user_passwd(c, name, hash, err, sizeof(err));
        return admin_result(rc, err, "user");
    }
    if (name[0] == '\0' || strchr(name, ':') != NULL || strlen(name) > 63)
        return fail("invalid user name \"%s\"", name);
    const char *email = opt_value(argc, argv, "--email");
    const char *display = opt_value(argc, argv, "--display-name");
    enum db_admin_rc rc = db_user_add(c, name, hash, email, display, err,
                                      sizeof(err));
    if (rc == DB_ADMIN_EXISTS)
        return fail("user \"%s\" already exists", name);
    return admin_result(rc, err, "user");
}

/* "10G" -> bytes; "none" -> -1.  False if malformed. */
static bool
parse_size(const char *s, int64_t *out)
{
    if (strcmp(s, "none") == 0 || strcmp(s, "unlimited") == 0) {
        *out = -1;
        return true;
    }
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0)
        return false;
    int64_t mult = 1;
    switch (*end) {
    case '\0': break;
    case 'K': case 'k': mult = 1024; end++; break;
    case 'M': case 'm': mult = 1024 * 1024; end++; break;
    case 'G': case 'g': mult = 1024LL * 1024 * 1024; end++; break;
    case 'T': case 't': mult = 1024LL * 1024 * 1024 * 1024; end++; break;
    default: return false;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0' || v > INT64_MAX / mult)
        return false;
    *out = (int64_t)v * mult;
    return true;
}

/* A whole number from 1 to max, digits only.  False if malformed or out
 * of range. */
static bool
parse_count(const char *s, long max, int *out)
{
    uint64_t v;
    if (!str_to_u64(str_c(s), &v) || v < 1 || v > (uint64_t)max)
        return false;
    *out = (int)v;
    return true;
}

/* A real calendar date written YYYY-MM-DD (year 0001 to 9999). */
static bool
date_valid(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
            (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[12] = { 31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31 };
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m != 2 || d != 29 || leap;
}

static int
cmd_lock(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        static const char *const names[] = { "token", "space", "path",
                                             "depth", "scope", "owner",
                                             "expires" };
        struct printer p = list_open(names, 7);
        return list_close(db_lock_list(c, argc >= 2 ? argv[1] : NULL,
                                       print_row, &p, err, sizeof(err)),
                          err);
    }
    if (argc == 2 && strcmp(argv[0], "break") == 0) {
        enum db_admin_rc rc = db_lock_break(c, argv[1], err, sizeof(err));
        if (rc == DB_ADMIN_OK)
            printf("lock %s removed\n", argv[1]);
        return admin_result(rc, err, "lock");
    }
    return usage();
}

static int
cmd_space(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        static const char *const names[] = { "slug", "title", "members",
                                             "status" };
        struct printer p = list_open(names, 4);
        return list_close(db_space_list(c, print_row, &p, err, sizeof(err)),
                          err);
    }
    if (argc >= 2 && strcmp(argv[0], "retention") == 0) {
        const char *kr = opt_value(argc, argv, "--keep-revisions");
        const char *kd = opt_value(argc, argv, "--keep-days");
        int r = 0, d = 0;
        if ((kr != NULL && !parse_count(kr, INT_MAX, &r)) ||
            (kd != NULL && !parse_count(kd, RETENTION_MAX_DAYS, &d)) ||
            (kr == NULL && kd == NULL && !opt_flag(argc, argv, "--keep-all")))
            return usage_of(retention_usage);
        enum db_admin_rc rc = db_space_retention(c, argv[1], r, d, err,
                                                 sizeof(err));
        return admin_result(rc, err, "space");
    }
    if (argc == 2 && strcmp(argv[0], "archive") == 0) {
        enum db_admin_rc rc = db_space_archive(c, argv[1], err, sizeof(err));
        return admin_result(rc, err, "space");
    }
    if (argc == 3 && strcmp(argv[0], "quota") == 0) {
        int64_t size;
        if (!parse_size(argv[2], &size))
            return fail("invalid size \"%s\"", argv[2]);
        enum db_admin_rc rc = db_space_quota(c, argv[1], size, err,
                                             sizeof(err));
        return admin_result(rc, err, "space");
    }
    if (argc < 2 || strcmp(argv[0], "create") != 0)
        return usage();
    const char *title = opt_value(argc, argv, "--title");
    if (title == NULL)
        return fail("%s", "space create needs --title TITLE");
    enum db_admin_rc rc = db_space_create(c, argv[1], title, err,
                                          sizeof(err));
    if (rc == DB_ADMIN_EXISTS)
        return fail("space \"%s\" already exists", argv[1]);
    if (rc == DB_ADMIN_INVALID)
        return fail("invalid space name \"%s\": use a-z, 0-9, - and _",
                    argv[1]);
    return admin_result(rc, err, "space");
}

static int
cmd_guest(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc < 2 || strcmp(argv[0], "add") != 0)
        return usage();
    /* A date, not any timestamp PostgreSQL reads: 'infinity' would make a
     * guest that never expires, 'now' one expired at once. */
    const char *expires = opt_value(argc, argv, "--expires");
    if (expires == NULL || !date_valid(expires)) {
        if (expires != NULL)
            fprintf(stderr, "parvisctl: invalid date \"%s\"\n", expires);
        return usage_of(guest_usage);
    }
    if (!opt_flag(argc, argv, "--password-stdin"))
        return fail("%s", "give the password on standard input with "
                          "--password-stdin");
    char pw[1024];
    if (!read_password(pw, sizeof(pw)))
        return fail("%s", "no password on standard input");
    char hash[256];
    if (!acl_password_hash(pw, hash, sizeof(hash)))
        return fail("%s", "cannot hash the password");
    memset(pw, 0, sizeof(pw));
    enum db_admin_rc rc = db_guest_add(
        c, argv[1], hash, expires, opt_value(argc, argv, "--email"),
        opt_value(argc, argv, "--display-name"), err, sizeof(err));
    if (rc == DB_ADMIN_EXISTS)
        return fail("user \"%s\" already exists", argv[1]);
    if (rc == DB_ADMIN_INVALID || (rc == DB_ADMIN_FAIL &&
                                   strstr(err, "time") != NULL))
        return fail("invalid date \"%s\"", expires);
    return admin_result(rc, err, "guest");
}

static int
cmd_apppassword(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc == 2 && strcmp(argv[0], "list") == 0) {
        static const char *const names[] = { "id", "label", "created",
                                             "status" };
        struct printer p = list_open(names, 4);
        return list_close(db_apppassword_list(c, argv[1], print_row, &p, err,
                                              sizeof(err)),
                          err);
    }
    if (argc == 3 && strcmp(argv[0], "revoke") == 0) {
        enum db_admin_rc rc = db_apppassword_revoke(c, argv[1], argv[2], err,
                                                    sizeof(err));
        if (rc == DB_ADMIN_OK)
            printf("app password %s of %s revoked\n", argv[2], argv[1]);
        return admin_result(rc, err, "app password");
    }
    if (argc >= 2 && strcmp(argv[0], "add") == 0) {
        const char *label = opt_value(argc, argv, "--label");
        if (label == NULL)
            return fail("%s", "apppassword add needs --label LABEL");
        char secret[64];
        unsigned char sha[32];
        if (!acl_app_password_new(secret, sizeof(secret), sha))
            return fail("%s", "cannot make a password");
        enum db_admin_rc rc = db_apppassword_add(c, argv[1], label, sha, err,
                                                 sizeof(err));
        if (rc != DB_ADMIN_OK)
            return admin_result(rc, err, "app password");
        if (json_out) {
            printf("{\"user\": ");
            json_string(argv[1]);
            printf(", \"label\": ");
            json_string(label);
            printf(", \"password\": \"%s\"}\n", secret);
        } else {
            printf("%s\n", secret);
        }
        return 0;
    }
    return usage();
}

static void
print_acl_row(void *ctx, int ncols, const char *const *cols)
{
    /* Column 3 is the privilege bitmask: show names. */
    struct arena *a = arena_create();
    unsigned long privs = strtoul(cols[3], NULL, 10);
    const char *out[4] = { cols[0], cols[1], cols[2],
                           acl_priv_names(a, (unsigned)privs) };
    print_row(ctx, ncols < 4 ? ncols : 4, out);
    arena_destroy(a);
}

static bool
parse_privs(const char *list, unsigned *out)
{
    *out = 0;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        unsigned v;
        if (!acl_priv_parse(tok, &v))
            return false;
        *out |= v;
    }
    return *out != 0;
}

static int
cmd_acl(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        static const char *const names[] = { "path", "principal", "type",
                                             "privileges" };
        struct printer p = list_open(names, 4);
        return list_close(db_acl_list(c, argv[1], print_acl_row, &p, err,
                                      sizeof(err)),
                          err);
    }
    if (argc == 4 && (strcmp(argv[0], "grant") == 0 ||
                      strcmp(argv[0], "deny") == 0)) {
        unsigned privs;
        if (!parse_privs(argv[3], &privs))
            return fail("unknown privilege in \"%s\"", argv[3]);
        bool grant = strcmp(argv[0], "grant") == 0;
        enum db_admin_rc rc = db_acl_set(c, argv[1], argv[2], grant, privs,
                                         err, sizeof(err));
        if (rc == DB_ADMIN_OK)
            printf("%s %s to %s on %s\n", grant ? "granted" : "denied",
                   argv[3], argv[2], argv[1]);
        return admin_result(rc, err, "entry");
    }
    if (argc == 3 && strcmp(argv[0], "revoke") == 0) {
        enum db_admin_rc rc = db_acl_revoke(c, argv[1], argv[2], err,
                                            sizeof(err));
        if (rc == DB_ADMIN_OK)
            printf("entries of %s on %s removed\n", argv[2], argv[1]);
        return admin_result(rc, err, "entry");
    }
    return usage();
}


static void
print_csv_row(void *ctx, int ncols, const char *const *cols)
{
    (void)ctx;
    for (int i = 0; i < ncols; i++) {
        if (i > 0)
            putchar(',');
        /* RFC 4180 §2: a field holding a separator, a quote or a line
         * break (CR too) is quoted. */
        bool quote = strpbrk(cols[i], ",\"\r\n") != NULL;
        if (quote)
            putchar('"');
        for (const char *p = cols[i]; *p != '\0'; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        if (quote)
            putchar('"');
    }
    putchar('\n');
}

/* A row of text whose values hold what clients sent (paths, user
 * agents): written as log lines are (str_log_safe), so that a line break
 * (U+2028, U+0085 and the like) or a tab in a value can neither split
 * the row nor shift its columns. */
static void
print_text_row(void *ctx, int ncols, const char *const *cols)
{
    struct arena *a = arena_create();
    const char **safe = arena_alloc(a, (size_t)ncols * sizeof(*safe));
    for (int i = 0; i < ncols; i++)
        safe[i] = str_log_safe(a, cols[i], true);
    print_row(ctx, ncols, safe);
    arena_destroy(a);
}

static int
cmd_audit(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
        int64_t rows = 0, bad = 0;
        enum db_admin_rc rc = db_audit_verify(c, &rows, &bad, err,
                                              sizeof(err));
        if (rc != DB_ADMIN_OK)
            return fail("%s", err);
        if (bad != 0) {
            fprintf(stderr, "parvisctl: audit chain broken at row %lld "
                            "(%lld rows checked)\n",
                    (long long)bad, (long long)rows);
            return 1;
        }
        printf("audit chain intact: %lld rows\n", (long long)rows);
        return 0;
    }
    struct db_audit_filter filter = {
        .space = opt_value(argc, argv, "--space"),
        .user = opt_value(argc, argv, "--user"),
        .path = opt_value(argc, argv, "--path"),
        .since = opt_value(argc, argv, "--since"),
        .until = opt_value(argc, argv, "--until"),
    };
    const char *audit_format = opt_value(argc, argv, "--format");
    if (audit_format == NULL)
        audit_format = "text";
    if (strcmp(audit_format, "json") == 0)
        json_out = true;
    else if (strcmp(audit_format, "text") != 0 &&
             strcmp(audit_format, "csv") != 0)
        return fail("unknown format \"%s\"", audit_format);
    static const char *const names[] = { "id", "time", "principal", "client",
                                         "action", "path", "status",
                                         "resource", "revision", "detail" };
    if (strcmp(audit_format, "csv") == 0)
        puts("id,time,principal,client,action,path,status,resource,"
             "revision,detail");
    struct printer p = list_open(names, 10);
    bool csv = strcmp(audit_format, "csv") == 0;
    db_row_fn print = csv        ? print_csv_row
                      : json_out ? print_row
                                 : print_text_row;
    return list_close(db_audit_list(c, &filter, print, &p, err, sizeof(err)),
                      err);
}

static int
cmd_approval(struct db_conn *c, const char *cmd, int argc, char **argv)
{
    char err[512];
    if (argc < 1)
        return usage();
    const char *state = strcmp(cmd, "approve") == 0  ? "approved"
                        : strcmp(cmd, "reject") == 0 ? "rejected"
                                                     : "submitted";
    enum db_admin_rc rc = db_approval_set(
        c, argv[0], state, opt_value(argc, argv, "--comment"),
        opt_value(argc, argv, "--as"), err, sizeof(err));
    if (rc == DB_ADMIN_OK)
        printf("%s is %s\n", argv[0], state);
    return admin_result(rc, err, "file");
}

static int
cmd_member(struct db_conn *c, int argc, char **argv)
{
    char err[512];
    if (argc >= 2 && strcmp(argv[0], "list") == 0) {
        static const char *const names[] = { "user", "role" };
        struct printer p = list_open(names, 2);
        return list_close(db_member_list(c, argv[1], print_row, &p, err,
                                         sizeof(err)),
                          err);
    }
    if (argc == 3 && strcmp(argv[0], "remove") == 0) {
        enum db_admin_rc rc = db_member_remove(c, argv[1], argv[2], err,
                                               sizeof(err));
        return admin_result(rc, err, "member");
    }
    if (argc < 3 || strcmp(argv[0], "add") != 0)
        return usage();
    const char *role = opt_value(argc, argv, "--role");
    if (role == NULL || !acl_role_valid(role))
        return fail("%s", "member add needs --role manager|validator|editor|"
                          "reader");
    enum db_admin_rc rc = db_member_add(c, argv[1], argv[2], role, err,
                                        sizeof(err));
    return admin_result(rc, err, "member");
}

int
main(int argc, char **argv)
{
    const char *conf_path = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            conf_path = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json_out = true;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else {
            break;
        }
    }
    if (i >= argc)
        return usage();
    /* --json may also follow the command: take it out of the arguments. */
    int kept = i;
    for (int k = i; k < argc; k++) {
        if (strcmp(argv[k], "--json") == 0)
            json_out = true;
        else
            argv[kept++] = argv[k];
    }
    argc = kept;

    struct conf conf;
    char err[512];
    if (!conf_load(&conf, conf_path, err, sizeof(err)))
        return fail("%s", err);
    const char *cmd = argv[i];
    if (strcmp(cmd, "migrate") != 0 && strcmp(cmd, "user") != 0 &&
        strcmp(cmd, "space") != 0 && strcmp(cmd, "member") != 0 &&
        strcmp(cmd, "lock") != 0 && strcmp(cmd, "guest") != 0 &&
        strcmp(cmd, "apppassword") != 0 && strcmp(cmd, "acl") != 0 &&
        strcmp(cmd, "audit") != 0 && strcmp(cmd, "submit") != 0 &&
        strcmp(cmd, "approve") != 0 && strcmp(cmd, "reject") != 0 &&
        strcmp(cmd, "maintenance") != 0 && strcmp(cmd, "handover") != 0)
        return usage();

    struct db_conn *c = db_conn_open(conf.dsn, err, sizeof(err));
    if (c == NULL)
        return fail("%s", err);
    int rc;
    char outcome[128] = ""; /* what the command did, for its audit row */
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    if (strcmp(cmd, "migrate") == 0) {
        int applied = 0;
        if (db_migrate(c, &applied, err, sizeof(err))) {
            printf("%d migration(s) applied\n", applied);
            rc = 0;
        } else {
            rc = fail("%s", err);
        }
    } else if (strcmp(cmd, "user") == 0) {
        rc = cmd_user(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "space") == 0) {
        rc = cmd_space(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "lock") == 0) {
        rc = cmd_lock(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "guest") == 0) {
        rc = cmd_guest(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "apppassword") == 0) {
        rc = cmd_apppassword(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "acl") == 0) {
        rc = cmd_acl(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "audit") == 0) {
        rc = cmd_audit(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "submit") == 0 || strcmp(cmd, "approve") == 0 ||
               strcmp(cmd, "reject") == 0) {
        rc = cmd_approval(c, cmd, sub_argc, sub_argv);
    } else if (strcmp(cmd, "handover") == 0 && sub_argc == 1) {
        static const char *const names[] = { "kind", "path", "detail" };
        struct printer p = list_open(names, 3);
        rc = list_close(db_handover_list(c, sub_argv[0], print_row, &p, err,
                                         sizeof(err)),
                        err);
    } else if (strcmp(cmd, "maintenance") == 0 && sub_argc == 1 &&
               strcmp(sub_argv[0], "purge") == 0) {
        int64_t revs = 0, chunks = 0;
        if (db_purge(c, &revs, &chunks, err, sizeof(err)) == DB_ADMIN_OK) {
            snprintf(outcome, sizeof(outcome),
                     "%lld revision(s) and %lld chunk(s) removed",
                     (long long)revs, (long long)chunks);
            printf("%s\n", outcome);
            rc = 0;
        } else {
            rc = fail("%s", err);
        }
    } else if (strcmp(cmd, "member") == 0) {
        rc = cmd_member(c, sub_argc, sub_argv);
    } else {
        rc = usage();
    }
    /* Administrative changes go to the audit trail too. */
    if (rc == 0 && sub_argc >= 1 && strcmp(cmd, "migrate") != 0 &&
        strcmp(cmd, "handover") != 0 &&
        strcmp(cmd, "audit") != 0 && strcmp(sub_argv[0], "list") != 0 &&
        strcmp(sub_argv[0], "show") != 0) {
        /* "member add SPACE ..." has a subcommand; "approve PATH ..."
         * does not. */
        bool sub = strcmp(cmd, "approve") != 0 && strcmp(cmd, "reject") != 0 &&
                   strcmp(cmd, "submit") != 0;
        char action[64], detail[512];
        snprintf(action, sizeof(action), "%s%s%s", cmd, sub ? " " : "",
                 sub ? sub_argv[0] : "");
        int first = sub ? 1 : 0;
        detail[0] = '\0';
        for (int k = first + 1; k < sub_argc; k++) {
            size_t l = strlen(detail);
            snprintf(detail + l, sizeof(detail) - l, "%s%s", l ? " " : "",
                     sub_argv[k]);
        }
        /* A command's outcome, when it has one, says what it did. */
        if (detail[0] == '\0')
            snprintf(detail, sizeof(detail), "%s", outcome);
        if (db_audit_admin(c, action,
                           sub_argc > first ? sub_argv[first] : NULL, detail,
                           err, sizeof(err)) != DB_ADMIN_OK)
            fprintf(stderr, "parvisctl: warning: not audited: %s\n", err);
    }
    db_conn_close(c);
    return rc;
}
