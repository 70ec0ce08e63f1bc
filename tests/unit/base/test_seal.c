/* base/seal: the sso keyring (issue 17): sealed-text parsing, which key seals and which
 * opens, the key file and its permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/seal.h"

#define HEX_A "0101010101010101010101010101010101010101010101010101010101010101"
#define HEX_B "02020202020202020202020202020202020202020202020202020202020202bB"
#define HEX_C "0303030303030303030303030303030303030303030303030303030303030303"

static void
ring_of(struct seal_keyring *r, const char *spec)
{
    /* "name=HEX,name=HEX": oldest first */
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", spec);
    memset(r, 0, sizeof(*r));
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(p, '=');
        struct err e = { 0 };
        assert_non_null(eq);
        assert_int_equal(seal_keyring_add(r, p, (size_t)(eq - p), eq + 1, strlen(eq + 1), "t", &e),
                         0);
    }
}

static void
parse_names_the_key(void **state)
{
    (void)state;
    char name[SEAL_KEY_NAME_MAX + 1];
    const char *payload = NULL;
    assert_int_equal(seal_parse("v1.QUJD", name, &payload), 0);
    assert_string_equal(name, "default");
    assert_string_equal(payload, "QUJD");
    assert_int_equal(seal_parse("v2.k2-2025_a.QUJD", name, &payload), 0);
    assert_string_equal(name, "k2-2025_a");
    assert_string_equal(payload, "QUJD");
    char longest[80];
    snprintf(longest, sizeof(longest), "v2.%s.x", "abcdefghijabcdefghijabcdefghij12");
    assert_int_equal(seal_parse(longest, name, &payload), 0);
    assert_string_equal(name, "abcdefghijabcdefghijabcdefghij12");

    /* Malformed: -1, never a crash. */
    const char *bad[] = { NULL,
                          "",
                          "whsec_abc",
                          "v1.",
                          "v2.",
                          "v2.k2",
                          "v2.k2.",
                          "v2..QUJD",
                          "v2.k$.QUJD",
                          "v3.k.QUJD",
                          "V1.QUJD",
                          "v2.k 2.x",
                          "v2.abcdefghijabcdefghijabcdefghij123.x" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(seal_parse(bad[i], name, &payload), -1);
    assert_true(seal_is_sealed("v1.x"));
    assert_true(seal_is_sealed("v2.k.x"));
    assert_false(seal_is_sealed("whsec_x"));
    assert_false(seal_is_sealed(NULL));
}

static void
newest_seals_every_key_opens_its_own(void **state)
{
    (void)state;
    struct seal_keyring old, both, b_only, c_as_b;
    ring_of(&old, "default=" HEX_A);
    ring_of(&both, "default=" HEX_A ",k2=" HEX_B);
    ring_of(&b_only, "k2=" HEX_B);
    ring_of(&c_as_b, "k2=" HEX_C);
    struct err e = { 0 };
    char out[SEAL_PLAIN_MAX + 1];

    /* The key from sso_key ("default") writes what scimd wrote before keyrings. */
    char *v1 = seal_text(&old, "aad", "s3cret", &e);
    assert_non_null(v1);
    assert_memory_equal(v1, "v1.", 3);
    assert_null(strstr(v1, "s3cret"));
    assert_true(seal_is_current(&old, v1));
    assert_false(seal_is_current(&both, v1));

    /* The newest key seals and names itself; both texts open with the ring. */
    char *v2 = seal_text(&both, "aad", "s3cret", &e);
    assert_non_null(v2);
    assert_memory_equal(v2, "v2.k2.", 6);
    assert_true(seal_is_current(&both, v2));
    assert_true(seal_is_current(&b_only, v2));
    assert_int_equal(seal_open(&both, "aad", v1, out, sizeof(out), &e), 0);
    assert_string_equal(out, "s3cret");
    assert_int_equal(seal_open(&both, "aad", v2, out, sizeof(out), &e), 0);
    assert_string_equal(out, "s3cret");
    assert_int_equal(seal_open(&b_only, "aad", v2, out, sizeof(out), &e), 0);
    assert_string_equal(out, "s3cret");

    /* A key not in the ring: said so, by name. */
    assert_int_equal(seal_open(&b_only, "aad", v1, out, sizeof(out), &e), -1);
    assert_int_equal(e.code, ERR_INTERNAL);
    assert_non_null(strstr(e.detail, "\"default\""));
    assert_non_null(strstr(e.detail, "not configured"));
    assert_int_equal(seal_open(&old, "aad", v2, out, sizeof(out), &e), -1);
    assert_non_null(strstr(e.detail, "\"k2\""));
    /* Another key under the same name, another owner, an altered text: does not open. */
    assert_int_equal(seal_open(&c_as_b, "aad", v2, out, sizeof(out), &e), -1);
    assert_non_null(strstr(e.detail, "does not open"));
    assert_int_equal(seal_open(&both, "other", v2, out, sizeof(out), &e), -1);
    assert_non_null(strstr(e.detail, "does not open"));
    char *tampered = strdup(v2);
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    assert_int_equal(seal_open(&both, "aad", tampered, out, sizeof(out), &e), -1);
    /* Renaming the key in the text picks another key, which does not open it. */
    char renamed[256];
    snprintf(renamed, sizeof(renamed), "v1.%s", v2 + 6);
    assert_int_equal(seal_open(&both, "aad", renamed, out, sizeof(out), &e), -1);
    /* Malformed and corrupt texts fail cleanly. */
    const char *bad[] = { "v2.k2.", "v2.k2.!!!!", "v2.k2.QUJD", "v2..x", "whsec_abc", "v1.A" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e = (struct err){ 0 };
        assert_int_equal(seal_open(&both, "aad", bad[i], out, sizeof(out), &e), -1);
        assert_int_equal(e.code, ERR_INTERNAL);
    }
    /* No key: nothing seals, nothing opens. */
    struct seal_keyring none = { 0 };
    assert_null(seal_text(&none, "aad", "s3cret", &e));
    assert_int_equal(e.code, ERR_INVALID_VALUE);
    assert_null(seal_text(NULL, "aad", "s3cret", &e));
    assert_false(seal_is_current(&none, v2));
    assert_int_equal(seal_open(NULL, "aad", v2, out, sizeof(out), &e), -1);
    free(tampered);
    free(v1);
    free(v2);
}

static void
add_checks_names_and_hex(void **state)
{
    (void)state;
    struct seal_keyring r = { 0 };
    struct err e = { 0 };
    assert_int_equal(seal_keyring_add(&r, "a", 1, HEX_A, 64, "t", &e), 0);
    assert_int_equal(seal_keyring_add(&r, "a", 1, HEX_B, 64, "t", &e), -1);
    assert_non_null(strstr(e.detail, "used twice"));
    assert_int_equal(seal_keyring_add(&r, "a.b", 3, HEX_B, 64, "t", &e), -1);
    assert_int_equal(seal_keyring_add(&r, "", 0, HEX_B, 64, "t", &e), -1);
    assert_int_equal(seal_keyring_add(&r, "b", 1, HEX_B, 63, "t", &e), -1);
    assert_int_equal(seal_keyring_add(&r, "b", 1, "zz" HEX_A, 64, "t", &e), -1);
    assert_null(strstr(e.detail, "zz")); /* never echoes key material */
    assert_int_equal(r.n, 1);
    for (int i = 1; i < LIMIT_SEAL_KEYS; i++) {
        char name[8];
        snprintf(name, sizeof(name), "k%d", i);
        assert_int_equal(seal_keyring_add(&r, name, strlen(name), HEX_C, 64, "t", &e), 0);
    }
    assert_int_equal(seal_keyring_add(&r, "more", 4, HEX_C, 64, "t", &e), -1);
    assert_int_equal(r.n, LIMIT_SEAL_KEYS);
    assert_non_null(seal_keyring_find(&r, "k3", 2));
    assert_null(seal_keyring_find(&r, "k", 1));
    seal_keyring_cleanup(&r);
    assert_int_equal(r.n, 0);
    assert_null(seal_keyring_newest(&r));
}

static char dir[64];

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void
load_reads_the_file_last_line_seals(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/scimd-seal-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct seal_keyring r = { 0 };
    struct err e = { 0 };
    const char *p = write_file("keys", "# sso keys\n\n  old=" HEX_A "  \nnew=" HEX_B "\n", 0600);
    assert_int_equal(seal_keyring_load(&r, NULL, p, &e), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(seal_keyring_newest(&r)->name, "new");
    assert_int_equal(seal_keyring_newest(&r)->key[31], 0xbb);

    /* sso_key comes first, as "default"; the file's last line still seals. */
    assert_int_equal(seal_keyring_load(&r, HEX_C, p, &e), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.v[0].name, "default");
    assert_string_equal(seal_keyring_newest(&r)->name, "new");
    assert_int_equal(seal_keyring_load(&r, HEX_C, NULL, &e), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(seal_keyring_newest(&r)->name, "default");
    assert_int_equal(seal_keyring_load(&r, "", NULL, &e), 0);
    assert_int_equal(r.n, 0);

    /* Group or world access is refused, and the ring is left empty. */
    assert_int_equal(seal_keyring_load(&r, HEX_C, NULL, &e), 0);
    p = write_file("open", "k=" HEX_A "\n", 0640);
    assert_int_equal(seal_keyring_load(&r, HEX_C, p, &e), -1);
    assert_int_equal(e.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(e.detail, "chmod 600"));
    assert_non_null(strstr(e.detail, "640"));
    assert_int_equal(r.n, 0);
    p = write_file("open2", "k=" HEX_A "\n", 0604);
    assert_int_equal(seal_keyring_load(&r, NULL, p, &e), -1);
    assert_int_equal(seal_keyring_load(&r, NULL, dir, &e), -1); /* not a regular file */
    p = write_file("owner-only", "k=" HEX_A "\n", 0400);
    assert_int_equal(seal_keyring_load(&r, NULL, p, &e), 0);

    /* Bad lines name the file and line; so does a "default" clash with sso_key. */
    const char *bad[] = { "k " HEX_A "\n", "k=" HEX_A "\nk=" HEX_B "\n", "a.b=" HEX_A "\n",
                          "k=" HEX_A "0\n", "# only a comment\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = write_file("bad", bad[i], 0600);
        e = (struct err){ 0 };
        assert_int_equal(seal_keyring_load(&r, NULL, p, &e), -1);
        assert_int_equal(e.code, ERR_INVALID_VALUE);
        assert_non_null(strstr(e.detail, "bad"));
        assert_int_equal(r.n, 0);
    }
    p = write_file("bad", "default=" HEX_A "\n", 0600);
    assert_int_equal(seal_keyring_load(&r, HEX_C, p, &e), -1);
    assert_non_null(strstr(e.detail, "bad:1"));
    assert_int_equal(seal_keyring_load(&r, NULL, "/nonexistent/keys", &e), -1);
    assert_int_equal(seal_keyring_load(&r, "abc", NULL, &e), -1);
    assert_non_null(strstr(e.detail, "sso_key"));

    const char *names[] = { "keys", "open", "open2", "owner-only", "bad" };
    char path[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    seal_keyring_cleanup(&r);
}

static void
tally_lists_the_first_ids(void **state)
{
    (void)state;
    struct seal_tally t = { 0 };
    for (int i = 0; i < SEAL_TALLY_IDS + 5; i++) {
        char id[16];
        snprintf(id, sizeof(id), "id%d", i);
        seal_tally_unreadable(&t, id);
    }
    assert_int_equal(t.unreadable, SEAL_TALLY_IDS + 5);
    assert_string_equal(t.unreadable_ids[0], "id0");
    assert_string_equal(t.unreadable_ids[SEAL_TALLY_IDS - 1], "id19");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_names_the_key),
        cmocka_unit_test(newest_seals_every_key_opens_its_own),
        cmocka_unit_test(add_checks_names_and_hex),
        cmocka_unit_test(load_reads_the_file_last_line_seals),
        cmocka_unit_test(tally_lists_the_first_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
