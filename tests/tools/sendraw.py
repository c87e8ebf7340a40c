#!/usr/bin/env python3
"""Send hand-built Ethernet frames through one interface with AF_PACKET.

Tests need frames whose every byte is known: an exact number of IPv4 or
IPv6 packets of an exact L3 size, optionally VLAN/QinQ tagged, behind an
MPLS label stack or in PPPoE, with IPv4 options, IPv6 extension headers,
as fragments, or deliberately malformed (cut short, a bad version, IHL,
length field or ethertype).
The kernel's own stack cannot produce most of these, so they are built
here by hand. Standard library only, so it runs wherever python3 does.

The L3 size is what texporter counts: the IPv4 total length, or 40 plus
the IPv6 payload length.

The default destination MAC belongs to nobody, so the receiving stack
drops the frames as "other host" after the interface, XDP and TC have
seen them, and sends nothing back (no ICMP port unreachable, no RST).
Pass --dst-mac of the peer to have its IP stack process them.
"""

import argparse
import ipaddress
import socket
import struct
import sys
import time

ETH_P_IPV4 = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ETH_P_MPLS_UC = 0x8847
ETH_P_PPP_SES = 0x8864
PPP_PROTO = {4: 0x0021, 6: 0x0057}
PPPOE_VER_TYPE = 0x11  # version 1, type 1
MPLS_TTL = 64
IPV6_OPT_JUMBO = 0xC2
IPV6_OPT_ROUTER_ALERT = 0x05
IPV6_OPT_PADN = 1

IPV4_HEADER_LEN = 20
IPV6_HEADER_LEN = 40
EXT_HEADER_LEN = 8  # every extension header built here is 8 bytes, but:
JUMBO_RA_HOP_LEN = 16  # hop-by-hop with Router Alert, Jumbo Payload, PadN
EXT_NEXT_HEADER = {"hop": 0, "routing": 43, "frag": 44, "dst": 60}
L4_HEADER_LEN = {"udp": 8, "tcp": 20, "icmp": 8}

DEFAULT_DST_MAC = "02:00:00:00:00:ff"
TTL = 64
TCP_FLAGS_RST_ACK = 0x14  # a reset never draws an answer
IPV4_MF = 0x2000


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Send N raw Ethernet frames carrying IPv4/IPv6 packets.")
    p.add_argument("--iface", required=True, help="interface to send on")
    p.add_argument("--count", type=int, default=1, help="frames to send")
    p.add_argument("--src-mac", help="default: the interface's own MAC")
    p.add_argument("--dst-mac", default=DEFAULT_DST_MAC,
                   help="default %(default)s (nobody's, so nothing answers)")
    p.add_argument("--src", required=True, help="source IPv4 or IPv6 address")
    p.add_argument("--dst", required=True, help="destination address")
    p.add_argument("--l3-size", type=int, default=100,
                   help="IPv4 total length / 40 + IPv6 payload length "
                        "(default %(default)s)")
    p.add_argument("--proto", choices=sorted(L4_HEADER_LEN), default="udp")
    p.add_argument("--src-port", type=int, default=40000)
    p.add_argument("--dst-port", type=int, default=9)
    p.add_argument("--vlan", type=int, action="append", default=[],
                   metavar="TAG", help="VLAN id; repeat for QinQ, outer first "
                   "(outer is 802.1ad when two or more are given)")
    p.add_argument("--mpls", type=int, action="append", default=[],
                   metavar="LABEL", help="an MPLS label stack entry after "
                   "the VLAN tags (ethertype 0x8847); repeat for a stack, "
                   "outer first; the last is the bottom of the stack")
    p.add_argument("--mpls-control-word", action="store_true",
                   help="a pseudowire control word (4 zero bytes) between "
                   "the label stack and the IP packet")
    p.add_argument("--pppoe", type=int, metavar="SESSION",
                   help="a PPPoE session header (ethertype 0x8864) with this "
                   "session id and PPP protocol 0x0021 (IPv4) or 0x0057 "
                   "(IPv6) after the VLAN tags")
    p.add_argument("--ppp-protocol", type=lambda v: int(v, 0), metavar="N",
                   help="write this PPP protocol instead (e.g. 0xc021, LCP)")
    p.add_argument("--ethertype", type=lambda v: int(v, 0), metavar="N",
                   help="write this ethertype after the VLAN tags instead "
                   "of IPv4's, IPv6's, MPLS's or PPPoE's (e.g. 0, 0x8848)")
    p.add_argument("--ipv4-options", type=int, default=0, metavar="BYTES",
                   help="IPv4 option bytes (multiple of 4, at most 40)")
    p.add_argument("--ipv6-ext", action="append", default=[],
                   choices=sorted(EXT_NEXT_HEADER),
                   help="add an IPv6 extension header; repeatable, in order")
    p.add_argument("--fragment", action="store_true",
                   help="the frames are the fragments of one datagram, "
                        "each --l3-size long, more-fragments set on all "
                        "but the last")
    p.add_argument("--truncate", type=int, metavar="N",
                   help="cut each built frame to N bytes")
    p.add_argument("--bad-ihl", type=int, nargs="?", const=4, metavar="IHL",
                   help="write this IHL (default 4) into the IPv4 header")
    p.add_argument("--bad-version", type=int, nargs="?", const=-1,
                   metavar="V", help="write IP version V (default: the "
                   "other family's) into the header")
    p.add_argument("--length-overclaim", type=int, default=0, metavar="N",
                   help="IP length field claims N bytes more than sent")
    p.add_argument("--ip-length", type=int, metavar="N",
                   help="write N into the IP length field (IPv4 total "
                   "length, IPv6 payload length), whatever was built")
    p.add_argument("--jumbo", type=int, metavar="VALUE",
                   help="IPv6: the hop-by-hop header (added first when "
                   "--ipv6-ext does not start with hop) holds a Jumbo "
                   "Payload option of VALUE, and the payload length is 0")
    p.add_argument("--jumbo-after-router-alert", action="store_true",
                   help="with --jumbo: a Router Alert option before the "
                   "Jumbo Payload option (a 16-byte hop-by-hop header)")
    p.add_argument("--src-spread", type=int, default=1, metavar="N",
                   help="send --count frames from each of N sources: --src, "
                        "then the same host in the next /24 (IPv4) or /48 "
                        "(IPv6), and so on")
    p.add_argument("--interval", type=float, default=0.0, metavar="SECONDS",
                   help="pause between frames")
    return p.parse_args(argv)


