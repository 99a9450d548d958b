// SPDX-License-Identifier: Apache-2.0
// Capture files: a small classic pcap (SIP behind a VLAN tag, two RTP flows over IPv4 and
// IPv6 with an extension header, an IPv4 fragment, SIP over TCP) is indexed as such and,
// holding no tone, written back byte for byte; a TCP segment's SIP payload is replaced only
// by one of the same length and written with a valid checksum; then every truncation and thousands of byte mutations
// of the file are read, scrubbed and written without a crash or a read out of bounds
// (run under ASan/UBSan too) and without losing a frame. `--write-seeds DIR` writes the
// captures as the seeds of the coverage-guided fuzzer (fuzz_capture.cpp).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "pcifilter/capture.hpp"
#include "pcifilter/signalling.hpp"

using namespace pcifilter;
using Bytes = std::vector<std::uint8_t>;

namespace {

void put(Bytes& b, std::uint32_t v, int n, bool big = true) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * (big ? n - 1 - i : i))));
}

Bytes udp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
    Bytes u;
    put(u, sport, 2), put(u, dport, 2), put(u, static_cast<std::uint32_t>(8 + payload.size()), 2), put(u, 0, 2);
    u.insert(u.end(), payload.begin(), payload.end());
    return u;
}

// A TCP segment (PSH+ACK, checksum left 0): SIP over TCP on ports 5060 by default.
Bytes tcp(const Bytes& payload, std::uint16_t sport = 5060, std::uint16_t dport = 5060, std::uint32_t seq = 1000) {
    Bytes t;
    put(t, sport, 2), put(t, dport, 2), put(t, seq, 4), put(t, 1, 4);
    t.insert(t.end(), {0x50, 0x18});
    put(t, 65535, 2), put(t, 0, 2), put(t, 0, 2);
    t.insert(t.end(), payload.begin(), payload.end());
    return t;
}

