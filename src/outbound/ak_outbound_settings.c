/*
 * The one place the connector reads its configuration struct: turns the
 * loaded aerospike-kafka-outbound.yml into the settings the receivers and
 * the producer start from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbound/ak_outbound_internal.h"

/* Every address x every port, appended to out. */
static ak_status_t ak_ob_settings_listen(const ak_outbound_config_t *cfg, const char *section,
                                         const ak_config_strings_t *addresses_cfg,
                                         const ak_config_ints_t *ports, ak_ob_listen_t *out,
                                         size_t *n_out, size_t n_other, ak_error_t *err)
{
    static const char *const any_address[] = {"0.0.0.0"};
    const char *const *addresses =
        addresses_cfg->n ? (const char *const *)addresses_cfg->items : any_address;
    size_t n_addresses = addresses_cfg->n ? addresses_cfg->n : 1;
    for (size_t a = 0; a < n_addresses; a++) {
        for (size_t p = 0; p < ports->n; p++) {
            if (*n_out + n_other == AK_OB_MAX_LISTENERS)
                return ak_error_set(err, AK_ERR_LIMIT, "%s: %s: at most %d address/port pairs in all",
                                    cfg->path ? cfg->path : "config", section, AK_OB_MAX_LISTENERS);
            ak_ob_listen_t *l = &out[(*n_out)++];
            snprintf(l->host, sizeof l->host, "%s", addresses[a]);
            l->port = (uint16_t)ports->items[p];
        }
    }
    return AK_OK;
}

/* The TLS listeners' context, from service.tls (so --check judges the PEM
 * files too). The HTTP receiver offers h2 and http/1.1 by ALPN. */
static ak_status_t ak_ob_settings_tls(const ak_outbound_config_t *cfg, ak_ob_settings_t *st,
                                      ak_error_t *err)
{
    const ak_outbound_tls_config_t *tls = &cfg->service.tls;
    static const char *const http_alpn[] = {"h2", "http/1.1"};
    ak_tls_server_options_t opts = {
        .cert_file = tls->cert_file,
        .key_file = tls->key_file,
        .ca_file = tls->ca_file,
        .allowed_peer_names = (const char *const *)tls->allowed_peer_names.items,
        .n_allowed_peer_names = tls->allowed_peer_names.n,
        .protocols = (const char *const *)tls->protocols.items,
        .n_protocols = tls->protocols.n,
        .ciphers = (const char *const *)tls->ciphers.items,
        .n_ciphers = tls->ciphers.n,
        .alpn = st->http ? http_alpn : NULL,
        .n_alpn = st->http ? 2 : 0,
    };
    st->tls = ak_tls_server_ctx_new(&opts, err);
    if (!st->tls) {
        ak_error_prefix(err, "%s: service.tls", cfg->path ? cfg->path : "config");
        return err ? err->status : AK_ERR_INVALID_ARG;
    }
    return AK_OK;
}

ak_status_t ak_ob_settings_from_config(const ak_outbound_config_t *cfg, ak_ob_settings_t *st,
                                       ak_error_t *err)
{
    memset(st, 0, sizeof *st);
    const ak_outbound_service_config_t *svc = &cfg->service;
    ak_status_t status = ak_ob_settings_listen(cfg, "service", &svc->addresses, &svc->ports, st->listen,
                                               &st->n_listen, 0, err);
    if (status == AK_OK && svc->tls.enabled)
        status = ak_ob_settings_listen(cfg, "service.tls", &svc->tls.addresses, &svc->tls.ports,
                                       st->tls_listen, &st->n_tls_listen, st->n_listen, err);
    if (status != AK_OK)
        return status;
    st->http = svc->protocol != AK_XDR_PROTOCOL_TCP;
    if (svc->manage.enabled) {
        snprintf(st->manage.host, sizeof st->manage.host, "%s", svc->manage.address ? svc->manage.address : "0.0.0.0");
        st->manage.port = (uint16_t)svc->manage.port;
        st->manage_port_set = true;
    }
    st->max_concurrent_records = svc->max_concurrent_records > 0 ? (size_t)svc->max_concurrent_records : 32768;
    st->ack_buffering = svc->enable_tcp_xdr_ack_buffering;
    st->ticker_ms = cfg->logging.ticker_interval_s > 0 ? (uint64_t)cfg->logging.ticker_interval_s * 1000u : 0;
    st->read_chunk = svc->socket_receive_buffer_bytes > 0 ? (size_t)svc->socket_receive_buffer_bytes : 32768;

    st->n_producer_props = cfg->producer_props.n;
    if (st->n_producer_props) {
        st->producer_props = calloc(st->n_producer_props, sizeof *st->producer_props);
        if (!st->producer_props)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for producer properties");
        st->producer_prop_where = calloc(st->n_producer_props, sizeof *st->producer_prop_where);
        if (!st->producer_prop_where)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for producer properties");
        for (size_t i = 0; i < st->n_producer_props; i++) {
            snprintf(st->producer_prop_where[i], sizeof st->producer_prop_where[i], "%s:%u",
                     cfg->path ? cfg->path : "config", cfg->producer_props.items[i].line);
            st->producer_props[i] = (ak_producer_prop_t){cfg->producer_props.items[i].name,
                                                         cfg->producer_props.items[i].value,
                                                         st->producer_prop_where[i]};
        }
    }
    st->n_formats = ak_outbound_config_format_count(cfg);
    if (st->n_formats) {
        st->formats = calloc(st->n_formats, sizeof *st->formats);
        if (!st->formats)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for formats");
        for (size_t i = 0; i < st->n_formats; i++)
            st->formats[i] = ak_outbound_config_format(cfg, i);
    }
    /* Last: nothing after it can fail, so a caller that gives up on an
     * error never holds a context. */
    if (svc->tls.enabled)
        return ak_ob_settings_tls(cfg, st, err);
    return AK_OK;
}

void ak_ob_settings_free(ak_ob_settings_t *st)
{
    free(st->producer_props);
    free(st->producer_prop_where);
    st->producer_prop_where = NULL;
    free(st->formats);
    ak_tls_ctx_free(st->tls);
    st->producer_props = NULL;
    st->formats = NULL;
    st->tls = NULL;
}

const char *ak_ob_cluster_name(const ak_outbound_config_t *cfg)
{
    return cfg->service.cluster_name ? cfg->service.cluster_name : "aerospike-kafka-outbound";
}