def fail(message):
    sys.exit(f"sendraw: {message}")


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6:
        fail(f"bad MAC address {text!r}: want six hex bytes a:b:c:d:e:f")
    return bytes(int(part, 16) for part in parts)


def internet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Packet:
    """What to build, resolved from the command line once."""

    def __init__(self, args):
        self.args = args
        self.src = ipaddress.ip_address(args.src)
        self.dst = ipaddress.ip_address(args.dst)
        if self.src.version != self.dst.version:
            fail(f"--src {self.src} and --dst {self.dst} are different families")
        self.ipv6 = self.src.version == 6
        self.l4_proto = self._l4_proto_number()
        self.ext = list(args.ipv6_ext)
        if self.ipv6 and args.fragment and "frag" not in self.ext:
            self.ext.append("frag")
        if args.jumbo is not None and self.ipv6 and self.ext[:1] != ["hop"]:
            self.ext.insert(0, "hop")
        self._check_options()

    def _l4_proto_number(self):
        if self.args.proto == "icmp":
            return 58 if self.ipv6 else 1
        return socket.IPPROTO_TCP if self.args.proto == "tcp" else socket.IPPROTO_UDP

    def _check_options(self):
        a = self.args
        if a.count < 1:
            fail("--count must be at least 1")
        if a.src_spread < 1:
            fail("--src-spread must be at least 1")
        if self.ipv6 and a.ipv4_options:
            fail("--ipv4-options needs IPv4 addresses")
        if not self.ipv6 and self.ext:
            fail("--ipv6-ext needs IPv6 addresses")
        if a.ipv4_options % 4 or not 0 <= a.ipv4_options <= 40:
            fail("--ipv4-options must be a multiple of 4 between 0 and 40")
        if a.bad_ihl is not None and self.ipv6:
            fail("--bad-ihl needs IPv4 addresses")
        if a.jumbo is not None and not self.ipv6:
            fail("--jumbo needs IPv6 addresses")
        if a.jumbo_after_router_alert and a.jumbo is None:
            fail("--jumbo-after-router-alert needs --jumbo")
        if a.mpls and a.pppoe is not None:
            fail("--mpls and --pppoe do not go together")
        if a.mpls_control_word and not a.mpls:
            fail("--mpls-control-word needs --mpls")
        if a.ppp_protocol is not None and a.pppoe is None:
            fail("--ppp-protocol needs --pppoe")
        for label in a.mpls:
            if not 0 <= label < 1 << 20:
                fail(f"--mpls {label}: an MPLS label is 0-1048575")
        if a.fragment and a.count < 2:
            fail("--fragment needs --count 2 or more (one datagram in COUNT pieces)")
        if a.fragment and self.fragment_data_len() % 8:
            fail(f"--fragment: {self.fragment_data_len()} data bytes per "
                 "fragment; fragment data must be a multiple of 8 bytes")
        if self.l4_len() < L4_HEADER_LEN[a.proto]:
            fail(f"--l3-size {a.l3_size} is too small: headers alone need "
                 f"{self.l3_header_len() + L4_HEADER_LEN[a.proto]} bytes")

    def l3_header_len(self):
        """IP header plus options and extension headers, per frame."""
        if self.ipv6:
            return IPV6_HEADER_LEN + sum(
                self.ext_len(i) for i in range(self.unfragmentable_ext_count()))
        return IPV4_HEADER_LEN + self.args.ipv4_options

    def ext_len(self, index):
        """Length of extension header INDEX of self.ext."""
        if index == 0 and self.args.jumbo_after_router_alert:
            return JUMBO_RA_HOP_LEN
        return EXT_HEADER_LEN

    def unfragmentable_ext_count(self):
        if "frag" in self.ext and self.args.fragment:
            return self.ext.index("frag") + 1
        return len(self.ext)

    def fragment_data_len(self):
        return self.args.l3_size - self.l3_header_len()

    def l4_len(self):
        """Length of the whole L4 datagram (all fragments together)."""
        data = self.fragment_data_len()
        if self.args.fragment:
            data *= self.args.count
        if self.ipv6 and self.args.fragment:
            data -= sum(self.ext_len(i) for i in
                        range(self.unfragmentable_ext_count(), len(self.ext)))
        return data


