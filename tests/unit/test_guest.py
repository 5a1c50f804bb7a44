"""The test guest's initramfs: a newc archive the kernel unpacks, with the modules its init loads
in an order that satisfies their dependencies."""

from __future__ import annotations

from localcluster import guest


def parse_newc(data: bytes) -> dict[str, tuple[int, bytes]]:
    entries, position = {}, 0
    while True:
        header = data[position:position + 110]
        assert header[:6] == b"070701"
        fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, name_size = fields[1], fields[6], fields[11]
        name = data[position + 110:position + 110 + name_size - 1].decode()
        position += 110 + name_size
        position += -position % 4
        body = data[position:position + size]
        position += size + (-size % 4)
        if name == "TRAILER!!!":
            assert position == len(data)
            return entries
        entries[name] = (mode, body)


def test_the_archive_reads_back_as_the_kernel_reads_it():
    entries = [("bin", 0o040755, b""), ("init", 0o100755, b"#!/bin/sh\necho hi\n"), ("odd", 0o100644, b"x")]
    parsed = parse_newc(guest.newc_archive(entries))
    assert parsed == {name: (mode, data) for name, mode, data in entries}


def module(depends: str) -> bytes:
    return b"\x7fELF...\0license=GPL\0depends=" + depends.encode() + b"\0vermagic=6.1\0"


def test_modules_load_after_what_they_depend_on():
    files = {"virtio_net": module("net_failover,virtio_ring"), "net_failover": module("failover"),
             "failover": module(""), "virtio_ring": module(""), "virtio_blk": module("virtio_ring")}
    order = guest.module_order(files, ("virtio_net", "virtio_blk"))
    assert sorted(order) == sorted(files)
    for name, content in files.items():
        assert all(order.index(dependency) < order.index(name) for dependency in guest.module_depends(content))

