/*
 * libFuzzer target for sigv4_verify(): the Authorization header, the
 * X-Amz-Date and the request line are attacker-controlled at the lab's
 * front door. The input is split on newlines into Authorization, X-Amz-Date,
 * path, query and body. Properties: the status is a known one, the detail is
 * a terminated string, and a request can only verify when the signature the
 * verifier would compute is the one presented, which random input never
 * reaches; so SIGV4_OK from fuzz input is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(void *ctx, const char *akid)
{
    (void)ctx;
    return strcmp(akid, "AKIDFUZZ") == 0 ? "fuzz-secret" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char *field[5] = {"", "", "/", NULL, ""};
    char detail[256], akid[64];
    sigv4_header h[3];
    sigv4_request req;
    sigv4_status st;
    char *p;
    int n = 0;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (p = buf; n < 5; n++) {
        char *nl = strchr(p, '\n');
        field[n] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    h[0] = (sigv4_header){"Host", "127.0.0.1:9000"};
    h[1] = (sigv4_header){"Authorization", field[0]};
    h[2] = (sigv4_header){"X-Amz-Date", field[1]};
    req.method = "POST";
    req.path = field[2] && field[2][0] ? field[2] : "/";
    req.query = field[3];
    req.headers = h;
    req.nheaders = 3;
    req.body = (const unsigned char *)(field[4] ? field[4] : "");
    req.body_len = field[4] ? strlen(field[4]) : 0;
    memset(detail, 'x', sizeof(detail));
    st = sigv4_verify(&req, 1704164645 /* 2024-01-02T03:04:05Z */, "lambda", "us-east-1",
                      lookup, NULL, detail, sizeof(detail), akid, sizeof(akid));
    if (st >= SIGV4_ERR_LAST || st == SIGV4_OK || memchr(detail, '\0', sizeof(detail)) == NULL ||
        memchr(akid, '\0', sizeof(akid)) == NULL)
        abort();
    free(buf);
    return 0;
}