def pseudo_header(pkt, l4_len):
    if pkt.ipv6:
        return (pkt.src.packed + pkt.dst.packed +
                struct.pack("!I3xB", l4_len, pkt.l4_proto))
    return pkt.src.packed + pkt.dst.packed + struct.pack("!xBH", pkt.l4_proto, l4_len)


def l4_header(pkt, l4_len):
    a = pkt.args
    if a.proto == "udp":
        return struct.pack("!HHHH", a.src_port, a.dst_port, l4_len, 0)
    if a.proto == "tcp":
        return struct.pack("!HHIIBBHHH", a.src_port, a.dst_port, 1, 1,
                           5 << 4, TCP_FLAGS_RST_ACK, 0, 0, 0)
    echo_request = 128 if pkt.ipv6 else 8
    return struct.pack("!BBHHH", echo_request, 0, 0, 0x7478, 1)


L4_CHECKSUM_OFFSET = {"udp": 6, "tcp": 16, "icmp": 2}


def l4_datagram(pkt):
    """The L4 header and payload, checksummed as the receiver expects."""
    length = pkt.l4_len()
    header = l4_header(pkt, length)
    payload = bytes((i & 0xFF) for i in range(length - len(header)))
    datagram = bytearray(header + payload)
    covered = bytes(datagram)
    if not (pkt.args.proto == "icmp" and not pkt.ipv6):
        covered = pseudo_header(pkt, length) + covered
    checksum = internet_checksum(covered)
    if pkt.args.proto == "udp" and checksum == 0:
        checksum = 0xFFFF  # zero means "no checksum" in UDP
    struct.pack_into("!H", datagram, L4_CHECKSUM_OFFSET[pkt.args.proto], checksum)
    return bytes(datagram)


