#!/usr/bin/env python3
"""Writes the seed corpus of the frame fuzzer (fuzz/corpus/frame/).

Seeds are built here, independently of the C encoder, from the layouts in
shared/spec/aerospike-wire.md: one frame of each kind the decoder meets.
Re-run after changing it: python3 fuzz/make_seeds.py
"""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "frame")


def proto(ptype, body):
    return struct.pack(">Q", (2 << 56) | (ptype << 48) | len(body)) + body


def field(ftype, data):
    return struct.pack(">IB", len(data) + 1, ftype) + data


def op(optype, particle, name, value, lut=None):
    flags = 1 if lut is not None else 0
    extra = struct.pack(">Q", lut) if lut is not None else b""
    body = struct.pack(">BBBB", optype, particle, flags, len(name)) + name + extra + value
    return struct.pack(">I", len(body)) + body


def msg(info1, info2, info3, fields, ops, gen=0, ttl=0, timeout=1000, rc=0):
    header = struct.pack(">BBBBBBIIIHH", 22, info1, info2, info3, 0, rc, gen, ttl, timeout,
                         len(fields), len(ops))
    return proto(3, header + b"".join(fields) + b"".join(ops))


def s(text):
    return text.encode()


DIGEST = bytes.fromhex("b747f5854d0b33259928d0cfab7fad81d6abfbf6")
base_fields = [field(0, b"test"), field(1, b"demo"), field(4, DIGEST)]

seeds = {
    # spec section 8: put of bin b = 1
    "put_int": msg(0, 1, 0, base_fields, [op(2, 1, b"b", struct.pack(">q", 1))]),
    "delete": msg(0, 3, 0, base_fields, []),
    "durable_delete_with_key": msg(0x10, 0x13, 0, base_fields + [field(2, b"\x01" + struct.pack(">q", 99))], []),
    "xdr_write_every_type": msg(
        0x10, 1, 0x10,
        base_fields + [field(2, b"\x03k1"), field(14, struct.pack(">Q", 501696000123))],
        [
            op(2, 1, b"int", struct.pack(">q", -42)),
            op(2, 2, b"double", struct.pack(">d", 2.5)),
            op(2, 3, b"string", s("hello")),
            op(2, 4, b"blob", b"\xde\xad\xbe\xef"),
            op(2, 7, b"java", b"\xac\xed"),
            op(2, 17, b"bool", b"\x01"),
            op(2, 18, b"hll", b"\x00\x0e\x05"),
            op(2, 23, b"geo", b"\x00\x00\x01" + b"\x00" * 8 + s('{"type":"Point","coordinates":[1,2]}')),
            op(2, 20, b"list", bytes.fromhex("93a2036101cb3ff8000000000000")),
            op(2, 19, b"map", bytes.fromhex("82c70001c0a2036b93c0c2c3")),
            op(2, 19, b"umap", bytes.fromhex("81a2036ba20376")),
            op(2, 0, b"gone", b""),
            op(2, 1, b"lutbin", struct.pack(">q", 5), lut=501696000000),
        ],
        gen=3, ttl=3600),
    "nested_list": msg(0, 1, 0, base_fields, [op(2, 20, b"deep", bytes([0x91] * 40 + [0x01]))]),
    "reply_ok": msg(0, 0, 0, [], [], rc=0, timeout=0),
    "reply_not_found": msg(0, 0, 0, [], [], rc=2, timeout=0),
    "info_request": proto(1, b"node\npartition-generation\nbuild\n"),
    "info_response": proto(1, b"node\tBB9020011AC4202\npartitions\t4096\nreplicas\ttest:0,1,AAAA\n"),
}
# a batch read of 3 keys, the first row full, then REPEAT rows (as clients send)
rows = (struct.pack(">I", 0) + DIGEST + b"\x0a" + bytes([3, 0, 0]) + struct.pack(">IHH", 0, 2, 0)
        + field(0, b"test") + field(1, b"demo")
        + struct.pack(">I", 1) + bytes(range(20)) + b"\x01"
        + struct.pack(">I", 2) + bytes(range(20, 40)) + b"\x01")
seeds["batch_read"] = msg(0x08, 0, 0, [field(41, struct.pack(">IB", 3, 0x0d) + rows)], [])
inner = seeds["xdr_write_every_type"]
seeds["compressed"] = proto(4, struct.pack(">Q", len(inner)) + zlib.compress(inner, 1))
seeds["pipelined"] = seeds["put_int"] + seeds["delete"] + seeds["info_request"]

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
