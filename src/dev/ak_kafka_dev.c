#include "dev/ak_kafka_dev.h"


#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka_mock.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Fixed ports for the mock brokers. While ak_kafka_dev_start runs
 * rd_kafka_mock_cluster_new with a port asked for, a bind() of an IPv4
 * socket to port 0 from that thread is given the next port instead. This
 * bind() interposes libc's for librdkafka (a shared library resolves bind
 * through the executable first) and otherwise passes every call through
 * untouched.
 */
static pthread_mutex_t ak_kafka_dev_port_lock = PTHREAD_MUTEX_INITIALIZER;
static int ak_kafka_dev_next_port;          /* 0: not placing ports */
static pthread_t ak_kafka_dev_port_thread;

static void ak_kafka_dev_fixed_port_begin(int port)
{
    pthread_mutex_lock(&ak_kafka_dev_port_lock);
    ak_kafka_dev_port_thread = pthread_self();
    __atomic_store_n(&ak_kafka_dev_next_port, port, __ATOMIC_SEQ_CST);
}

static int ak_kafka_dev_fixed_port_end(void)
{
    int next = __atomic_exchange_n(&ak_kafka_dev_next_port, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&ak_kafka_dev_port_lock);
    return next;
}

static bool ak_kafka_dev_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (const struct sockaddr *)&sin, sizeof sin) == 0;
    close(fd);
    return ok;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len);
int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    if (!real_bind)
        real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    int next = __atomic_load_n(&ak_kafka_dev_next_port, __ATOMIC_SEQ_CST);
    if (next > 0 && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in) &&
        pthread_equal(pthread_self(), ak_kafka_dev_port_thread)) {
        struct sockaddr_in sin;
        memcpy(&sin, addr, sizeof sin);
        if (sin.sin_port == 0) {
            /* as any server does, so a restart does not wait out TIME_WAIT */
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            sin.sin_port = htons((uint16_t)next);
            __atomic_store_n(&ak_kafka_dev_next_port, next + 1, __ATOMIC_SEQ_CST);
            return real_bind(fd, (const struct sockaddr *)&sin, sizeof sin);
        }
    }
    return real_bind(fd, addr, len);
}

struct ak_kafka_dev {
    /* The mock cluster needs an rd_kafka_t for its bookkeeping; a producer
     * that never produces is the lightest one. It must outlive the cluster. */
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mcluster;
    int brokers;
    char *bootstrap;
    ak_kafka_dev_log_fn log;
    void *log_opaque;
};

/* Kafka's own limit (kafka.common.internals.Topic): 249 characters of
 * [A-Za-z0-9._-], and neither "." nor "..". */
static bool ak_kafka_dev_topic_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Checks a topic before anything is started, so a bad --topic costs no
 * cluster start-up. */
static ak_status_t ak_kafka_dev_check_topic(int brokers, const char *name, int partitions,
                                            int replication, ak_error_t *err)
{
    if (!name || !ak_kafka_dev_topic_name_valid(name))
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "kafka-dev topic '%s': a name is 1..249 of [A-Za-z0-9._-]",
                            name ? name : "(null)");
    if (partitions < 1 || partitions > AK_KAFKA_DEV_MAX_PARTITIONS)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "kafka-dev topic '%s': %d partitions, expected 1..%d", name, partitions,
                            AK_KAFKA_DEV_MAX_PARTITIONS);
    /* Checked so callers learn of a mistake now, although 2.0.2's mock
     * ignores the value (it assigns min(3, brokers) replicas to every
     * partition). */
    if (replication != 0 && (replication < 1 || replication > brokers))
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "kafka-dev topic '%s': replication %d, expected 1..%d (the brokers)",
                            name, replication, brokers);
    return AK_OK;
}

static ak_status_t ak_kafka_dev_check_broker(const ak_kafka_dev_t *dev, int32_t broker_id,
                                             const char *what, ak_error_t *err)
{
    if (broker_id < 1 || broker_id > dev->brokers)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "kafka-dev %s: no broker %d (broker ids are 1..%d)", what,
                            (int)broker_id, dev->brokers);
    return AK_OK;
}

/* librdkafka calls this from its own threads; the opaque is the dev. */
static void ak_kafka_dev_log_cb(const rd_kafka_t *rk, int level, const char *facility,
                                const char *message)
{
    const ak_kafka_dev_t *dev = rd_kafka_opaque(rk);
    if (dev && dev->log)
        dev->log(dev->log_opaque, level, facility, message);
}