Bytes ipv4(const Bytes& body, std::uint16_t frag = 0, std::uint8_t proto = 17) {
    Bytes ip = {0x45, 0};
    put(ip, static_cast<std::uint32_t>(20 + body.size()), 2), put(ip, 1, 2), put(ip, frag, 2);
    ip.insert(ip.end(), {64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
    ip.insert(ip.end(), body.begin(), body.end());
    return ip;
}

Bytes ipv6(const Bytes& body) {  // with a hop-by-hop options header (8 bytes) before UDP
    Bytes ip = {0x60, 0, 0, 0};
    put(ip, static_cast<std::uint32_t>(8 + body.size()), 2);
    ip.insert(ip.end(), {0, 64});
    for (int i = 0; i < 32; ++i) ip.push_back(static_cast<std::uint8_t>(i < 16 ? 0xfd : i));
    ip.insert(ip.end(), {17, 0, 1, 4, 0, 0, 0, 0});
    ip.insert(ip.end(), body.begin(), body.end());
    return ip;
}

Bytes ipv6_fragment(const Bytes& data, std::uint16_t offset, bool more, std::uint32_t id) {
    Bytes ip = {0x60, 0, 0, 0};
    put(ip, static_cast<std::uint32_t>(8 + data.size()), 2);
    ip.insert(ip.end(), {44, 64});
    for (int i = 0; i < 32; ++i) ip.push_back(static_cast<std::uint8_t>(i < 16 ? 0xfd : i));
    ip.insert(ip.end(), {17, 0});
    put(ip, static_cast<std::uint32_t>(offset / 8 << 3 | (more ? 1 : 0)), 2), put(ip, id, 4);
    ip.insert(ip.end(), data.begin(), data.end());
    return ip;
}

Bytes ethernet(const Bytes& ip, bool v6, bool vlan) {
    Bytes e(12, 0x02);
    if (vlan) put(e, 0x8100, 2), put(e, 42, 2);
    put(e, v6 ? 0x86DD : 0x0800, 2);
    e.insert(e.end(), ip.begin(), ip.end());
    return e;
}

Bytes rtp(std::uint16_t seq, std::uint32_t ssrc) {
    Bytes r = {0x80, 0};
    put(r, seq, 2), put(r, 160u * seq, 4), put(r, ssrc, 4);
    r.insert(r.end(), 160, 0xFF);  // µ-law silence: nothing to mask
    return r;
}

Bytes capture() {
    Bytes f;
    put(f, 0xA1B2C3D4, 4, false), put(f, 2, 2, false), put(f, 4, 2, false);
    put(f, 0, 4, false), put(f, 0, 4, false), put(f, 65535, 4, false), put(f, 1, 4, false);
    std::uint32_t t = 0;
    const auto record = [&](const Bytes& frame) {
        put(f, 1000, 4, false), put(f, t += 20000, 4, false);
        put(f, static_cast<std::uint32_t>(frame.size()), 4, false), put(f, static_cast<std::uint32_t>(frame.size()), 4, false);
        f.insert(f.end(), frame.begin(), frame.end());
    };
    const std::string invite = "INVITE sip:pay@10.0.0.2 SIP/2.0\r\n\r\n";
    record(ethernet(ipv4(udp(5060, 5060, Bytes(invite.begin(), invite.end()))), false, true));
    for (std::uint16_t k = 0; k < 8; ++k) {
        record(ethernet(ipv4(udp(40000, 50000, rtp(k, 0xA))), false, false));
        record(ethernet(ipv6(udp(40002, 50002, rtp(k, 0xB))), true, false));
    }
    record(ethernet(ipv4(udp(40000, 50000, rtp(9, 0xA)), 0x2000), false, false));  // a fragment
    record(ethernet(ipv6_fragment(Bytes(40, 0x33), 1480, false, 0xABCDEF01), true, false));  // the last one
    const std::string info = "INFO sip:pay@10.0.0.2 SIP/2.0\r\n\r\nSignal=5\r\n";
    record(ethernet(ipv4(tcp(Bytes(info.begin(), info.end())), 0, 6), false, false));  // SIP over TCP
    return f;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A WebSocket frame (RFC 6455 §5.2) masked with `key`, FIN set.
Bytes ws_frame(const std::string& payload, std::uint8_t opcode, const Bytes& key) {
    Bytes f = {static_cast<std::uint8_t>(0x80 | opcode)};
    if (payload.size() < 126) {
        f.push_back(static_cast<std::uint8_t>(0x80 | payload.size()));
    } else {
        f.push_back(0x80 | 126);
        put(f, static_cast<std::uint32_t>(payload.size()), 2);
    }
    f.insert(f.end(), key.begin(), key.end());
    for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<std::uint8_t>(payload[i] ^ key[i % 4]));
    return f;
}

Bytes pcap_header() {
    Bytes f;
    put(f, 0xA1B2C3D4, 4, false), put(f, 2, 2, false), put(f, 4, 2, false);
    put(f, 0, 4, false), put(f, 0, 4, false), put(f, 65535, 4, false), put(f, 1, 4, false);
    return f;
}

void put_record(Bytes& f, const Bytes& frame, std::uint32_t usec) {
    put(f, 1000, 4, false), put(f, usec, 4, false);
    put(f, static_cast<std::uint32_t>(frame.size()), 4, false), put(f, static_cast<std::uint32_t>(frame.size()), 4, false);
    f.insert(f.end(), frame.begin(), frame.end());
}

// SIP over WebSocket (RFC 7118) beside HTTP: a browser's handshake naming "sip" and its
// masked frames (an INFO, then a text that is no SIP); an HTTP request whose headers fit its
// segment (no SIP); one whose headers do not (its connection may be SIP over WebSocket: the
// caller reads it reassembled); a first segment of two bytes.
Bytes websocket_capture() {
    Bytes f = pcap_header();
    std::uint32_t t = 0;
    const auto record = [&](const Bytes& segment) { put_record(f, ethernet(ipv4(segment, 0, 6), false, false), t += 20000); };
    const std::string handshake =
        "GET / HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, SIP\r\n\r\n";
    const Bytes info = ws_frame("INFO sip:pay@10.0.0.2 SIP/2.0\r\n\r\nSignal=5\r\n", 1, {0x11, 0x22, 0x33, 0x44});
    const Bytes other = ws_frame("hello", 1, {1, 2, 3, 4});
    auto seq = static_cast<std::uint32_t>(handshake.size() + 1);
    record(tcp(text(handshake), 50123, 8080, 1));
    record(tcp(info, 50123, 8080, seq));
    record(tcp(other, 50123, 8080, seq + static_cast<std::uint32_t>(info.size())));
    record(tcp(text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 50200, 80, 1));
    record(tcp(text("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=b"), 50300, 80, 1));
    record(tcp(text("GE"), 50400, 80, 1));
    return f;
}

// Tunnels a mirror port or a cloud's traffic mirroring puts calls in (the outer addresses
// are ipv4()'s, 10.0.0.1 -> 10.0.0.2): VXLAN over UDP 4789 (outer UDP checksum set to a
// placeholder, to be made valid), GRE with a checksum (left 0, likewise), ERSPAN type III
// (GRE with a sequence number, then 12 bytes with the O bit clear) around Ethernet.
Bytes vxlan(const Bytes& inner_ethernet) {
    Bytes v = {0x08, 0, 0, 0, 0, 0, 42, 0};
    v.insert(v.end(), inner_ethernet.begin(), inner_ethernet.end());
    Bytes u = udp(49152, 4789, v);
    u[6] = 0x12, u[7] = 0x34;
    return ipv4(u);
}

Bytes gre_checksummed(const Bytes& inner_ip) {
    Bytes g = {0x80, 0, 0x08, 0x00, 0, 0, 0, 0};
    g.insert(g.end(), inner_ip.begin(), inner_ip.end());
    return ipv4(g, 0, 47);
}

Bytes erspan3(const Bytes& inner_ethernet) {
    Bytes g = {0x10, 0, 0x22, 0xEB, 0, 0, 0, 7};
    g.insert(g.end(), {0x20, 0x05, 0, 0, 0, 0, 0x30, 0x39, 0, 0, 0, 0});
    g.insert(g.end(), inner_ethernet.begin(), inner_ethernet.end());
    return ipv4(g, 0, 47);
}

Bytes pcap_of(const std::vector<Bytes>& frames) {
    Bytes f;
    put(f, 0xA1B2C3D4, 4, false), put(f, 2, 2, false), put(f, 4, 2, false);
    put(f, 0, 4, false), put(f, 0, 4, false), put(f, 65535, 4, false), put(f, 1, 4, false);
    std::uint32_t t = 0;
    for (const Bytes& frame : frames) {
        put(f, 1000, 4, false), put(f, t += 20000, 4, false);
        put(f, static_cast<std::uint32_t>(frame.size()), 4, false), put(f, static_cast<std::uint32_t>(frame.size()), 4, false);
        f.insert(f.end(), frame.begin(), frame.end());
    }
    return f;
}

// A media relay's messages (rtpengine's ng over UDP, its DTMF log) among other UDP, then ng
// over TCP, an AMI event (a PBX's event channel), a TCP segment of neither, and the DTMF
// log forwarded by syslog over TCP.
Bytes relay_capture() {
    Bytes dtmf_rtp = rtp(7, 0xC);
    const std::string dtmf = "\"DTMF\"";  // in an RTP payload: RTP, not a log
    dtmf_rtp.insert(dtmf_rtp.end(), dtmf.begin(), dtmf.end());
    return pcap_of({
        ethernet(ipv4(udp(40123, 2223, text("5_1 d7:command9:play DTMF4:code1:9e"))), false, false),
        ethernet(ipv4(udp(2223, 40123, text("5_1 {\"result\":\"ok\"}"))), false, false),
        ethernet(ipv4(udp(41000, 9999, text("{\"type\":\"DTMF\",\"event\":7}"))), false, false),
        ethernet(ipv4(udp(41000, 9999, text("5_1d no space"))), false, false),
        ethernet(ipv4(udp(41000, 9999, text("5_1 x not a dictionary"))), false, false),
        ethernet(ipv4(udp(41000, 9999, text("Subject: details of the call"))), false, false),
        ethernet(ipv4(udp(40000, 50000, dtmf_rtp)), false, false),
        ethernet(ipv4(tcp(text("6_1 d7:command9:play DTMF4:codei9ee"), 40124, 2224), 0, 6), false, false),
        ethernet(ipv4(tcp(text("Event: DTMFEnd\r\nDigit: 5\r\n\r\n"), 5038, 40125), 0, 6), false, false),
        ethernet(ipv4(tcp(text("Subject: details"), 40126, 25), 0, 6), false, false),
        ethernet(ipv4(tcp(text("74 <30>Dec  1 12:00:00 relay rtpengine[42]: {\"type\":\"DTMF\",\"event\":7}"), 40127, 6514), 0, 6), false, false),
    });
}

Bytes tunnel_capture() {
    const std::string message = "MESSAGE sip:a@b SIP/2.0\r\n\r\n", info = "INFO sip:a@b SIP/2.0\r\n\r\n";
    std::vector<Bytes> frames;
    frames.push_back(ethernet(vxlan(ethernet(ipv4(udp(5060, 5060, Bytes(message.begin(), message.end()))), false, true)), false, false));
    frames.push_back(ethernet(gre_checksummed(ipv4(udp(5060, 5060, Bytes(info.begin(), info.end())))), false, false));
    for (std::uint16_t k = 0; k < 4; ++k) {
        frames.push_back(ethernet(gre_checksummed(ipv4(udp(40000, 50000, rtp(k, 0xC)))), false, false));
        frames.push_back(ethernet(erspan3(ethernet(ipv6(udp(40002, 50002, rtp(k, 0xD))), true, false)), false, false));
    }
    // A GRE packet's first IP fragment: listed (protocol 47) for the caller to leave out.
    Bytes gre_head = {0x00, 0, 0x08, 0x00};
    gre_head.insert(gre_head.end(), 40, 0x55);
    frames.push_back(ethernet(ipv4(gre_head, 0x2000, 47), false, false));
    return pcap_of(frames);
}

// A provider's link layers around IP: MPLS (a VLAN tag, two labels), an Ethernet pseudowire
// (a label, a control word, an Ethernet frame), a PPPoE session (its length counts the PPP
// protocol field).
Bytes mpls(const Bytes& ip) {
    Bytes e(12, 0x02);
    e.insert(e.end(), {0x81, 0x00, 0x00, 0x2a, 0x88, 0x47, 0x00, 0x01, 0x00, 64, 0x00, 0x01, 0x11, 64});
    e.insert(e.end(), ip.begin(), ip.end());
    return e;
}
Bytes pseudowire(const Bytes& ethernet_frame) {
    Bytes e(12, 0x02);
    e.insert(e.end(), {0x88, 0x47, 0x00, 0x01, 0x21, 64, 0, 0, 0, 0});
    e.insert(e.end(), ethernet_frame.begin(), ethernet_frame.end());
    return e;
}
Bytes pppoe(const Bytes& ip) {
    Bytes e(12, 0x02);
    e.insert(e.end(), {0x88, 0x64, 0x11, 0x00, 0x12, 0x34});
    put(e, static_cast<std::uint32_t>(ip.size() + 2), 2);
    e.insert(e.end(), {0x00, 0x21});
    e.insert(e.end(), ip.begin(), ip.end());
    return e;
}

// GTP-U (UDP 2152): a G-PDU with a sequence number and one extension header, then IP.
Bytes gtp(const Bytes& ip) {
    Bytes g = {0x36, 0xFF};
    put(g, static_cast<std::uint32_t>(8 + ip.size()), 2);
    g.insert(g.end(), {0, 0xAB, 0xCD, 0xEF, 0x12, 0x34, 0, 0x85, 0x01, 0x10, 0x09, 0x00});
    g.insert(g.end(), ip.begin(), ip.end());
    return ethernet(ipv4(udp(2152, 2152, g)), false, false);
}

Bytes link_capture() {
    const std::string message = "MESSAGE sip:a@b SIP/2.0\r\n\r\n", info = "INFO sip:a@b SIP/2.0\r\n\r\n";
    std::vector<Bytes> frames;
    frames.push_back(mpls(ipv4(udp(5060, 5060, Bytes(message.begin(), message.end())))));
    frames.push_back(pppoe(ipv4(udp(5060, 5060, Bytes(info.begin(), info.end())))));
    for (std::uint16_t k = 0; k < 4; ++k) {
        frames.push_back(pseudowire(ethernet(ipv4(udp(40000, 50000, rtp(k, 0xC))), false, false)));
        frames.push_back(pppoe(ipv4(udp(40002, 50002, rtp(k, 0xD)))));
        frames.push_back(gtp(ipv4(udp(40004, 50004, rtp(k, 0xE)))));
    }
    // An MGCP gateway's notification of a keypress: listed with the control messages.
    frames.push_back(ethernet(ipv4(udp(2427, 2727, text("NTFY 12 aaln/1@gw MGCP 1.0\r\nO: D/4\r\n"))), false, false));
    // An H.245 UserInputIndication (alphanumeric "4") in TPKT.
    frames.push_back(ethernet(ipv4(tcp({3, 0, 0, 8, 0x6d, 0x40, 1, '4'}, 11000, 11001), 0, 6), false, false));
    // SIP over SCTP: a DATA chunk (16-byte header) holding an INFO; left out.
    Bytes sctp = {0x13, 0xc4, 0x13, 0xc4, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 3};
    put(sctp, static_cast<std::uint32_t>(16 + info.size()), 2);
    sctp.insert(sctp.end(), {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0});
    sctp.insert(sctp.end(), info.begin(), info.end());
    frames.push_back(ethernet(ipv4(sctp, 0, 132), false, false));
    return pcap_of(frames);
}

// RFC 1071 over a pseudo-header (addresses `src` and `dst`, `alen` bytes each; protocol
// `proto`) and the UDP datagram or TCP segment from `at` to `end` of the frame: 0xFFFF when
// its checksum is valid.
std::uint32_t transport_sum(const std::uint8_t* frame, const std::uint8_t* src, const std::uint8_t* dst,
                            std::size_t alen, unsigned proto, std::size_t at, std::size_t end) {
    std::uint64_t s = proto + (end - at);
    for (std::size_t i = 0; i < alen; i += 2) s += (src[i] << 8) | src[i + 1];
    for (std::size_t i = 0; i < alen; i += 2) s += (dst[i] << 8) | dst[i + 1];
    for (std::size_t i = at; i < end; i += 2) s += (frame[i] << 8) | (i + 1 < end ? frame[i + 1] : 0);
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return static_cast<std::uint32_t>(s);
}

// An IPv6 packet with a Segment Routing header (RFC 8754; two segments, one left: the final
// destination fd00::99 is Segment List[0], the header's destination the current segment).
Bytes ipv6_srh(const Bytes& body) {
    Bytes ip = {0x60, 0, 0, 0};
    put(ip, static_cast<std::uint32_t>(40 + body.size()), 2);
    ip.insert(ip.end(), {43, 64});
    for (int i = 0; i < 32; ++i) ip.push_back(static_cast<std::uint8_t>(i < 16 ? 0xfd : i));
    ip.insert(ip.end(), {17, 4, 4, 1, 1, 0, 0, 0});  // next, length (40 bytes), type 4, left 1, last 1
    for (int i = 0; i < 16; ++i) ip.push_back(static_cast<std::uint8_t>(i == 0 ? 0xfd : i == 15 ? 0x99 : 0));
    for (int i = 0; i < 16; ++i) ip.push_back(static_cast<std::uint8_t>(ip[24 + i]));  // the current one
    ip.insert(ip.end(), body.begin(), body.end());
    return ip;
}

struct TempFile {
    std::string path;
    explicit TempFile(const char* name) {
        char tmpl[] = "/tmp/pcifilter-capture-XXXXXX";
        const int fd = mkstemp(tmpl);
        if (fd >= 0) close(fd);
        path = std::string(tmpl) + name;
        std::remove(tmpl);
    }
    ~TempFile() { std::remove(path.c_str()); }
    void write(const Bytes& b) const { std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size())); }
    Bytes read() const {
        std::ifstream in(path, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(in), {});
    }
};

