/* Unit tests: the element-text extractor used for AWS STS answers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "awsxml.h"

static const char sts_ok[] =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>\n"
    "    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <SessionToken>FwoGZXIvYXdzEXAMPLE//token==</SessionToken>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>\n"
    "      <Expiration>2030-01-02T03:04:05Z</Expiration>\n"
    "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
    "    </Credentials>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

static bool get(const char *xml, const char *const *path, size_t depth, char *out, size_t outsz,
                const char **why)
{
    return awsxml_text(xml, strlen(xml), path, depth, out, outsz, why);
}

START_TEST(finds_elements_on_a_path)
{
    const char *p[] = {"AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult",
                       "Credentials", "AccessKeyId"};
    char out[128];
    const char *why = NULL;
    ck_assert(get(sts_ok, p, 4, out, sizeof out, &why));
    ck_assert_str_eq(out, "ASIAEXAMPLE");
    p[3] = "SessionToken";
    ck_assert(get(sts_ok, p, 4, out, sizeof out, &why));
    ck_assert_str_eq(out, "FwoGZXIvYXdzEXAMPLE//token==");
    const char *meta[] = {"AssumeRoleWithWebIdentityResponse", "ResponseMetadata", "RequestId"};
    ck_assert(get(sts_ok, meta, 3, out, sizeof out, &why));
    ck_assert_str_eq(out, "r-1");
}
END_TEST

START_TEST(path_is_anchored_at_the_root)
{
    const char *p[] = {"Credentials", "AccessKeyId"}; /* not a root element */
    char out[64];
    const char *why = NULL;
    ck_assert(!get(sts_ok, p, 2, out, sizeof out, &why));
    ck_assert_str_eq(why, "element not found");
    ck_assert_str_eq(out, "");
    /* a same-named element elsewhere is not the one */
    const char *doc = "<R><A><X>no</X></A><B><X>yes</X></B></R>";
    const char *q[] = {"R", "B", "X"};
    ck_assert(get(doc, q, 3, out, sizeof out, &why));
    ck_assert_str_eq(out, "yes");
}
END_TEST

START_TEST(references_cdata_comments_prefixes)
{
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c <R> -->"
                      "<s:R xmlns:s=\"u\" a='>' b=\"/>\"><s:M>a &lt;b&gt; &amp; &quot;c&quot; "
                      "&apos;d&apos; &#65;&#x42;&#xe9;<![CDATA[<raw&>]]></s:M></s:R>";
    const char *p[] = {"R", "M"};
    char out[64];
    const char *why = NULL;
    ck_assert_msg(get(doc, p, 2, out, sizeof out, &why), "%s", why);
    ck_assert_str_eq(out, "a <b> & \"c\" 'd' AB\xc3\xa9<raw&>");
}
END_TEST

START_TEST(empty_and_self_closing_elements)
{
    const char *p[] = {"R", "E"};
    char out[8] = "x";
    ck_assert(get("<R><E/></R>", p, 2, out, sizeof out, NULL));
    ck_assert_str_eq(out, "");
    ck_assert(get("<R><E></E></R>", p, 2, out, sizeof out, NULL));
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(refusals)
{
    const char *p[] = {"R", "E"};
    char out[8];
    const char *why = NULL;
    struct {
        const char *doc, *why;
    } cases[] = {
        {"<!DOCTYPE R [<!ENTITY x \"y\">]><R><E>&x;</E></R>",
         "a DOCTYPE or declaration is not accepted"},
        {"<R><E>&x;</E></R>", "unknown entity reference"},
        {"<R><E>&#0;</E></R>", "invalid character reference"},
        {"<R><E>&#xD800;</E></R>", "invalid character reference"},
        {"<R><E>&#9999999;</E></R>", "invalid character reference"},
        {"<R><E>&amp</E></R>", "unterminated entity reference"},
        {"<R><E><F>x</F></E></R>", "element has child elements"},
        {"<R><E>12345678</E></R>", "element text too long"},
        {"<R><E>x</F></R>", "mismatched end tag"},
        {"<R><E>x", "document ends inside an element"},
        {"<R><E a=\"x>", "unterminated start tag"},
        {"<R><!-- x", "unterminated comment"},
        {"<R><![CDATA[x", "unterminated CDATA section"},
        {"<R></ E>", "malformed tag"},
        {"<R/>", "element not found"},
        {"", "element not found"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        why = NULL;
        ck_assert_msg(!get(cases[i].doc, p, 2, out, sizeof out, &why), "%s", cases[i].doc);
        ck_assert_msg(why && strcmp(why, cases[i].why) == 0, "%s: %s", cases[i].doc, why);
        ck_assert_str_eq(out, "");
    }
}
END_TEST

START_TEST(depth_and_name_bounds)
{
    char doc[1024] = "", out[8];
    const char *why = NULL;
    for (int i = 0; i < AWSXML_MAX_DEPTH + 1; i++)
        strcat(doc, "<a>");
    const char *p[] = {"b"};
    ck_assert(!get(doc, p, 1, out, sizeof out, &why));
    ck_assert_str_eq(why, "elements nested too deeply");
    char name[AWSXML_MAX_NAME + 4];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(doc, sizeof doc, "<%s>", name);
    ck_assert(!get(doc, p, 1, out, sizeof out, &why));
    ck_assert_str_eq(why, "element name too long");
}
END_TEST

/* Only xml[0..n) is read: the text past n is not seen. */
START_TEST(reads_only_n_bytes)
{
    const char *doc = "<R><E>abc</E></R>";
    const char *p[] = {"R", "E"};
    char out[8];
    ck_assert(!awsxml_text(doc, 8, p, 2, out, sizeof out, NULL));
    ck_assert(awsxml_text(doc, 13, p, 2, out, sizeof out, NULL));
    ck_assert_str_eq(out, "abc");
}
END_TEST

Suite *suite_awsxml(void)
{
    Suite *s = suite_create("awsxml");
    TCase *tc = tcase_create("awsxml");
    tcase_add_test(tc, finds_elements_on_a_path);
    tcase_add_test(tc, path_is_anchored_at_the_root);
    tcase_add_test(tc, references_cdata_comments_prefixes);
    tcase_add_test(tc, empty_and_self_closing_elements);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, depth_and_name_bounds);
    tcase_add_test(tc, reads_only_n_bytes);
    suite_add_tcase(s, tc);
    return s;
}
