/*
 * ak_result: Aerospike result codes, their names, and how XDR treats each
 * one when a connector answers with it.
 */
#ifndef AK_RESULT_H
#define AK_RESULT_H

#include <stdbool.h>

typedef enum ak_result_code {
    AK_RESULT_OK = 0,
    AK_RESULT_UNKNOWN = 1,
    AK_RESULT_NOT_FOUND = 2,
    AK_RESULT_GENERATION = 3,
    AK_RESULT_PARAMETER = 4,
    AK_RESULT_RECORD_EXISTS = 5,
    AK_RESULT_BIN_EXISTS = 6,
    AK_RESULT_CLUSTER_KEY_MISMATCH = 7,
    AK_RESULT_OUT_OF_SPACE = 8,
    AK_RESULT_TIMEOUT = 9,
    AK_RESULT_XDR_PERMANENT = 10,
    AK_RESULT_UNAVAILABLE = 11,
    AK_RESULT_INCOMPATIBLE_TYPE = 12,
    AK_RESULT_RECORD_TOO_BIG = 13,
    AK_RESULT_KEY_BUSY = 14,
    AK_RESULT_SCAN_ABORT = 15,
    AK_RESULT_UNSUPPORTED_FEATURE = 16,
    AK_RESULT_BIN_NOT_FOUND = 17,
    AK_RESULT_DEVICE_OVERLOAD = 18,
    AK_RESULT_KEY_MISMATCH = 19,
    AK_RESULT_NAMESPACE_NOT_FOUND = 20,
    AK_RESULT_BIN_NAME = 21,
    AK_RESULT_FORBIDDEN = 22,
    AK_RESULT_ELEMENT_NOT_FOUND = 23,
    AK_RESULT_ELEMENT_EXISTS = 24,
    AK_RESULT_ENTERPRISE_ONLY = 25,
    AK_RESULT_OP_NOT_APPLICABLE = 26,
    AK_RESULT_FILTERED_OUT = 27,
    AK_RESULT_LOST_CONFLICT = 28,
    AK_RESULT_XDR_KEY_BUSY = 32,
    AK_RESULT_NOT_AUTHENTICATED = 80,
} ak_result_code_t;

/* What XDR does after a connector answers with a code. */
typedef enum ak_xdr_class {
    AK_XDR_DONE,    /* complete: the record is acknowledged */
    AK_XDR_RETRY,   /* temporary: XDR re-sends later */
    AK_XDR_ABANDON, /* permanent: XDR never re-sends */
} ak_xdr_class_t;

/* The client libraries' name for a code (as_status.h without the
 * AEROSPIKE_ERR_ prefix: "OK", "RECORD_NOT_FOUND", "TIMEOUT"), or "UNKNOWN"
 * for codes with no name. Negative codes are client-side codes. */
const char *ak_result_name(int code);
ak_xdr_class_t ak_result_xdr_class(int code);
const char *ak_xdr_class_name(ak_xdr_class_t cls);
/* True for codes a client retries: timeouts, busy, overload, unavailable. */
bool ak_result_is_retryable(int code);

#endif