// Reads, scrubs every flow, writes; false if the file was refused (a clean error).
bool round_trip(const TempFile& in, const TempFile& out, std::size_t* frames_in, std::size_t* frames_out) {
    try {
        Capture c(in.path);
        for (std::size_t i = 0; i < c.flows().size(); ++i) {
            StreamFilter f{StreamFilterParams{}};
            c.scrub(i, f);
        }
        *frames_in = c.size();
        *frames_out = c.write(out.path);
        return true;
    } catch (const std::invalid_argument&) {
        return false;
    }
}

}  // namespace

namespace {

// A classic pcap as our builders write it (little-endian, microseconds) made a pcapng: a
// section header, one interface of the same link type (microseconds), an enhanced packet
// block a record; every third record's time `late_us` (a corrupt or hostile file's, past
// what nanoseconds since 1970 hold in 64 bits) when not 0.
Bytes pcapng_from(const Bytes& pcap, std::uint64_t late_us) {
    const auto u32 = [&](std::size_t at) {
        return std::uint32_t{pcap[at]} | std::uint32_t{pcap[at + 1]} << 8 | std::uint32_t{pcap[at + 2]} << 16 |
               std::uint32_t{pcap[at + 3]} << 24;
    };
    Bytes f;
    put(f, 0x0A0D0D0A, 4, false), put(f, 28, 4, false), put(f, 0x1A2B3C4D, 4, false);
    put(f, 1, 2, false), put(f, 0, 2, false), put(f, 0xFFFFFFFF, 4, false), put(f, 0xFFFFFFFF, 4, false);
    put(f, 28, 4, false);
    put(f, 1, 4, false), put(f, 20, 4, false), put(f, u32(20), 2, false), put(f, 0, 2, false);
    put(f, 65535, 4, false), put(f, 20, 4, false);
    int k = 0;
    for (std::size_t at = 24; at + 16 <= pcap.size(); ++k) {
        const std::uint32_t caplen = u32(at + 8);
        std::uint64_t ts = std::uint64_t{u32(at)} * 1000000 + u32(at + 4);
        if (late_us != 0 && k % 3 == 2) ts = late_us;
        const std::uint32_t padded = (caplen + 3) & ~3u, total = 32 + padded;
        put(f, 6, 4, false), put(f, total, 4, false), put(f, 0, 4, false);
        put(f, static_cast<std::uint32_t>(ts >> 32), 4, false), put(f, static_cast<std::uint32_t>(ts), 4, false);
        put(f, caplen, 4, false), put(f, u32(at + 12), 4, false);
        f.insert(f.end(), pcap.begin() + static_cast<std::ptrdiff_t>(at + 16),
                 pcap.begin() + static_cast<std::ptrdiff_t>(at + 16 + caplen));
        f.resize(f.size() + (padded - caplen), 0);
        put(f, total, 4, false);
        at += 16 + caplen;
    }
    return f;
}

// HTTP/2 frames at a segment's start (a connection caught after its start): found as a
// sender writes them, whole, cut by the segment's end or running past it; not where a header
// breaks a rule of RFC 9113 §6, nor in random bytes (about one segment in millions).
void check_http2_frames() {
    const auto frame = [](std::uint32_t length, std::uint8_t kind, std::uint8_t flags, std::uint32_t sid) {
        Bytes f;
        put(f, length, 3);
        f.push_back(kind), f.push_back(flags);
        put(f, sid, 4);
        f.resize(f.size() + length, 'a');
        return f;
    };
    const auto starts = [](const Bytes& b, std::size_t n) { return starts_http2_frames(b.data(), n); };
    Bytes two = frame(20, 1, 0x04, 3);  // HEADERS (END_HEADERS), then DATA (END_STREAM)
    const Bytes data = frame(100, 0, 0x01, 3);
    two.insert(two.end(), data.begin(), data.end());
    CHECK(starts(two, two.size()) && starts(two, 29 + 50) && starts(two, 29 + 5) && starts(two, 9));
    CHECK(starts(frame(4, 8, 0, 0), 13) && starts(frame(8, 6, 1, 0), 17));  // WINDOW_UPDATE, PING ACK
    CHECK(!starts(frame(20, 1, 0x04, 0), 29));         // HEADERS on stream 0
    CHECK(!starts(frame(20, 1, 0x02, 3), 29));         // a flag HEADERS does not have
    CHECK(!starts(frame(8, 6, 0, 3), 17));             // PING on a stream
    CHECK(!starts(frame(5, 8, 0, 0), 14));             // WINDOW_UPDATE of 5 bytes
    CHECK(!starts(frame(20000, 0, 0, 1), 1400));       // longer than the default maximum
    CHECK(!starts(frame(4, 11, 0, 0), 13));            // a type RFC 9113 does not define
    CHECK(!starts(frame(20, 1, 0x04, 0x80000003u), 29));  // the reserved bit set
    Bytes bad = two;
    bad[29 + 3] = 12;  // the second header broken
    CHECK(!starts(bad, bad.size()));
    std::mt19937 rng(11);
    Bytes random(1400);
    int found = 0;
    for (int i = 0; i < 100000; ++i) {
        for (auto& b : random) b = static_cast<std::uint8_t>(rng());
        found += starts(random, random.size());
    }
    CHECK(found <= 1);
}

}  // namespace

