/*
 * The one place the connector reads its configuration struct: turns the
 * loaded aerospike-kafka-outbound.yml into the settings the receivers and
 * the producer start from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbound/ak_outbound_internal.h"

ak_status_t ak_ob_settings_from_config(const ak_outbound_config_t *cfg, ak_ob_settings_t *st,
                                       ak_error_t *err)
{
    memset(st, 0, sizeof *st);
    const ak_outbound_service_config_t *svc = &cfg->service;
    if (svc->tls.enabled)
        return ak_error_set(err, AK_ERR_UNSUPPORTED,
                            "%s: service.tls: TLS listeners are not implemented yet in this build",
                            cfg->path ? cfg->path : "config");
    static const char *const any_address[] = {"0.0.0.0"};
    const char *const *addresses = svc->addresses.n ? (const char *const *)svc->addresses.items : any_address;
    size_t n_addresses = svc->addresses.n ? svc->addresses.n : 1;
    for (size_t a = 0; a < n_addresses; a++) {
        for (size_t p = 0; p < svc->ports.n; p++) {
            if (st->n_listen == AK_OB_MAX_LISTENERS)
                return ak_error_set(err, AK_ERR_LIMIT, "%s: service: at most %d address/port pairs",
                                    cfg->path, AK_OB_MAX_LISTENERS);
            ak_ob_listen_t *l = &st->listen[st->n_listen++];
            snprintf(l->host, sizeof l->host, "%s", addresses[a]);
            l->port = (uint16_t)svc->ports.items[p];
        }
    }
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
        for (size_t i = 0; i < st->n_producer_props; i++)
            st->producer_props[i] = (ak_producer_prop_t){cfg->producer_props.items[i].name,
                                                         cfg->producer_props.items[i].value};
    }
    st->n_formats = ak_outbound_config_format_count(cfg);
    if (st->n_formats) {
        st->formats = calloc(st->n_formats, sizeof *st->formats);
        if (!st->formats)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for formats");
        for (size_t i = 0; i < st->n_formats; i++)
            st->formats[i] = ak_outbound_config_format(cfg, i);
    }
    return AK_OK;
}

void ak_ob_settings_free(ak_ob_settings_t *st)
{
    free(st->producer_props);
    free(st->formats);
    st->producer_props = NULL;
    st->formats = NULL;
}

const char *ak_ob_cluster_name(const ak_outbound_config_t *cfg)
{
    return cfg->service.cluster_name ? cfg->service.cluster_name : "aerospike-kafka-outbound";
}
