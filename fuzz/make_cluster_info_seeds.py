#!/usr/bin/env python3
"""Writes the hand-made seeds of the cluster-info fuzzer (fuzz/corpus/cluster_info/).

The other seeds there were captured from `aerokafka aerospike-dev --nodes 3
--namespace test --namespace bar` (an info request, the answer body saved
as is): tend_followup_3_nodes, replicas_all_without_regime, replicas_max_1,
peers_from_node_2. These add what aerospike-dev does not send, built from
the layouts in shared/spec/aerospike-wire.md (info `replicas`,
`peers-clear-std`, `peers-tls-std`): strong-consistency regimes, more
replicas than the client routes to, TLS names, IPv6 hosts, default ports,
and malformed answers. Re-run after changing it:
python3 fuzz/make_cluster_info_seeds.py
"""
import base64
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "cluster_info")
PARTITIONS = 4096


def bitmap(owned):
    """Base64 of the 4096-bit partition bitmap, partition 0 the top bit."""
    bits = bytearray(PARTITIONS // 8)
    for pid in owned:
        bits[pid >> 3] |= 0x80 >> (pid & 7)
    return base64.b64encode(bytes(bits)).decode()


def answer(pairs):
    return "".join(f"{name}\t{value}\n" for name, value in pairs).encode()


EVEN = range(0, PARTITIONS, 2)
ODD = range(1, PARTITIONS, 2)
ALL = range(PARTITIONS)
NONE = ()

SEEDS = {
    # Strong consistency: regimes per namespace, two replicas.
    "replicas_sc_two_namespaces": answer([
        ("partition-generation", "42"),
        ("replicas", f"test:7,2,{bitmap(EVEN)},{bitmap(ODD)};bar:3,1,{bitmap(range(0, 2048))}"),
    ]),
    # Replication factor 5: the fifth bitmap is not routed to.
    "replicas_five_replicas": answer([
        ("replicas", "big:1,5," + ",".join(bitmap(r) for r in (ALL, NONE, EVEN, ODD, range(100)))),
    ]),
    # The older form without regime, empty entries between namespaces.
    "replicas_old_form_empty_entries": answer([
        ("replicas-all", f"test:1,{bitmap(ALL)};;bar:0;"),
    ]),
    "replicas_error_reply": answer([("replicas", "ERROR::node not ready")]),
    # Malformed: a count the parts do not match, a short bitmap, no colon,
    # a namespace name of 32 bytes, bad base64.
    "replicas_bad_count": answer([("replicas", f"test:0,3,{bitmap(ALL)}")]),
    "replicas_short_bitmap": answer([("replicas", "test:0,1,AAAA")]),
    "replicas_no_colon": answer([("replicas", f"test:0,1,{bitmap(ALL)};bar")]),
    "replicas_long_namespace": answer([("replicas", "n" * 32 + f":0,1,{bitmap(ALL)}")]),
    "replicas_bad_base64": answer([("replicas", "test:0,1," + "!" * 684)]),
    # 684 characters without padding decode to 513 bytes, one past a bitmap
    # (the client once wrote that byte past its buffer).
    "replicas_unpadded_bitmap": answer([("replicas", "test:0,1," + "k" * 684)]),
    # A NUL in a namespace name, and after a count (read as "0" once).
    "replicas_nul_in_namespace": answer([("replicas", "\0te:0"), ("replicas-all", "test:0\0junk")]),
    # A NUL inside a peer's name cut it to "": the peer was added with no
    # name to check its answer against.
    "peers_nul_in_name": answer([("peers-clear-std", "3,3000,[[\0BB9,,[10.0.0.1]],[BB9000000000F02,,[10.0\0.0.2]]]")]),
    # A raw value, without the info line around it.
    "replicas_raw_value": f"test:2,1,{bitmap(EVEN)}".encode(),
    # TLS: names per peer, several addresses, IPv6 with and without a port.
    "peers_tls_ipv6": answer([
        ("peers-generation", "7"),
        ("peers-tls-std",
         "7,4333,[[BB9000000000A01,tls-a.example.com,[10.0.0.1:4333,192.168.1.1]],"
         "[BB9000000000A02,tls-b.example.com,[[2001:db8::2]:4333]],"
         "[BB9000000000A03,tls-c.example.com,[[2001:db8::3]]]]"),
    ]),
    # The server strips the default port from hosts.
    "peers_default_port": answer([
        ("peers-clear-std", "12,3000,[[BB9000000000B01,,[10.0.0.1]],[BB9000000000B02,,[10.0.0.2:3100,10.1.0.2:3100]]]"),
    ]),
    "peers_empty": answer([("peers-clear-std", "0,3000,[]")]),
    # Peers the client skips: no name, port 0, a name of 32 bytes, no host.
    "peers_unusable": answer([
        ("peers-clear-std",
         "3,3000,[[,,[10.0.0.1]],[BB9000000000C02,,[10.0.0.2:0]],[" + "N" * 32 + ",,[10.0.0.3]],"
         "[BB9000000000C04,,[]]]"),
    ]),
    # Malformed: the hosts list not closed, no '[' before hosts, no header.
    "peers_unclosed": answer([("peers-clear-std", "1,3000,[[BB9000000000D01,,[10.0.0.1:3000")]),
    "peers_no_hosts_bracket": answer([("peers-clear-std", "1,3000,[[BB9000000000D01,,10.0.0.1]]")]),
    "peers_no_header": answer([("peers-clear-std", "[[BB9000000000D01,,[10.0.0.1]]]")]),
    "peers_raw_value": b"2,3000,[[BB9000000000E01,,[[::1]:3001]],[BB9000000000E02,,[127.0.0.1:3002]]]",
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