int main(int argc, char** argv) {
    check_http2_frames();
    const Bytes file = capture();
    if (argc == 3 && std::string(argv[1]) == "--write-seeds") {  // for the coverage-guided fuzzer
        const Bytes tunnels = tunnel_capture();
        std::ofstream(std::string(argv[2]) + "/seed.pcap", std::ios::binary)
            .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
        std::ofstream(std::string(argv[2]) + "/tunnels.pcap", std::ios::binary)
            .write(reinterpret_cast<const char*>(tunnels.data()), static_cast<std::streamsize>(tunnels.size()));
        const Bytes websocket = websocket_capture();
        std::ofstream(std::string(argv[2]) + "/websocket.pcap", std::ios::binary)
            .write(reinterpret_cast<const char*>(websocket.data()), static_cast<std::streamsize>(websocket.size()));
        const Bytes links = link_capture();
        std::ofstream(std::string(argv[2]) + "/links.pcap", std::ios::binary)
            .write(reinterpret_cast<const char*>(links.data()), static_cast<std::streamsize>(links.size()));
        const Bytes relay = relay_capture();
        std::ofstream(std::string(argv[2]) + "/relay.pcap", std::ios::binary)
            .write(reinterpret_cast<const char*>(relay.data()), static_cast<std::streamsize>(relay.size()));
        const Bytes ng = pcapng_from(file, std::uint64_t{16784151343} * 1000000);  // the year 2501
        std::ofstream(std::string(argv[2]) + "/seed.pcapng", std::ios::binary)
            .write(reinterpret_cast<const char*>(ng.data()), static_cast<std::streamsize>(ng.size()));
        return 0;
    }
    {  // pcapng, its times past the year 2262 (a corrupt or hostile file's): read, scrubbed
       // and written, every frame, the time held at the last nanoseconds since 1970 hold
       // (before, a signed overflow: UBSan's finding on a fuzzed pcapng)
        for (const std::uint64_t late : {std::uint64_t{0}, std::uint64_t{16784151343} * 1000000, ~std::uint64_t{0}}) {
            TempFile in(".pcapng"), out(".out.pcapng");
            in.write(pcapng_from(file, late));
            std::size_t n_in = 0, n_out = 0;
            CHECK(round_trip(in, out, &n_in, &n_out) && n_in == n_out && n_in > 10);
        }
    }
    {  // SIP over WebSocket: which segments start it, which connections carry SIP
        TempFile ws(".pcap");
        ws.write(websocket_capture());
        const Capture c(ws.path);
        const std::vector<TcpSegment> segments = c.sip_tcp_segments();
        CHECK(segments.size() == 6);  // the HTTP request whose headers fit its segment: listed
        if (segments.size() == 6) {  // as HTTP (its bodies are read decoded), not WebSocket
            CHECK(segments[0].websocket && segments[1].websocket && !segments[2].websocket);
            CHECK(segments[0].connection == segments[2].connection && segments[3].connection != segments[0].connection);
            CHECK(segments[3].frame == 3 && !segments[3].websocket);
            CHECK(segments[4].frame == 4 && segments[4].websocket && segments[5].frame == 5 && segments[5].websocket);
        }
        CHECK(c.sip_frames().empty());  // SIP inside frames is not a message start of its own
    }
    {  // a media relay's control messages and DTMF log are listed; RTP and other UDP are not;
       // ng over TCP and a PBX's event channel are listed with SIP's connections
        TempFile relay(".pcap");
        relay.write(relay_capture());
        const Capture c(relay.path);
        CHECK((c.relay_frames() == std::vector<std::uint32_t>{0, 1, 2}) && c.flows().size() == 1);
        const std::vector<TcpSegment> segments = c.sip_tcp_segments();
        CHECK(segments.size() == 3 && segments[0].frame == 7 && segments[1].frame == 8 && segments[2].frame == 10);
    }
    {  // card numbers in clear outside the audio: masked in place, the rest as it was
        TempFile cards(".pcap"), masked(".out.pcap");
        cards.write(pcap_of({
            ethernet(ipv4(udp(5060, 5060, text("card 4111 1111 1111 1111 exp 1227, id 4111111111111112"))), false, false),
            ethernet(ipv4(tcp(text("pan=5555-5555-5555-4444&n=12345678901234567890"), 40000, 80), 0, 6), false, false),
            ethernet(ipv4(udp(40000, 50000, rtp(1, 0xA))), false, false),
        }));
        Capture c(cards.path);
        CHECK(c.mask_card_numbers() == 2);
        CHECK(c.write(masked.path) == 3);
        const Capture back(masked.path);
        const auto [u, un] = back.udp_payload(0);
        CHECK(std::string(reinterpret_cast<const char*>(u), un) == "card XXXX XXXX XXXX XXXX exp 1227, id 4111111111111112");
        const auto [t, tn] = back.udp_payload(1);
        CHECK(std::string(reinterpret_cast<const char*>(t), tn) == "pan=XXXX-XXXX-XXXX-XXXX&n=12345678901234567890");
    }
    {  // Asterisk's ARI events: the client's GET /ari/events names the server's direction
        TempFile ari(".pcap");
        const auto from_server = [](const char* s, std::uint16_t client_port, std::uint32_t seq) {
            Bytes ip = ipv4(tcp(text(s), 8088, client_port, seq), 0, 6);
            std::swap_ranges(ip.begin() + 12, ip.begin() + 16, ip.begin() + 16);  // 10.0.0.2 -> 10.0.0.1
            return ethernet(ip, false, false);
        };
        const char* accept = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        ari.write(pcap_of({
            ethernet(ipv4(tcp(text("GET /ari/events?app=pay HTTP/1.1\r\n\r\n"), 40200, 8088, 1), 0, 6), false, false),
            from_server(accept, 40200, 9000),
            from_server("events", 40200, 9100),
            from_server(accept, 40300, 9000),  // another connection's: not named
        }));
        const Capture c(ari.path);
        const std::vector<TcpSegment> segments = c.sip_tcp_segments();
        // (the other connection's 101 is listed as HTTP, not marked WebSocket)
        CHECK(segments.size() == 4 && segments[1].frame == 1 && segments[2].frame == 2 && segments[3].frame == 3);
        CHECK(segments[1].connection == segments[2].connection && segments[0].connection != segments[1].connection);
        CHECK(segments[1].websocket && !segments[2].websocket && !segments[3].websocket);
    }
    {  // a card number across TCP segments: joined in sequence order; a shorter resent copy
       // inside the run swept on its own; an overlap that is no copy starts a run of its own
        TempFile cards(".pcap"), masked(".out.pcap");
        const auto seg = [](const char* s, std::uint32_t seq) {
            return ethernet(ipv4(tcp(text(s), 40000, 23, seq), 0, 6), false, false);
        };
        cards.write(pcap_of({
            seg("11 1111 1111 ok", 112),  // captured before the segment it follows
            seg("card 4111 11", 100),
            seg("card 4", 100),          // a shorter copy: inside the run
            seg("5555 5555 5555 4444", 200),
            seg("5 5555 4444 +", 210),   // overlaps the one before: a run of its own
        }));
        Capture c(cards.path);
        CHECK(c.mask_card_numbers() == 2);
        CHECK(c.write(masked.path) == 5);
        const Capture back(masked.path);
        const auto text_of = [&](std::size_t i) {
            const auto [p, n] = back.udp_payload(i);
            return std::string(reinterpret_cast<const char*>(p), n);
        };
        CHECK(text_of(0) == "XX XXXX XXXX ok" && text_of(1) == "card XXXX XX" && text_of(2) == "card 4");
        CHECK(text_of(3) == "XXXX XXXX XXXX XXXX" && text_of(4) == "5 5555 4444 +");
    }
    TempFile in(".pcap"), out(".out.pcap");
    in.write(file);
    {
        Capture c(in.path);
        CHECK(c.size() == 20 && c.sip_frames().size() == 2 && c.flows().size() == 2);
        CHECK(c.udp_frames() == 17);  // the fragments are not read as UDP, but listed:
        const std::vector<UdpFragment> frags = c.udp_fragments();
        CHECK(frags.size() == 2);
        if (frags.size() == 2) {
            CHECK(frags[0].frame == 17 && frags[0].family == 4 && frags[0].id == 1 && frags[0].offset == 0);
            CHECK(frags[0].more && frags[0].len == 8 + 172 && frags[0].data[0] == 40000 >> 8);
            CHECK(frags[0].src[0] == 10 && frags[0].dst[3] == 2);
            CHECK(frags[1].frame == 18 && frags[1].family == 6 && frags[1].id == 0xABCDEF01);
            CHECK(frags[1].offset == 1480 && !frags[1].more && frags[1].len == 40 && frags[1].data[0] == 0x33);
            CHECK(frags[1].src[0] == 0xfd && frags[1].dst[15] == 31);
        }
        CHECK(c.flows()[0].family == 4 && c.flows()[0].ssrc == 0xA && c.flows()[0].frames.size() == 8);
        CHECK(c.flows()[1].family == 6 && c.flows()[1].sport == 40002 && c.flows()[1].payload_types[0] == 8);
    }
    std::size_t n_in = 0, n_out = 0;
    CHECK(round_trip(in, out, &n_in, &n_out) && n_in == 20 && n_out == 20);
    CHECK(out.read() == file);  // nothing to mask: the same bytes
    {  // a new, longer payload for the SIP frame: the UDP and IP lengths follow it
        Capture c(in.path);
        const std::string longer = "INFO sip:pay@10.0.0.2 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        c.replace_payload(c.sip_frames()[0], reinterpret_cast<const std::uint8_t*>(longer.data()), longer.size());
        CHECK(c.write(out.path) == 20);
        Capture back(out.path);
        const auto [p, len] = back.udp_payload(back.sip_frames()[0]);
        CHECK(std::string(reinterpret_cast<const char*>(p), len) == longer);
        bool refused = false;
        try {
            c.replace_payload(c.sip_frames()[0], p, len);
        } catch (const std::invalid_argument&) {
            refused = true;  // once only
        }
        CHECK(refused);
    }

    {  // SIP over TCP: its payload is found, replaced only by one of the same length, and
       // written with a valid TCP checksum (the input's was left 0)
        Capture c(in.path);
        const std::uint32_t seg = c.sip_frames()[1];
        const auto [p, len] = c.udp_payload(seg);
        std::string body(reinterpret_cast<const char*>(p), len);
        CHECK(body.find("Signal=5") != std::string::npos);
        bool refused_longer = false;
        try {
            const std::string longer = body + "X";
            c.replace_payload(seg, reinterpret_cast<const std::uint8_t*>(longer.data()), longer.size());
        } catch (const std::invalid_argument&) {
            refused_longer = true;
        }
        CHECK(refused_longer);
        body.replace(body.find("Signal=5") + 7, 1, "X");
        c.replace_payload(seg, reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
        CHECK(c.write(out.path) == 20);
        const Bytes written = out.read();
        const Bytes original = file;
        CHECK(written.size() == original.size());
        const std::size_t frame_len = 14 + 20 + 20 + body.size();
        const std::uint8_t* frame = written.data() + written.size() - frame_len;
        CHECK(std::string(reinterpret_cast<const char*>(frame) + 54, body.size()) == body);
        CHECK(transport_sum(frame, frame + 14 + 12, frame + 14 + 16, 4, 6, 34, frame_len) == 0xFFFF);
    }

    {  // a UDP fragment's data: replaced only by as much, written as given, nothing else moved
        Capture c(in.path);
        const UdpFragment frag = c.udp_fragments().at(1);
        const Bytes longer(frag.len + 1, 0x44);
        bool refused_longer = false;
        try {
            c.replace_payload(frag.frame, longer.data(), longer.size());
        } catch (const std::invalid_argument&) {
            refused_longer = true;
        }
        CHECK(refused_longer);
        const Bytes same(frag.len, 0x44);
        c.replace_payload(frag.frame, same.data(), same.size());
        CHECK(c.write(out.path) == 20);
        const Bytes written = out.read();
        CHECK(written.size() == file.size());
        std::size_t differ = 0, at = 0;
        for (std::size_t i = 0; i < file.size() && i < written.size(); ++i)
            if (written[i] != file[i]) ++differ, at = i;
        CHECK(differ == frag.len && at < written.size() && written[at] == 0x44);
        Capture back(out.path);
        CHECK(back.udp_fragments().at(1).data[0] == 0x44 && back.udp_fragments().at(1).data[frag.len - 1] == 0x44);
    }

    {  // a UDP fragment removed: not written, nothing else changed; a non-fragment refused
        Capture c(in.path);
        const UdpFragment frag = c.udp_fragments().at(0);
        bool refused = false;
        try {
            c.remove_fragment(c.sip_frames().at(0));
        } catch (const std::out_of_range&) {
            refused = true;
        }
        CHECK(refused);
        c.remove_fragment(frag.frame);
        refused = false;
        try {
            c.remove_fragment(frag.frame);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        CHECK(refused);
        CHECK(c.write(out.path) == 19);
        Capture back(out.path);
        CHECK(back.size() == 19 && back.udp_fragments().size() == 1 && back.udp_fragments()[0].family == 6);
        CHECK(back.flows().size() == 2 && back.sip_frames().size() == 2);
    }

    {  // TCP segments of a port left out (RTP over TCP): only those, and not once replaced
        Capture c(in.path);
        CHECK(c.remove_tcp_port(5061) == 0);
        CHECK(c.remove_tcp_port(5060) == 1);  // the SIP-over-TCP frame of the fixture
        CHECK(c.remove_tcp_port(5060) == 0);
        CHECK(c.write(out.path) == 19);
        Capture back(out.path);
        CHECK(back.size() == 19 && back.sip_frames().size() == 1 && back.sip_tcp_segments().empty());
        Capture again(in.path);
        const std::uint32_t seg = again.sip_frames()[1];
        const auto [p, len] = again.udp_payload(seg);
        const Bytes same(p, p + len);
        again.replace_payload(seg, same.data(), same.size());
        CHECK(again.remove_tcp_port(5060) == 0);  // redacted SIP stays
    }

    {  // IPv6 with a Segment Routing header: the UDP checksum of a rewritten SIP message is
       // made with the final destination (RFC 8200 §8.1), not the header's current one
        Bytes f;
        put(f, 0xA1B2C3D4, 4, false), put(f, 2, 2, false), put(f, 4, 2, false);
        put(f, 0, 4, false), put(f, 0, 4, false), put(f, 65535, 4, false), put(f, 1, 4, false);
        const std::string msg = "MESSAGE sip:a@b SIP/2.0\r\n\r\n";
        const Bytes frame = ethernet(ipv6_srh(udp(5060, 5060, Bytes(msg.begin(), msg.end()))), true, false);
        put(f, 1000, 4, false), put(f, 0, 4, false);
        put(f, static_cast<std::uint32_t>(frame.size()), 4, false), put(f, static_cast<std::uint32_t>(frame.size()), 4, false);
        f.insert(f.end(), frame.begin(), frame.end());
        TempFile srh(".pcap"), srh_out(".out.pcap");
        srh.write(f);
        Capture c(srh.path);
        CHECK(c.sip_frames().size() == 1);
        const std::string longer = msg + "Subject: x\r\n";
        c.replace_payload(c.sip_frames().at(0), reinterpret_cast<const std::uint8_t*>(longer.data()), longer.size());
        CHECK(c.write(srh_out.path) == 1);
        const Bytes w = srh_out.read();
        const std::uint8_t* fr = w.data() + 24 + 16;
        const std::size_t fl = w.size() - 40, ip = 14, u = ip + 40 + 40;
        const std::uint8_t final_dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99};
        CHECK(fl == u + 8 + longer.size());
        CHECK(transport_sum(fr, fr + ip + 8, final_dst, 16, 17, u, fl) == 0xFFFF);
        CHECK(transport_sum(fr, fr + ip + 8, fr + ip + 24, 16, 17, u, fl) != 0xFFFF);  // not with the current segment
    }

    {  // behind MPLS, a pseudowire and PPPoE: found (flows, SIP); a SIP message rewritten
       // longer in a PPPoE session moves its length
        TempFile links(".pcap"), links_out(".out.pcap");
        const Bytes lf = link_capture();
        links.write(lf);
        Capture c(links.path);
        CHECK(c.size() == 17 && c.sip_frames().size() == 2 && c.flows().size() == 3 && c.sip_over_sctp() == 1);
        CHECK(c.relay_frames() == std::vector<std::uint32_t>{14});
        CHECK(c.flows().at(0).frames.size() == 4 && c.flows().at(1).frames.size() == 4);
        CHECK(c.flows().at(2).ssrc == 0xE && c.flows().at(2).frames.size() == 4);
        const auto [p, n] = c.udp_payload(1);
        std::string longer(reinterpret_cast<const char*>(p), n);
        longer += "Subject: x\r\n";
        c.replace_payload(1, reinterpret_cast<const std::uint8_t*>(longer.data()), longer.size());
        CHECK(c.redact_h245_user_input() == 1);
        Capture again(links.path);  // the same through the one-pass sweep
        const Capture::TextRedactions r = again.redact_text(true, true);
        CHECK(r.h245 == 1 && r.pbx_digits == 0 && r.srtp_keys == 0 && r.card_numbers == 0);
        CHECK(c.write(links_out.path) == 16);  // the SCTP frame left out
        const Bytes w = links_out.read();
        const std::uint8_t* first = w.data() + 24;  // frame 0's record
        const std::uint8_t* fr = first + 16 + (first[8] | first[9] << 8) + 16;  // frame 1's bytes
        const std::size_t fl = (fr[-8] | fr[-7] << 8);
        CHECK(fl == 22 + 20 + 8 + longer.size() && (fr[18] << 8 | fr[19]) == fl - 20);
    }
    {  // calls inside tunnels: found inside (flows, SIP), and a SIP message rewritten longer
       // moves every layer's length, with the outer UDP and GRE checksums made valid
        TempFile tun(".pcap"), tun_out(".out.pcap");
        const Bytes tf = tunnel_capture();
        tun.write(tf);
        Capture c(tun.path);
        CHECK(c.size() == 11 && c.sip_frames().size() == 2 && c.flows().size() == 2);
        CHECK(c.udp_fragments().size() == 1 && c.udp_fragments().at(0).protocol == 47);
        CHECK(c.flows().at(0).sport == 40000 && c.flows().at(0).ssrc == 0xC && c.flows().at(0).frames.size() == 4);
        CHECK(c.flows().at(1).family == 6 && c.flows().at(1).sport == 40002 && c.flows().at(1).frames.size() == 4);
        const std::string extra = "Subject: x\r\n";
        for (std::uint32_t frame : c.sip_frames()) {
            const auto [p, n] = c.udp_payload(frame);
            std::string longer(reinterpret_cast<const char*>(p), n);
            longer += extra;
            c.replace_payload(frame, reinterpret_cast<const std::uint8_t*>(longer.data()), longer.size());
        }
        for (std::size_t i = 0; i < c.flows().size(); ++i) {
            StreamFilter filter{StreamFilterParams{}};
            c.scrub(i, filter);
        }
        CHECK(c.write(tun_out.path) == 11);
        const Bytes w = tun_out.read();
        CHECK(w.size() == tf.size() + 2 * extra.size());
        // Frame 1, VXLAN: outer IPv4 (14), its UDP (34), VXLAN (42), Ethernet with a VLAN tag
        // (50), inner IPv4 (68), its UDP (88).
        const std::uint8_t* fr = w.data() + 24 + 16;
        const std::size_t fl = (fr[-8] | fr[-7] << 8);
        const auto be = [](const std::uint8_t* x) { return static_cast<std::size_t>(x[0] << 8 | x[1]); };
        CHECK(be(fr + 14 + 2) == fl - 14 && be(fr + 34 + 4) == fl - 34 && be(fr + 68 + 2) == fl - 68);
        CHECK(be(fr + 88 + 4) == fl - 88);
        CHECK(transport_sum(fr, fr + 14 + 12, fr + 14 + 16, 4, 17, 34, fl) == 0xFFFF);  // outer UDP
        std::uint64_t sum = 0;
        for (std::size_t i = 14; i < 34; i += 2) sum += be(fr + i);
        while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
        CHECK(sum == 0xFFFF);  // outer IPv4 header
        // Frame 2, GRE with a checksum: outer IPv4 (14), GRE (34), inner IPv4 (42), UDP (62).
        const std::uint8_t* g = fr + fl + 16;
        const std::size_t gl = (g[-8] | g[-7] << 8);
        CHECK(be(g + 14 + 2) == gl - 14 && be(g + 42 + 2) == gl - 42 && be(g + 62 + 4) == gl - 62);
        sum = 0;
        for (std::size_t i = 34; i < gl; i += 2) sum += be(g + i);
        while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
        CHECK(sum == 0xFFFF && be(g + 34 + 4) != 0);  // GRE's checksum, set
        CHECK(be(g + 62 + 6) == 0);  // the inner UDP's checksum: none, as it came (IPv4)
    }

    {  // a link type libpcap reads but cannot write (OpenBSD's raw IP, 14): refused when read
        Bytes other = file;
        other[20] = 14;
        in.write(other);
        bool refused14 = false;
        try {
            Capture c(in.path);
        } catch (const std::invalid_argument&) {
            refused14 = true;
        }
        CHECK(refused14);
        in.write(file);
    }
    int refused = 0, read = 0;
    for (std::size_t n = 0; n < file.size(); ++n) {  // every truncation: refused or read whole
        in.write(Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n)));
        if (round_trip(in, out, &n_in, &n_out)) ++read;
        else ++refused;
    }
    CHECK(refused > 0 && read > 0);
    std::mt19937 rng(7);
    for (int trial = 0; trial < 3000; ++trial) {
        Bytes m = file;
        for (int k = 0; k < 1 + trial % 4; ++k)
            m[24 + rng() % (m.size() - 24)] = static_cast<std::uint8_t>(rng());  // not the file header
        in.write(m);
        if (round_trip(in, out, &n_in, &n_out)) {
            CHECK(n_out <= n_in);
            if (n_out > n_in) break;
        }
    }
    return CHECK_DONE();
}
