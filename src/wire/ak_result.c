#include "wire/ak_result.h"

#include <stddef.h>

/* Names as the server and clients spell them (as_status.h without the
 * AEROSPIKE_ERR_ prefix). */
typedef struct ak_result_entry {
    int code;
    const char *name;
} ak_result_entry_t;

static const ak_result_entry_t ak_result_table[] = {
    {-20, "METRICS_CONFLICT"},
    {-19, "TXN_ALREADY_ABORTED"},
    {-18, "TXN_ALREADY_COMMITTED"},
    {-17, "TXN_FAILED"},
    {-16, "BATCH_FAILED"},
    {-15, "NO_RESPONSE"},
    {-14, "MAX_ERROR_RATE"},
    {-13, "USE_NORMAL_RETRY"},
    {-12, "MAX_RETRIES_EXCEEDED"},
    {-11, "ASYNC_QUEUE_FULL"},
    {-10, "CONNECTION"},
    {-9, "TLS_ERROR"},
    {-8, "INVALID_NODE"},
    {-7, "NO_MORE_CONNECTIONS"},
    {-6, "ASYNC_CONNECTION"},
    {-5, "CLIENT_ABORT"},
    {-4, "INVALID_HOST"},
    {-3, "NO_MORE_RECORDS"},
    {-2, "PARAM"},
    {-1, "CLIENT"},
    {0, "OK"},
    {1, "SERVER"},
    {2, "RECORD_NOT_FOUND"},
    {3, "RECORD_GENERATION"},
    {4, "REQUEST_INVALID"},
    {5, "RECORD_EXISTS"},
    {6, "BIN_EXISTS"},
    {7, "CLUSTER_CHANGE"},
    {8, "SERVER_FULL"},
    {9, "TIMEOUT"},
    {10, "ALWAYS_FORBIDDEN"},
    {11, "CLUSTER"},
    {12, "BIN_INCOMPATIBLE_TYPE"},
    {13, "RECORD_TOO_BIG"},
    {14, "RECORD_BUSY"},
    {15, "SCAN_ABORTED"},
    {16, "UNSUPPORTED_FEATURE"},
    {17, "BIN_NOT_FOUND"},
    {18, "DEVICE_OVERLOAD"},
    {19, "RECORD_KEY_MISMATCH"},
    {20, "NAMESPACE_NOT_FOUND"},
    {21, "BIN_NAME"},
    {22, "FAIL_FORBIDDEN"},
    {23, "FAIL_ELEMENT_NOT_FOUND"},
    {24, "FAIL_ELEMENT_EXISTS"},
    {25, "ENTERPRISE_ONLY"},
    {26, "OP_NOT_APPLICABLE"},
    {27, "FILTERED_OUT"},
    {28, "LOST_CONFLICT"},
    {32, "XDR_KEY_BUSY"},
    {50, "QUERY_END"},
    {51, "SECURITY_NOT_SUPPORTED"},
    {52, "SECURITY_NOT_ENABLED"},
    {53, "SECURITY_SCHEME_NOT_SUPPORTED"},
    {54, "INVALID_COMMAND"},
    {55, "INVALID_FIELD"},
    {56, "ILLEGAL_STATE"},
    {60, "INVALID_USER"},
    {61, "USER_ALREADY_EXISTS"},
    {62, "INVALID_PASSWORD"},
    {63, "EXPIRED_PASSWORD"},
    {64, "FORBIDDEN_PASSWORD"},
    {65, "INVALID_CREDENTIAL"},
    {66, "EXPIRED_SESSION"},
    {70, "INVALID_ROLE"},
    {71, "ROLE_ALREADY_EXISTS"},
    {72, "INVALID_PRIVILEGE"},
    {73, "INVALID_WHITELIST"},
    {74, "QUOTAS_NOT_ENABLED"},
    {75, "INVALID_QUOTA"},
    {80, "NOT_AUTHENTICATED"},
    {81, "ROLE_VIOLATION"},
    {82, "NOT_WHITELISTED"},
    {83, "QUOTA_EXCEEDED"},
    {90, "LDAP_NOT_ENABLED"},
    {91, "LDAP_SETUP"},
    {92, "LDAP_TLS_SETUP"},
    {93, "LDAP_AUTHENTICATION"},
    {94, "LDAP_QUERY"},
    {100, "UDF"},
    {120, "MRT_BLOCKED"},
    {121, "MRT_VERSION_MISMATCH"},
    {122, "MRT_EXPIRED"},
    {123, "MRT_TOO_MANY_WRITES"},
    {124, "MRT_COMMITTED"},
    {125, "MRT_ABORTED"},
    {126, "MRT_ALREADY_LOCKED"},
    {127, "MRT_MONITOR_EXISTS"},
    {150, "BATCH_DISABLED"},
    {151, "BATCH_MAX_REQUESTS"},
    {152, "BATCH_QUEUES_FULL"},
    {160, "GEO_INVALID_GEOJSON"},
    {200, "INDEX_FOUND"},
    {201, "INDEX_NOT_FOUND"},
    {202, "INDEX_OOM"},
    {203, "INDEX_NOT_READABLE"},
    {204, "INDEX"},
    {205, "INDEX_NAME_MAXLEN"},
    {206, "INDEX_MAXCOUNT"},
    {210, "QUERY_ABORTED"},
    {211, "QUERY_QUEUE_FULL"},
    {212, "QUERY_TIMEOUT"},
    {213, "QUERY"},
};

const char *ak_result_name(int code)
{
    size_t lo = 0, hi = sizeof ak_result_table / sizeof ak_result_table[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ak_result_table[mid].code == code)
            return ak_result_table[mid].name;
        if (ak_result_table[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "UNKNOWN";
}

/* The buckets XDR sorts a destination's answer into (Aerospike's XDR error
 * code FAQ): complete, retry later, or abandon for good. */
ak_xdr_class_t ak_result_xdr_class(int code)
{
    switch (code) {
    case AK_RESULT_OK:
    case AK_RESULT_NOT_FOUND:
        return AK_XDR_DONE;
    case AK_RESULT_OUT_OF_SPACE:
    case AK_RESULT_TIMEOUT:
    case AK_RESULT_UNAVAILABLE:
    case AK_RESULT_KEY_BUSY:
    case AK_RESULT_DEVICE_OVERLOAD:
    case AK_RESULT_NOT_AUTHENTICATED:
        return AK_XDR_RETRY;
    default:
        return AK_XDR_ABANDON;
    }
}

const char *ak_xdr_class_name(ak_xdr_class_t cls)
{
    switch (cls) {
    case AK_XDR_DONE: return "done";
    case AK_XDR_RETRY: return "retry";
    case AK_XDR_ABANDON: return "abandon";
    }
    return "unknown";
}

bool ak_result_is_retryable(int code)
{
    switch (code) {
    case AK_RESULT_TIMEOUT:
    case AK_RESULT_UNAVAILABLE:
    case AK_RESULT_KEY_BUSY:
    case AK_RESULT_DEVICE_OVERLOAD:
    case AK_RESULT_OUT_OF_SPACE:
    case AK_RESULT_XDR_KEY_BUSY:
        return true;
    default:
        return false;
    }
}