static ak_status_t ak_kafka_dev_conf_set(rd_kafka_conf_t *conf, const char *name,
                                         const char *value, ak_error_t *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "kafka-dev: librdkafka property %s=%s: %s",
                            name, value, errstr);
    return AK_OK;
}

ak_kafka_dev_t *ak_kafka_dev_start(const ak_kafka_dev_options_t *opts, ak_error_t *err)
{
    static const ak_kafka_dev_options_t defaults = {0};
    if (!opts)
        opts = &defaults;

    int brokers = opts->brokers == 0 ? 1 : opts->brokers;
    if (brokers < 1 || brokers > AK_KAFKA_DEV_MAX_BROKERS) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "kafka-dev: brokers is %d, expected 1..%d",
                     opts->brokers, AK_KAFKA_DEV_MAX_BROKERS);
        return NULL;
    }
    if (opts->port < 0 || opts->port + brokers - 1 > 65535) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "kafka-dev: ports %d..%d do not fit in 1..65535",
                     opts->port, opts->port + brokers - 1);
        return NULL;
    }
    if (opts->topic_count > 0 && !opts->topics) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "kafka-dev: %zu topics announced but none given",
                     opts->topic_count);
        return NULL;
    }

    for (size_t i = 0; i < opts->topic_count; i++) {
        const ak_kafka_dev_topic_t *topic = &opts->topics[i];
        if (ak_kafka_dev_check_topic(brokers, topic->name, topic->partitions, topic->replication,
                                     err) != AK_OK)
            return NULL;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(opts->topics[j].name, topic->name) == 0) {
                ak_error_set(err, AK_ERR_INVALID_ARG, "kafka-dev topic '%s': given twice",
                             topic->name);
                return NULL;
            }
        }
    }

    ak_kafka_dev_t *dev = calloc(1, sizeof *dev);
    if (!dev) {
        ak_error_set(err, AK_ERR_NOMEM, "kafka-dev: out of memory");
        return NULL;
    }
    dev->brokers = brokers;
    dev->log = opts->log;
    dev->log_opaque = opts->log_opaque;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (ak_kafka_dev_conf_set(conf, "client.id", "aerokafka-kafka-dev", err) != AK_OK) {
        rd_kafka_conf_destroy(conf);
        free(dev);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, dev);
    rd_kafka_conf_set_log_cb(conf, ak_kafka_dev_log_cb);

    char errstr[512];
    dev->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!dev->rk) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new frees conf only on success */
        ak_error_set(err, AK_ERR_IO, "kafka-dev: creating the librdkafka handle: %s", errstr);
        free(dev);
        return NULL;
    }
    /* librdkafka 2.0.2 has no call to choose the mock brokers' ports: it
     * binds each to 127.0.0.1:0 while rd_kafka_mock_cluster_new runs, on
     * this thread. ak_kafka_dev_bind (below) turns those binds into
     * consecutive fixed ports for the duration of the call. */
    /* A mock broker that fails to bind takes librdkafka 2.0.2 down with an
     * assertion in its clean-up, so make sure the ports are free first. */
    for (int i = 0; opts->port && i < brokers; i++) {
        if (!ak_kafka_dev_port_free(opts->port + i)) {
            ak_error_set(err, AK_ERR_IO, "kafka-dev: could not listen on ports %d..%d: port %d is in use",
                         opts->port, opts->port + brokers - 1, opts->port + i);
            rd_kafka_destroy(dev->rk);
            free(dev);
            return NULL;
        }
    }
    ak_kafka_dev_fixed_port_begin(opts->port);
    dev->mcluster = rd_kafka_mock_cluster_new(dev->rk, brokers);
    int next_port = ak_kafka_dev_fixed_port_end();
    if (dev->mcluster && opts->port && next_port != opts->port + brokers) {
        ak_error_set(err, AK_ERR_IO, "kafka-dev: could not place %d brokers on ports %d..%d",
                     brokers, opts->port, opts->port + brokers - 1);
        ak_kafka_dev_stop(dev);
        return NULL;
    }
    if (!dev->mcluster) {
        /* librdkafka only logs why (usually a socket that failed to bind). */
        if (opts->port)
            ak_error_set(err, AK_ERR_IO, "kafka-dev: could not listen on ports %d..%d (in use?)",
                         opts->port, opts->port + brokers - 1);
        else
            ak_error_set(err, AK_ERR_IO, "kafka-dev: librdkafka could not start %d mock brokers",
                         brokers);
        ak_kafka_dev_stop(dev);
        return NULL;
    }
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(dev->mcluster);
    dev->bootstrap = strdup(bootstrap ? bootstrap : "");
    if (!dev->bootstrap) {
        ak_error_set(err, AK_ERR_NOMEM, "kafka-dev: out of memory");
        ak_kafka_dev_stop(dev);
        return NULL;
    }

    for (size_t i = 0; i < opts->topic_count; i++) {
        const ak_kafka_dev_topic_t *topic = &opts->topics[i];
        if (ak_kafka_dev_create_topic(dev, topic->name, topic->partitions, topic->replication,
                                      err) != AK_OK) {
            ak_kafka_dev_stop(dev);
            return NULL;
        }
    }
    return dev;
}