def ipv6_ext_header(kind, next_header, frag_offset=0, more=False, ident=0,
                    jumbo=None, router_alert=False):
    if kind == "hop" and jumbo is not None:
        option = struct.pack("!BBI", IPV6_OPT_JUMBO, 4, jumbo & 0xFFFFFFFF)
        if not router_alert:  # the option at 4n + 2 from the IPv6 header
            return struct.pack("!BB", next_header, 0) + option
        alert = struct.pack("!BBH", IPV6_OPT_ROUTER_ALERT, 2, 0)
        padn = struct.pack("!BB2x", IPV6_OPT_PADN, 2)
        return struct.pack("!BB", next_header, 1) + alert + option + padn
    if kind == "frag":
        return struct.pack("!BBHI", next_header, 0,
                           (frag_offset // 8) << 3 | int(more), ident)
    if kind == "routing":  # type 0 with no segments left: passed over
        return struct.pack("!BBBB4x", next_header, 0, 0, 0)
    padn = struct.pack("!BB4x", 1, 4)  # hop-by-hop / destination options
    return struct.pack("!BB", next_header, 0) + padn


def ext_chain(pkt, kinds, last_next_header, first=False, **frag):
    """Extension headers in order, each naming the one after it. FIRST: the
    chain starts right after the IPv6 header, where --jumbo goes."""
    nexts = [EXT_NEXT_HEADER[k] for k in kinds[1:]] + [last_next_header]
    headers = []
    for i, (k, n) in enumerate(zip(kinds, nexts)):
        jumbo = {}
        if first and i == 0:
            jumbo = {"jumbo": pkt.args.jumbo,
                     "router_alert": pkt.args.jumbo_after_router_alert}
        headers.append(ipv6_ext_header(k, n, **frag, **jumbo))
    return b"".join(headers)


def ipv6_packets(pkt, datagram):
    a = pkt.args
    first_next = EXT_NEXT_HEADER[pkt.ext[0]] if pkt.ext else pkt.l4_proto
    if not a.fragment:
        body = ext_chain(pkt, pkt.ext, pkt.l4_proto, first=True) + datagram
        return [ipv6_header(pkt, first_next, len(body)) + body] * a.count
    split = pkt.unfragmentable_ext_count()
    before, after = pkt.ext[:split - 1], pkt.ext[split:]
    after_next = EXT_NEXT_HEADER[after[0]] if after else pkt.l4_proto
    fragmentable = ext_chain(pkt, after, pkt.l4_proto) + datagram
    size = pkt.fragment_data_len()
    packets = []
    for i in range(a.count):
        offset = i * size
        more = i < a.count - 1
        frag = ipv6_ext_header("frag", after_next, offset, more, 0x74780001)
        body = (ext_chain(pkt, before, EXT_NEXT_HEADER["frag"], first=True) + frag +
                fragmentable[offset:offset + size])
        packets.append(ipv6_header(pkt, first_next, len(body)) + body)
    return packets


def ipv6_header(pkt, next_header, payload_len):
    version = 6 if pkt.args.bad_version is None else bad_version(pkt)
    payload_len += pkt.args.length_overclaim
    if pkt.args.jumbo is not None:
        payload_len = 0
    if pkt.args.ip_length is not None:
        payload_len = pkt.args.ip_length
    return (struct.pack("!IHBB", version << 28, payload_len & 0xFFFF,
                        next_header, TTL) + pkt.src.packed + pkt.dst.packed)


def bad_version(pkt):
    if pkt.args.bad_version >= 0:
        return pkt.args.bad_version & 0xF
    return 4 if pkt.ipv6 else 6


def ipv4_packets(pkt, datagram):
    a = pkt.args
    if not a.fragment:
        return [ipv4_header(pkt, len(datagram), ident=0x7478 + i) + datagram
                for i in range(a.count)]
    size = pkt.fragment_data_len()
    packets = []
    for i in range(a.count):
        offset = i * size
        flags = (IPV4_MF if i < a.count - 1 else 0) | offset // 8
        piece = datagram[offset:offset + size]
        packets.append(ipv4_header(pkt, len(piece), 0x7478, flags) + piece)
    return packets


def ipv4_header(pkt, data_len, ident, flags_offset=0):
    a = pkt.args
    header_len = IPV4_HEADER_LEN + a.ipv4_options
    ihl = header_len // 4 if a.bad_ihl is None else a.bad_ihl & 0xF
    version = 4 if a.bad_version is None else bad_version(pkt)
    total_len = (header_len + data_len + a.length_overclaim) & 0xFFFF
    if a.ip_length is not None:
        total_len = a.ip_length & 0xFFFF
    options = b"\x01" * a.ipv4_options  # NOPs: valid, change nothing
    header = bytearray(struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0,
                                   total_len, ident & 0xFFFF, flags_offset,
                                   TTL, pkt.l4_proto, 0, pkt.src.packed,
                                   pkt.dst.packed) + options)
    struct.pack_into("!H", header, 10, internet_checksum(bytes(header)))
    return bytes(header)


def link_header(pkt, src_mac, packet):
    """Everything before the IP packet: Ethernet, VLAN tags, and an MPLS
    label stack or a PPPoE session header."""
    a = pkt.args
    header = mac_bytes(a.dst_mac) + src_mac
    for i, vid in enumerate(a.vlan):
        if not 0 <= vid <= 4095:
            fail(f"--vlan {vid}: a VLAN id is 0-4095")
        tpid = ETH_P_8021AD if i == 0 and len(a.vlan) >= 2 else ETH_P_8021Q
        header += struct.pack("!HH", tpid, vid)
    ethertype, carrier = ETH_P_IPV6 if pkt.ipv6 else ETH_P_IPV4, b""
    if a.mpls:
        ethertype = ETH_P_MPLS_UC
        for i, label in enumerate(a.mpls):
            bottom = int(i == len(a.mpls) - 1)
            carrier += struct.pack("!I", label << 12 | bottom << 8 | MPLS_TTL)
        if a.mpls_control_word:
            carrier += bytes(4)
    elif a.pppoe is not None:
        ethertype = ETH_P_PPP_SES
        protocol = PPP_PROTO[6 if pkt.ipv6 else 4]
        if a.ppp_protocol is not None:
            protocol = a.ppp_protocol
        # The PPPoE length covers the PPP protocol field and the packet.
        carrier = struct.pack("!BBHHH", PPPOE_VER_TYPE, 0, a.pppoe & 0xFFFF,
                              2 + len(packet), protocol)
    if a.ethertype is not None:
        ethertype = a.ethertype
    return header + struct.pack("!H", ethertype & 0xFFFF) + carrier


def open_socket(iface):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        sock.bind((iface, 0))  # protocol 0: send only, receive nothing
    except OSError as e:
        fail(f"cannot bind to interface {iface}: {e.strerror}")
    return sock


def build_frames(pkt, src_mac):
    datagram = l4_datagram(pkt)
    packets = (ipv6_packets if pkt.ipv6 else ipv4_packets)(pkt, datagram)
    l2 = link_header(pkt, src_mac, packets[0])
    frames = [link_header(pkt, src_mac, packet) + packet for packet in packets]
    if pkt.args.truncate is not None:
        frames = [frame[:pkt.args.truncate] for frame in frames]
    return frames, len(l2)


def describe(pkt, frames, l2_len):
    a = pkt.args
    family = "ipv6" if pkt.ipv6 else "ipv4"
    sizes = sorted({len(f) for f in frames})
    l3 = sorted({max(len(f) - l2_len, 0) for f in frames})
    tags = "".join(f" vlan {v}" for v in a.vlan)
    tags += "".join(f" mpls {label}" for label in a.mpls)
    if a.pppoe is not None:
        tags += f" pppoe {a.pppoe}"
    extra = " fragments" if a.fragment else ""
    return (f"sendraw: sent {len(frames)} frames on {a.iface}: {family}/"
            f"{a.proto} {pkt.src} > {pkt.dst}{tags}{extra}, "
            f"l3_bytes={'/'.join(map(str, l3))} each, "
            f"frame_bytes={'/'.join(map(str, sizes))} each, "
            f"l3_total={sum(max(len(f) - l2_len, 0) for f in frames)}")


def main(argv):
    args = parse_args(argv)
    pkt = Packet(args)
    sock = open_socket(args.iface)
    src_mac = mac_bytes(args.src_mac) if args.src_mac else sock.getsockname()[4]
    frames, l2_len = [], 0
    base, step = pkt.src, 1 << 80 if pkt.ipv6 else 1 << 8
    for k in range(args.src_spread):
        pkt.src = base + k * step
        built, l2_len = build_frames(pkt, src_mac)
        frames += built
    pkt.src = base
    for i, frame in enumerate(frames):
        if i and args.interval:
            time.sleep(args.interval)
        try:
            sock.send(frame)
        except OSError as e:
            fail(f"sending frame {i + 1} ({len(frame)} bytes) on "
                 f"{args.iface} failed: {e.strerror}")
    print(describe(pkt, frames, l2_len))


if __name__ == "__main__":
    main(sys.argv[1:])