void ak_kafka_dev_stop(ak_kafka_dev_t *dev)
{
    if (!dev)
        return;
    /* The cluster first: it uses rk until it is gone. rd_kafka_destroy()
     * joins librdkafka's threads, so nothing runs after we return. */
    if (dev->mcluster)
        rd_kafka_mock_cluster_destroy(dev->mcluster);
    if (dev->rk)
        rd_kafka_destroy(dev->rk);
    free(dev->bootstrap);
    free(dev);
}

const char *ak_kafka_dev_bootstrap(const ak_kafka_dev_t *dev)
{
    return dev->bootstrap;
}

int ak_kafka_dev_broker_count(const ak_kafka_dev_t *dev)
{
    return dev->brokers;
}

ak_status_t ak_kafka_dev_create_topic(ak_kafka_dev_t *dev, const char *name, int partitions,
                                      int replication, ak_error_t *err)
{
    ak_status_t status = ak_kafka_dev_check_topic(dev->brokers, name, partitions, replication, err);
    if (status != AK_OK)
        return status;
    if (replication == 0)
        replication = dev->brokers < 3 ? dev->brokers : 3;

    rd_kafka_resp_err_t rerr =
        rd_kafka_mock_topic_create(dev->mcluster, name, partitions, replication);
    if (rerr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "kafka-dev topic '%s': already exists", name);
    if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return ak_error_set(err, AK_ERR_IO, "kafka-dev topic '%s': %s", name, rd_kafka_err2str(rerr));
    return AK_OK;
}

ak_status_t ak_kafka_dev_broker_down(ak_kafka_dev_t *dev, int32_t broker_id, ak_error_t *err)
{
    ak_status_t status = ak_kafka_dev_check_broker(dev, broker_id, "broker down", err);
    if (status != AK_OK)
        return status;
    rd_kafka_resp_err_t rerr = rd_kafka_mock_broker_set_down(dev->mcluster, broker_id);
    if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return ak_error_set(err, AK_ERR_IO, "kafka-dev broker %d down: %s", (int)broker_id,
                            rd_kafka_err2str(rerr));
    return AK_OK;
}

ak_status_t ak_kafka_dev_broker_up(ak_kafka_dev_t *dev, int32_t broker_id, ak_error_t *err)
{
    ak_status_t status = ak_kafka_dev_check_broker(dev, broker_id, "broker up", err);
    if (status != AK_OK)
        return status;
    rd_kafka_resp_err_t rerr = rd_kafka_mock_broker_set_up(dev->mcluster, broker_id);
    if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return ak_error_set(err, AK_ERR_IO, "kafka-dev broker %d up: %s", (int)broker_id,
                            rd_kafka_err2str(rerr));
    return AK_OK;
}

ak_status_t ak_kafka_dev_push_request_errors(ak_kafka_dev_t *dev, int16_t api_key, size_t count,
                                             const rd_kafka_resp_err_t *errors, ak_error_t *err)
{
    if (api_key < 0)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "kafka-dev request errors: api key %d is negative", (int)api_key);
    if (count > 0 && !errors)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "kafka-dev request errors for api key %d: %zu errors announced but "
                            "none given",
                            (int)api_key, count);
    if (count > 0)
        rd_kafka_mock_push_request_errors_array(dev->mcluster, api_key, count, errors);
    return AK_OK;
}

ak_status_t ak_kafka_dev_clear_request_errors(ak_kafka_dev_t *dev, int16_t api_key,
                                              ak_error_t *err)
{
    if (api_key < 0)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "kafka-dev request errors: api key %d is negative", (int)api_key);
    rd_kafka_mock_clear_request_errors(dev->mcluster, api_key);
    return AK_OK;
}
