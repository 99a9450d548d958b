// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/capture.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "pcifilter/byte_order.hpp"
#include "pcifilter/redaction.hpp"
#include "pcifilter/rfc4733.hpp"
#include "pcifilter/signalling.hpp"

namespace pcifilter {
namespace {

// libpcap's DLT values as pcap_datalink() gives them (LINKTYPE_RAW, 101 in a file, reads as
// DLT_RAW, 12); each is one libpcap can also write (OpenBSD's raw 14 is not, so it is refused).
constexpr int kLinkNull = 0, kLinkEthernet = 1, kLinkRaw = 12, kLinkRawFile = 101, kLinkLoop = 108,
              kLinkSll = 113, kLinkIpv4 = 228, kLinkIpv6 = 229, kLinkSll2 = 276;

bool supported_link(int link) noexcept {
    switch (link) {
    case kLinkNull: case kLinkEthernet: case kLinkRaw: case kLinkRawFile: case kLinkLoop:
    case kLinkSll: case kLinkIpv4: case kLinkIpv6: case kLinkSll2: return true;
    default: return false;
    }
}

bool is_vlan(std::uint16_t type) noexcept { return type == 0x8100 || type == 0x88A8 || type == 0x9100; }

std::size_t ethernet_ip(const std::uint8_t* p, std::size_t at, std::size_t end, int depth = 0) noexcept;

// Where the IP packet begins after an Ethernet header's type field (`type`, read; `off`
// just after it), or 0: VLAN tags skipped; MPLS labels (RFC 3032), down to the bottom of the
// stack, then IP or a pseudowire's control word and an Ethernet frame (RFC 4448); a PPPoE
// session (RFC 2516) carrying IP, where `pppoe` is given (the outer link only: its length
// field is made right when the packet changes size), the PPPoE header's offset set in it.
// A frame of these was other traffic, written as it was, a call inside.
std::size_t ip_after_type(const std::uint8_t* p, std::size_t off, std::size_t end, std::uint16_t type,
                          std::size_t* pppoe, int depth) noexcept {
    while (is_vlan(type) && off + 4 <= end) {
        type = be16(p + off + 2);
        off += 4;
    }
    if (type == 0x8847 || type == 0x8848) {  // MPLS unicast, multicast
        for (int k = 0; k < 16 && off + 4 <= end; ++k) {
            const bool bottom = (p[off + 2] & 0x01) != 0;
            off += 4;
            if (!bottom) continue;
            if (off >= end) return 0;
            const int first = p[off] >> 4;  // IP's version, or a control word's 0
            if (first == 4 || first == 6) return off;
            return first == 0 && depth == 0 ? ethernet_ip(p, off + 4, end, depth + 1) : 0;
        }
        return 0;
    }
    if (type == 0x8864 && pppoe != nullptr) {  // PPPoE session: version and type 1, code 0
        if (off + 8 >= end || p[off] != 0x11 || p[off + 1] != 0) return 0;
        const std::uint16_t protocol = be16(p + off + 6);  // PPP: IPv4, IPv6
        const int version = p[off + 8] >> 4;
        if (!(protocol == 0x0021 && version == 4) && !(protocol == 0x0057 && version == 6)) return 0;
        *pppoe = off;
        return off + 8;
    }
    if (off >= end) return 0;
    return (type == 0x0800 && p[off] >> 4 == 4) || (type == 0x86DD && p[off] >> 4 == 6) ? off : 0;
}

// Offset of the IP header in a frame, or -1 when the frame carries no IP; `pppoe` as above.
long ip_offset(int link, const std::uint8_t* p, std::size_t n, std::size_t* pppoe) noexcept {
    std::size_t off = 0;
    switch (link) {
    case kLinkEthernet:
        if (n < 14) return -1;
        off = ip_after_type(p, 14, n, be16(p + 12), pppoe, 0);
        if (off == 0) return -1;
        break;
    case kLinkSll:  // its protocol field is an Ethernet type, as in Ethernet
        if (n < 16) return -1;
        off = ip_after_type(p, 16, n, be16(p + 14), pppoe, 0);
        if (off == 0) return -1;
        break;
    case kLinkSll2:
        if (n < 20) return -1;
        off = ip_after_type(p, 20, n, be16(p), pppoe, 0);
        if (off == 0) return -1;
        break;
    case kLinkNull:
    case kLinkLoop:  // a 4-byte address family (in either byte order): the IP version says
        off = 4;
        break;
    default:  // raw IP
        break;
    }
    if (n <= off) return -1;
    const int version = p[off] >> 4;  // (after an Ethernet type: checked against it already)
    if (version != 4 && version != 6) return -1;
    return static_cast<long>(off);
}

// Tunnels a capture from a mirror port or a cloud's traffic mirroring holds calls in: each
// function below gives the inner IP packet's offset, or 0 when the tunnel holds none (each
// reads only before `end`). An Ethernet frame (VLAN tags skipped) at `at`:
std::size_t ethernet_ip(const std::uint8_t* p, std::size_t at, std::size_t end, int depth) noexcept {
    if (at + 14 > end) return 0;
    return ip_after_type(p, at + 14, end, be16(p + at + 12), nullptr, depth);
}

bool tunnel_protocol(std::uint8_t protocol) noexcept { return protocol == 4 || protocol == 41 || protocol == 47; }

// GRE (RFC 2784, RFC 2890 keys and sequence numbers) carrying IP, Ethernet (transparent
// bridging, 0x6558) or a mirrored frame (ERSPAN type I/II 0x88BE, type III 0x22EB).
// `checksum` is set when the GRE header holds a checksum (to be made valid again).
std::size_t gre_ip(const std::uint8_t* p, std::size_t g, std::size_t end, bool* checksum) noexcept {
    if (g + 4 > end) return 0;
    const std::uint16_t flags = be16(p + g), proto = be16(p + g + 2);
    if ((flags & 0x4007) != 0) return 0;  // RFC 1701 routing, or version 1 (PPTP): not ours
    const bool sequenced = (flags & 0x1000) != 0;
    std::size_t off = g + 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + (sequenced ? 4 : 0);
    *checksum = (flags & 0x8000) != 0;
    if (off >= end) return 0;
    switch (proto) {
    case 0x0800: case 0x86DD: return off;
    case 0x6558: return ethernet_ip(p, off, end);
    case 0x88BE: return ethernet_ip(p, off + (sequenced ? 8 : 0), end);  // type II: 8-byte header
    case 0x22EB: {  // type III: 12 bytes, 8 more when O (its last bit) is set; frame type FT
        if (off + 12 > end) return 0;
        const int frame_type = (p[off + 10] >> 2) & 0x1F;
        off += 12 + ((p[off + 11] & 1) ? 8 : 0);
        if (frame_type == 0) return ethernet_ip(p, off, end);
        return frame_type == 2 && off < end ? off : 0;
    }
    default: return 0;
    }
}

// VXLAN (RFC 7348, UDP 4789, and 8472: Linux's default, flannel's: the I flag, then an
// Ethernet frame), VXLAN-GPE (UDP 4790: its next protocol), Geneve (RFC 8926, UDP 6081:
// options, then the protocol type's payload) and GTP-U (3GPP TS 29.281, UDP 2152: a mobile
// core's user plane, VoLTE calls in it; a G-PDU, its optional fields and extension headers,
// then an IP packet), at the UDP payload `v`.
std::size_t udp_tunnel_ip(const std::uint8_t* p, std::size_t v, std::size_t end, std::uint16_t port) noexcept {
    if (v + 8 > end) return 0;
    const auto ip_at = [&](std::size_t off) {
        return off < end && (p[off] >> 4 == 4 || p[off] >> 4 == 6) ? off : 0;
    };
    if (port == 4789 || port == 8472) return (p[v] & 0x08) ? ethernet_ip(p, v + 8, end) : 0;
    if (port == 4790) {  // VXLAN-GPE: the P flag, then 1 IPv4, 2 IPv6, 3 Ethernet
        if ((p[v] & 0x34) != 0x04) return 0;
        const std::uint8_t next = p[v + 3];
        return next == 3 ? ethernet_ip(p, v + 8, end) : next == 1 || next == 2 ? ip_at(v + 8) : 0;
    }
    if (port == 2152) {  // GTPv1-U: version 1, protocol type GTP, message type G-PDU
        if ((p[v] & 0xF0) != 0x30 || p[v + 1] != 0xFF) return 0;
        std::size_t off = v + 8;
        if (p[v] & 0x07) {  // sequence number, N-PDU number, next extension header's type
            if (off + 4 > end) return 0;
            std::uint8_t next = (p[v] & 0x04) ? p[off + 3] : 0;
            off += 4;
            for (int k = 0; next != 0 && k < 8; ++k) {  // each: its length in 4-byte units first
                if (off >= end || p[off] == 0) return 0;
                const std::size_t len = p[off] * 4u;
                if (off + len > end) return 0;
                next = p[off + len - 1];
                off += len;
            }
            if (next != 0) return 0;
        }
        return ip_at(off);
    }
    if (port != 6081 || (p[v] >> 6) != 0) return 0;
    const std::size_t off = v + 8 + (p[v] & 0x3Fu) * 4u;
    const std::uint16_t proto = be16(p + v + 2);
    if (proto == 0x6558) return ethernet_ip(p, off, end);
    return (proto == 0x0800 || proto == 0x86DD) && off < end ? off : 0;
}

// RFC 1071 sum of 16-bit big-endian words (not yet folded or complemented).
std::uint64_t sum16(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t s = 0;
    for (; n >= 2; p += 2, n -= 2) s += be16(p);
    if (n) s += std::uint32_t{p[0]} << 8;
    return s;
}
std::uint16_t fold(std::uint64_t s) noexcept {
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return static_cast<std::uint16_t>(~s & 0xFFFF);
}

// The RFC 1071 checksum of a UDP datagram or TCP segment (`protocol` 17 or 6) of `len` bytes,
// its own checksum field at `field` counted as zero, with the pseudo-header of its addresses
// (RFC 768, RFC 9293; RFC 8200 §8.1: the final destination). The pseudo-header's length
// field is 16 bits (IPv4) or 32 (IPv6): the same sum either way.
std::uint16_t transport_checksum(const std::uint8_t* src, const std::uint8_t* dst, std::size_t address_bytes,
                                 std::uint8_t protocol, const std::uint8_t* data, std::size_t len,
                                 std::size_t field) noexcept {
    const std::uint64_t pseudo =
        sum16(src, address_bytes) + sum16(dst, address_bytes) + protocol + (len >> 16) + (len & 0xFFFF);
    const std::uint64_t body =
        sum16(data, std::min(len, field)) + (len > field + 2 ? sum16(data + field + 2, len - field - 2) : 0);
    return fold(pseudo + body);
}

struct FlowKey {
    std::array<std::uint8_t, 16> src{}, dst{};
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t ssrc = 0;
    std::uint8_t family = 0;
    bool operator==(const FlowKey& o) const noexcept {
        return src == o.src && dst == o.dst && sport == o.sport && dport == o.dport && ssrc == o.ssrc &&
               family == o.family;
    }
};
struct FlowKeyHash {
    std::size_t operator()(const FlowKey& k) const noexcept {  // 64-bit words, multiply-mixed
        std::uint64_t w[4];
        std::memcpy(w, k.src.data(), 16);
        std::memcpy(w + 2, k.dst.data(), 16);
        std::uint64_t h = (std::uint64_t{k.sport} << 48 | std::uint64_t{k.dport} << 32 | k.ssrc) ^ k.family;
        for (std::uint64_t x : w) h = (h ^ x) * 0x9E3779B97F4A7C15ull;
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

struct PcapCloser {
    void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
struct DumperCloser {
    void operator()(pcap_dumper_t* d) const noexcept { pcap_dump_close(d); }
};
struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// A sender's pause as a capture shows it, for StreamFilter::advance (what a live relay's
// timer does): a G.711 packet whose timestamp jumps on by more than the filter's gap limit
// (2 s) since the last audio packet of its source, when the capture's clock moved on by as
// much (within a fifth, and half a second of jitter). The filter then sees a pause (silence
// suppression, hold) rather than a cut: the talkspurt after it keeps its first 40 ms, which a
// cut's guard masks, and a pause's own guards hold. A jump with no time passed, or with times
// that do not match, is still a cut, guarded. (In a filter of both families, the same
// for its G.711 packets.)
class PauseWitness {
public:
    explicit PauseWitness(const StreamFilterParams& params) : params_(params) {}

    // Before `data` goes into the filter: where the clock reached, as an RTP timestamp, when
    // the packet ends such a pause; false otherwise.
    bool paused_until(std::int64_t ts_ns, const std::uint8_t* data, std::size_t len, std::uint32_t* until) noexcept {
        RtpHeader h;
        if (parse_rtp(data, len, &h) != RtpDrop::None) return false;
        const PayloadKind kind = params_.payload_types[h.payload_type];
        if (kind == PayloadKind::Opus) have_ = false;  // (a filter of both families) a G.711
        // packet after Opus ones starts a timeline of its own: no pause to witness
        if (kind != PayloadKind::Pcmu && kind != PayloadKind::Pcma) return false;
        const bool same = have_ && h.ssrc == ssrc_;
        const auto jump = static_cast<std::int64_t>(static_cast<std::int32_t>(h.timestamp - last_));
        // clock units (in double: a hostile file's times may be as far apart as 64 bits go)
        const double elapsed = (static_cast<double>(ts_ns) - static_cast<double>(last_ns_)) * 8000e-9;
        have_ = true, ssrc_ = h.ssrc, last_ = h.timestamp, last_ns_ = ts_ns;
        if (!same || jump <= static_cast<std::int64_t>(params_.max_gap_samples)) return false;
        if (std::abs(elapsed - static_cast<double>(jump)) > static_cast<double>(jump) / 5 + kJitter) return false;
        *until = h.timestamp - static_cast<std::uint32_t>(kJitter);
        return true;
    }

private:
    static constexpr std::int64_t kJitter = 4000;  // 500 ms at 8 kHz
    const StreamFilterParams& params_;
    bool have_ = false;
    std::uint32_t ssrc_ = 0, last_ = 0;
    std::int64_t last_ns_ = 0;
};

}  // namespace

Capture::Capture(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = {0};
    std::unique_ptr<pcap_t, PcapCloser> pc(
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err));
    if (!pc) throw std::invalid_argument(path + ": " + err);
    linktype_ = pcap_datalink(pc.get());
    if (!supported_link(linktype_))  // never write a capture we could not look into
        throw std::invalid_argument(path + ": unsupported link type " + std::to_string(linktype_));
    snaplen_ = pcap_snapshot(pc.get());
    {  // the format, and a classic file's timestamp resolution, kept for writing
        std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
        std::uint8_t magic[4] = {0};
        if (!f || std::fread(magic, 1, 4, f.get()) != 4) throw std::invalid_argument(path + ": cannot read");
        if (std::fseek(f.get(), 0, SEEK_END) == 0 && std::ftell(f.get()) > 0) {
            const auto size = static_cast<std::size_t>(std::ftell(f.get()));
            bytes_.reserve(size);
            frames_.reserve(size / 64);  // a guess: RTP frames are 60-250 bytes
        }
        const std::uint32_t le = std::uint32_t{magic[0]} | std::uint32_t{magic[1]} << 8 |
                                 std::uint32_t{magic[2]} << 16 | std::uint32_t{magic[3]} << 24;
        pcapng_ = le == 0x0A0D0D0A;
        nanosecond_ = le == 0xA1B23C4D || le == 0x4D3CB2A1;
    }
    std::unordered_map<FlowKey, std::uint32_t, FlowKeyHash> flow_of;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    int rc = 0;
    while ((rc = pcap_next_ex(pc.get(), &h, &data)) == 1) {
        Frame f;
        // pcapng's timestamps have 64 bits: past the year 2262 (a corrupt or hostile file's)
        // nanoseconds since 1970 do not fit in 64 bits, and the time is held at the last that
        // does (written back so).
        if (__builtin_mul_overflow(static_cast<std::int64_t>(h->ts.tv_sec), std::int64_t{1000000000}, &f.ts_ns) ||
            __builtin_add_overflow(f.ts_ns, static_cast<std::int64_t>(h->ts.tv_usec), &f.ts_ns))
            f.ts_ns = h->ts.tv_sec < 0 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
        f.offset = bytes_.size();
        f.caplen = h->caplen;
        f.origlen = h->len;
        bytes_.insert(bytes_.end(), data, data + h->caplen);
        frames_.push_back(f);
        const auto n = static_cast<std::uint32_t>(frames_.size() - 1);
        index(n, bytes_.data() + f.offset, f.caplen);
        const Frame& fr = frames_.back();
        if (fr.tcp && starts_sip_after_crlfs(bytes_.data() + fr.offset + fr.tcp + fr.tcp_header, fr.payload_len))
            sip_frames_.push_back(n);
        if (!fr.udp) continue;
        ++udp_frames_;
        const std::uint8_t* payload = bytes_.data() + fr.offset + fr.udp + 8;
        if (starts_sip(payload, fr.payload_len) || starts_hep3(payload, fr.payload_len) ||
            hep2_sip_offset(payload, fr.payload_len) != 0) {
            sip_frames_.push_back(n);
            continue;
        }
        RtpHeader rtp;
        if (parse_rtp(payload, fr.payload_len, &rtp) != RtpDrop::None) {
            if (may_be_relay_message(payload, fr.payload_len)) relay_frames_.push_back(n);
            continue;
        }
        FlowKey key;
        key.family = fr.family;
        const std::uint8_t* ip = bytes_.data() + fr.offset + fr.ip;
        const std::size_t alen = fr.family == 4 ? 4 : 16;
        std::memcpy(key.src.data(), ip + (fr.family == 4 ? 12 : 8), alen);
        std::memcpy(key.dst.data(), ip + (fr.family == 4 ? 16 : 24), alen);
        const std::uint8_t* udp = bytes_.data() + fr.offset + fr.udp;
        key.sport = be16(udp);
        key.dport = be16(udp + 2);
        key.ssrc = rtp.ssrc;
        auto [it, added] = flow_of.try_emplace(key, static_cast<std::uint32_t>(flows_.size()));
        if (added) {
            CaptureFlow flow;
            flow.family = key.family;
            flow.src = key.src;
            flow.dst = key.dst;
            flow.sport = key.sport;
            flow.dport = key.dport;
            flow.ssrc = key.ssrc;
            flows_.push_back(std::move(flow));
        }
        CaptureFlow& flow = flows_[it->second];
        const std::uint8_t* body = payload + rtp.payload_offset;
        if (!flow.frames.empty() && rtp.payload_length == 4 && body[0] <= 15 && (body[1] & 0x40) == 0 &&
            rtp.timestamp == flow.last_timestamp)
            ++flow.event_like;
        flow.last_timestamp = rtp.timestamp;
        ++flow.payload_types[rtp.payload_type];
        flow.frames.push_back(n);
    }
    if (rc == PCAP_ERROR)  // a truncated or corrupt file: nothing half-scrubbed is written
        throw std::invalid_argument(path + ": " + pcap_geterr(pc.get()));
    flow_scrubbed_.assign(flows_.size(), false);
}

// Finds the UDP datagram of frame n, if any (fills ip/udp/family/ip_end/payload_len).
void Capture::index(std::uint32_t n, const std::uint8_t* p, std::uint32_t caplen) {
    Frame& f = frames_[n];
    std::size_t pppoe = 0;
    const long ipo = ip_offset(linktype_, p, caplen, &pppoe);
    if (ipo < 0) return;
    f.pppoe = static_cast<std::uint16_t>(pppoe);
    std::size_t ip = static_cast<std::size_t>(ipo);
    std::size_t udp = 0, end = 0;  // offsets within the frame
    std::uint8_t family = 0, proto = 0;
    // The IP packet, and the one a tunnel holds in it (up to kMaxTunnels deep): the calls of
    // a capture from a mirror port (ERSPAN) or a cloud's traffic mirroring (VXLAN, Geneve)
    // are inside; taken for other traffic, they were written as they were, keypresses on.
    for (;;) {
        const std::size_t avail = caplen - ip;
        if (p[ip] >> 4 == 4) {
            if (avail < 20) return;
            const std::size_t ihl = (p[ip] & 0x0F) * 4u;
            const std::size_t total = be16(p + ip + 2);
            if (ihl < 20 || ihl > avail || total < ihl) return;
            proto = p[ip + 9];
            const std::uint16_t frag = be16(p + ip + 6);
            if ((frag & 0x3FFF) != 0) {  // a fragment: a UDP one is listed for reassembly
                if (proto == 17 || tunnel_protocol(proto))
                    note_fragment(f, ip, ip + ihl, ip + total, caplen, 4, proto, (frag & 0x1FFF) * 8u,
                                  (frag & 0x2000) != 0, be16(p + ip + 4));
                return;
            }
            udp = ip + ihl;
            end = ip + total;
            family = 4;
        } else if (p[ip] >> 4 == 6) {
            if (avail < 40) return;
            const std::size_t plen = be16(p + ip + 4);
            if (plen == 0) return;  // a jumbogram
            std::uint8_t next = p[ip + 6];
            std::size_t off = ip + 40;
            std::size_t final_dst = 0;  // where a Routing header holds the final destination
            const auto transport = [](std::uint8_t h) { return h == 17 || h == 6 || h == 4 || h == 41 || h == 47; };
            for (int k = 0; k < 8 && !transport(next); ++k) {  // extension headers (RFC 8200 §4)
                if (off + 8 > caplen) return;
                const std::uint8_t after = p[off];
                if (next == 43 && p[off + 3] > 0) final_dst = routing_final_destination(p, off, caplen);
                if (next == 0 || next == 43 || next == 60) off += (p[off + 1] + 1u) * 8u;
                else if (next == 51) off += (p[off + 1] + 2u) * 4u;  // AH (RFC 4302)
                else if (next == 44) {  // a fragment (RFC 8200 §4.5): a UDP one is listed
                    const std::uint16_t frag = be16(p + off + 2);
                    if (after == 17 || tunnel_protocol(after)) {
                        note_fragment(f, ip, off + 8, ip + 40 + plen, caplen, 6, after, (frag >> 3) * 8u,
                                      (frag & 1) != 0, be32(p + off + 4));
                        f.dst6 = static_cast<std::uint16_t>(final_dst);
                    }
                    return;
                } else return;  // something other than UDP, TCP and tunnels
                next = after;
            }
            if (!transport(next)) return;
            proto = next;
            udp = off;
            end = ip + 40 + plen;
            family = 6;
            f.dst6 = static_cast<std::uint16_t>(final_dst);
        } else {
            return;  // a tunnel's payload that is no IP packet
        }
        if (udp > 0xFFFF) break;
        const std::size_t limit = std::min<std::size_t>(end, caplen);
        Tunnel t;
        t.ip = static_cast<std::uint16_t>(ip);
        t.family = family;
        std::size_t inner = 0;
        if (proto == 4 || proto == 41) {  // IP in IP (RFC 2003, RFC 4213)
            inner = udp < limit ? udp : 0;
        } else if (proto == 47) {
            bool checksum = false;
            inner = gre_ip(p, udp, limit, &checksum);
            if (checksum) t.gre = static_cast<std::uint16_t>(udp);
        } else if (proto == 17 && udp + 8 <= limit) {
            inner = udp_tunnel_ip(p, udp + 8, limit, be16(p + udp + 2));
            t.udp = static_cast<std::uint16_t>(udp);
            t.udp_checksum = family == 6 || be16(p + udp + 6) != 0;
            if (be16(p + udp + 2) == 2152) t.gtp = static_cast<std::uint16_t>(udp + 8);
        }
        if (inner == 0 || inner > 0xFFFF) break;
        if (f.tunnels == kMaxTunnels) {
            // A packet more tunnels deep than are read: what it holds (a call, maybe) cannot
            // be scrubbed, so it is not written (as a tunnel's IP fragment is not).
            f.scrubbed = true;
            ++too_deep_;
            return;
        }
        f.tunnel[f.tunnels++] = t;
        f.dst6 = 0;
        ip = inner;
    }
    const std::size_t captured = std::min<std::size_t>(end, caplen);
    if (proto == 132 && udp < captured && sctp_carries_sip(p + udp, captured - udp)) {
        // SIP over SCTP (RFC 4168): its DTMF bodies and SRTP keys are not read (nor its
        // chunks rewritten, under their CRC32c), so the packet is not written.
        f.scrubbed = true;
        ++sip_over_sctp_;
        return;
    }
    if (proto != 17 && proto != 6) return;
    if (proto == 6) {  // TCP: segments with a payload (SIP over TCP is looked for in them)
        if (udp + 20 > caplen || udp + 20 > end || udp > 0xFFFF) return;
        const std::size_t header = (p[udp + 12] >> 4) * 4u;
        if (header < 20 || udp + header > end || udp + header > caplen) return;
        const std::size_t payload_end = std::min(end, static_cast<std::size_t>(caplen));
        if (payload_end == udp + header) {
            if ((p[udp + 13] & 0x02) != 0) {  // a SYN: where its direction's stream begins
                Frame g = f;
                g.ip = static_cast<std::uint16_t>(ip);
                g.tcp = static_cast<std::uint16_t>(udp);
                g.family = family;
                tcp_starts_.emplace_back(tcp_direction(g), be32(p + udp + 4) + 1u);
            }
            return;
        }
        f.ip = static_cast<std::uint16_t>(ip);
        f.tcp = static_cast<std::uint16_t>(udp);
        f.tcp_header = static_cast<std::uint8_t>(header);
        f.family = family;
        f.ip_end = static_cast<std::uint32_t>(payload_end);
        f.payload_len = static_cast<std::uint32_t>(payload_end - udp - header);
        return;
    }
    if (udp + 8 > caplen || udp + 8 > end || udp > 0xFFFF) return;
    const std::size_t ulen = be16(p + udp + 4);
    if (ulen < 8 || udp + ulen > end) return;  // a UDP length the IP datagram cannot hold
    // A datagram cut short by the capture's snap length is taken as captured.
    const std::size_t payload_end = std::min<std::size_t>(udp + ulen, caplen);
    f.ip = static_cast<std::uint16_t>(ip);
    f.udp = static_cast<std::uint16_t>(udp);
    f.family = family;
    f.ip_end = static_cast<std::uint32_t>(std::min<std::size_t>(end, caplen));
    f.payload_len = static_cast<std::uint32_t>(payload_end - udp - 8);
    f.udp_checksum = family == 6 || be16(p + udp + 6) != 0;
}

std::size_t Capture::routing_final_destination(const std::uint8_t* p, std::size_t rh, std::size_t caplen) noexcept {
    // RFC 8200 §8.1: with a Routing header, UDP and TCP checksums use the final destination,
    // which a packet in flight (segments left > 0) holds there: the last address of a type 0
    // or type 2 header, the first entry of a Segment Routing header (type 4, RFC 8754 §2).
    // Other types (RPL's compressed addresses) keep the IPv6 header's. 0: none found.
    const std::size_t len = (p[rh + 1] + 1u) * 8u;
    const std::uint8_t type = p[rh + 2];
    std::size_t at = 0;
    if ((type == 0 || type == 2) && len >= 24) at = rh + 8 + (len - 8) / 16 * 16 - 16;
    else if (type == 4 && len >= 24) at = rh + 8;
    return at != 0 && at + 16 <= rh + len && at + 16 <= caplen && at <= 0xFFFF ? at : 0;
}

void Capture::note_fragment(Frame& f, std::size_t ip, std::size_t data, std::size_t end, std::size_t caplen,
                            std::uint8_t family, std::uint8_t protocol, std::uint32_t offset, bool more,
                            std::uint32_t id) noexcept {
    // Its data as captured (a snap length may cut it short: reassembly then finds a gap).
    const std::size_t data_end = std::min(end, caplen);
    if (data >= data_end || data > 0xFFFF || offset + (data_end - data) > 0xFFFF) return;
    f.ip = static_cast<std::uint16_t>(ip);
    f.frag = static_cast<std::uint16_t>(data);
    f.family = family;
    f.ip_end = static_cast<std::uint32_t>(data_end);
    f.payload_len = static_cast<std::uint32_t>(data_end - data);
    f.frag_offset = static_cast<std::uint16_t>(offset);
    f.frag_more = more;
    f.frag_id = id;
    f.frag_protocol = protocol;
}

std::vector<UdpFragment> Capture::udp_fragments() const {
    std::vector<UdpFragment> out;
    for (std::uint32_t i = 0; i < frames_.size(); ++i) {
        const Frame& f = frames_[i];
        if (!f.frag) continue;
        const std::uint8_t* b = bytes_.data() + f.offset;
        UdpFragment u;
        u.frame = i;
        u.family = f.family;
        std::memcpy(u.src.data(), b + src_at(f), address_bytes(f));
        std::memcpy(u.dst.data(), b + dst_at(f), address_bytes(f));
        u.id = f.frag_id;
        u.offset = f.frag_offset;
        u.more = f.frag_more;
        u.protocol = f.frag_protocol;
        u.data = b + f.frag;
        u.len = f.payload_len;
        out.push_back(u);
    }
    return out;
}

std::pair<const std::uint8_t*, std::size_t> Capture::udp_payload(std::size_t frame) const {
    const Frame& f = frames_.at(frame);
    if (f.tcp) return {bytes_.data() + f.offset + f.tcp + f.tcp_header, f.payload_len};
    if (!f.udp) return {nullptr, 0};
    return {bytes_.data() + f.offset + f.udp + 8, f.payload_len};
}

std::vector<TcpSegment> Capture::sip_tcp_segments() const {
    // Connections by (family, addresses, ports); those with a segment that starts SIP kept.
    std::vector<bool> carries_sip;
    std::unordered_map<std::string, std::uint32_t> index_of;
    std::vector<TcpSegment> all;
    std::vector<bool> ari_events;  // the server's direction of a client's GET /ari/events
    const auto connection = [&](const std::string& key) {
        const auto [it, added] = index_of.try_emplace(key, static_cast<std::uint32_t>(carries_sip.size()));
        if (added) carries_sip.push_back(false), ari_events.push_back(false);
        return it->second;
    };
    for (std::uint32_t i = 0; i < frames_.size(); ++i) {
        const Frame& f = frames_[i];
        if (!f.tcp) continue;
        const std::uint8_t* b = bytes_.data() + f.offset;
        const std::uint32_t c = connection(tcp_direction(f));
        const std::uint8_t* payload = b + f.tcp + f.tcp_header;
        const bool websocket = starts_websocket_signalling(payload, f.payload_len);
        const bool hep = starts_hep3(payload, f.payload_len);  // HEP over TCP
        // rtpengine's ng over TCP (listen-tcp-ng: messages as over UDP, one after another)
        // or over HTTP (POST /ng).
        const bool ng = starts_ng_message(payload, f.payload_len) || starts_http_ng(payload, f.payload_len);
        // a PBX's event channel, or syslog (a relay's DTMF log forwarded)
        const bool platform = starts_pbx_events(payload, f.payload_len) || starts_syslog(payload, f.payload_len);
        // HTTP: its bodies read de-chunked and decompressed, for card numbers and keys
        const bool http = starts_http_message(payload, f.payload_len);
        // a WebSocket caught after its handshake: its compressed messages read (Python)
        const bool deflated = starts_compressed_websocket_message(payload, f.payload_len);
        // HTTP/2 in clear, from its start or caught after it: its header blocks decoded, its
        // streams' data joined (Python)
        const bool h2c = starts_http2(payload, f.payload_len) || starts_http2_frames(payload, f.payload_len);
        if (websocket || hep || ng || platform || http || deflated || h2c ||
            starts_sip_after_crlfs(payload, f.payload_len))
            carries_sip[c] = true;
        // Asterisk's ARI events: the client's request names the server's direction, which
        // shows nothing else that tells it apart (its keypress events may start no segment).
        static constexpr char kAri[] = "GET /ari/events";
        if (f.payload_len >= sizeof kAri - 1 && std::memcmp(payload, kAri, sizeof kAri - 1) == 0) {
            const std::uint32_t server = connection(tcp_direction(f, true));
            carries_sip[server] = ari_events[server] = true;
        }
        all.push_back({i, c, be32(b + f.tcp + 4), payload, f.payload_len, websocket});
    }
    std::vector<TcpSegment> out;
    for (TcpSegment& s : all) {
        if (!carries_sip[s.connection]) continue;
        // its 101: the WebSocket's frames follow
        static constexpr char k101[] = "HTTP/1.1 101";
        if (ari_events[s.connection] && s.len >= sizeof k101 - 1 && std::memcmp(s.payload, k101, sizeof k101 - 1) == 0)
            s.websocket = true;
        out.push_back(s);
    }
    return out;
}

FlowScrubResult Capture::scrub(std::size_t flow_index, StreamFilter& filter) {
    return scrub(std::vector<std::size_t>{flow_index}, filter);
}

FlowScrubResult Capture::scrub(const std::vector<std::size_t>& flow_indices, StreamFilter& filter) {
    if (flow_indices.empty()) throw std::invalid_argument("no flow to scrub");
    for (std::size_t k = 0; k < flow_indices.size(); ++k) {
        const std::size_t f = flow_indices[k];
        if (f >= flows_.size()) throw std::out_of_range("no such flow");
        if (flow_scrubbed_[f]) throw std::invalid_argument("this flow was scrubbed already");
        for (std::size_t j = 0; j < k; ++j)
            if (flow_indices[j] == f) throw std::invalid_argument("a flow given twice");
    }
    for (std::size_t f : flow_indices) flow_scrubbed_[f] = true;
    std::vector<std::uint32_t> in;  // the frames in capture order, and their (payload type, timestamp):
    for (std::size_t f : flow_indices) in.insert(in.end(), flows_[f].frames.begin(), flows_[f].frames.end());
    if (flow_indices.size() > 1) std::sort(in.begin(), in.end());
    FlowScrubResult r;
    std::vector<std::uint64_t> keys;
    keys.reserve(in.size());
    const auto key_of = [](const std::uint8_t* q) {
        return std::uint64_t{static_cast<std::uint8_t>(q[1] & 0x7F)} << 32 | be32(q + 4);
    };
    for (std::uint32_t i : in) {
        keys.push_back(key_of(bytes_.data() + frames_[i].offset + frames_[i].udp + 8));
        frames_[i].scrubbed = true;
    }
    r.packets_in = in.size();
    if (in.empty()) return r;

    // Each packet out goes back to the frame it came from: the first unused frame of
    // the same payload type and timestamp (the filter keeps both; duplicates it took out
    // leave their frames unused), or, for masking audio sent in place of telephone-events,
    // the first unused event frame whose duration covers its timestamp. A packet with
    // neither (none is expected) follows the last one placed: no audio is lost. A packet
    // out is written over its frame's payload when it fits (the usual case: same length)
    // and that frame's own packet went into the filter already; otherwise (a longer,
    // re-encoded Opus packet) it is kept aside. Usually the packet out belongs to one of
    // the few frames after the last one placed (the cursor); the search by key is
    // built only when it does not.
    std::vector<std::uint32_t> order;  // positions in `in` by key, once needed
    std::vector<bool> used(in.size(), false);
    const StreamFilterParams& params = filter.params();
    std::uint32_t last = in.front();
    std::size_t cursor = 0, te_from = 0, pushed = 0;  // only frames pushed are written over
    const auto place = [&](const std::uint8_t* q, std::size_t len) {
        const std::uint64_t key = key_of(q);
        long found = -1;
        for (std::size_t k = cursor; k < std::min(in.size(), cursor + 4) && found < 0; ++k)
            if (!used[k] && keys[k] == key) found = static_cast<long>(k);
        if (found < 0) {
            if (order.empty()) {
                order.resize(in.size());
                for (std::uint32_t k = 0; k < order.size(); ++k) order[k] = k;
                std::stable_sort(order.begin(), order.end(),
                                 [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
            }
            auto it = std::lower_bound(order.begin(), order.end(), key,
                                       [&](std::uint32_t k, std::uint64_t v) { return keys[k] < v; });
            for (; it != order.end() && keys[*it] == key; ++it)
                if (!used[*it]) {
                    found = *it;
                    break;
                }
        }
        if (found < 0) {  // masking audio in telephone-events' place?
            const bool out_opus = params.payload_types[q[1] & 0x7F] == PayloadKind::Opus;
            // Event frames come in timeline order: the search starts after the last one
            // used and looks a bounded way ahead (repeated end packets stay unused).
            const std::size_t stop = std::min<std::size_t>(in.size(), te_from + 256);
            for (std::size_t k = te_from; k < stop && found < 0; ++k) {
                const Frame& e = frames_[in[k]];
                const std::uint8_t* ev = bytes_.data() + e.offset + e.udp + 8;
                RtpHeader h;
                if (used[k] || parse_rtp(ev, e.payload_len, &h) != RtpDrop::None) continue;
                // on the clock of the packet out (audio of the timeline's family: in a
                // filter of both families an event beside G.711 counts 8 kHz units)
                const std::uint32_t unit = params.event_duration_unit(h.payload_type, out_opus);
                if (unit == 0) continue;
                if (be32(q + 4) - h.timestamp < telephone_events_span(ev + h.payload_offset, h.payload_length) * unit) {
                    found = static_cast<long>(k);
                    te_from = k + 1;
                }
            }
        }
        Placement pl{last, static_cast<std::uint32_t>(len), 0, Placement::Aside};
        if (found >= 0) {
            const auto k = static_cast<std::size_t>(found);
            used[k] = true;
            cursor = std::max(cursor, k + 1);
            pl.frame = last = in[k];
            Frame& f = frames_[pl.frame];
            std::uint8_t* own = bytes_.data() + f.offset + f.udp + 8;
            if (k < pushed && len == f.payload_len && std::memcmp(own, q, len) == 0) {
                pl.where = Placement::Same;  // passed unchanged: the frame is written as it was
            } else if (k < pushed && len <= f.payload_len) {
                std::memcpy(own, q, len);
                pl.where = Placement::InPlace;
            }
        }
        if (pl.where == Placement::Aside) {
            pl.offset = out_bytes_.size();
            out_bytes_.insert(out_bytes_.end(), q, q + len);
        }
        placements_.push_back(pl);
        ++r.packets_out;
    };
    std::uint8_t buf[StreamFilter::kMaxPacket];
    std::size_t len = 0;
    PauseWitness pauses(params);
    for (std::uint32_t i : in) {
        const auto [payload, n] = udp_payload(i);
        std::uint32_t until = 0;
        if (pauses.paused_until(frames_[i].ts_ns, payload, n, &until)) {
            filter.advance(until);
            while (filter.pop(buf, &len)) place(buf, len);
        }
        filter.push(payload, n);
        ++pushed;
        while (filter.pop(buf, &len)) place(buf, len);
    }
    filter.flush();
    while (filter.pop(buf, &len)) place(buf, len);
    return r;
}

void Capture::replace_payload(std::size_t frame, const std::uint8_t* data, std::size_t len) {
    if (frame >= frames_.size() || !(frames_[frame].udp || frames_[frame].tcp || frames_[frame].frag))
        throw std::out_of_range("no such UDP frame, TCP segment or UDP fragment");
    Frame& f = frames_[frame];
    if (f.scrubbed) throw std::invalid_argument("this frame was replaced already");
    if (f.tcp || f.frag) {
        if (len != f.payload_len)
            throw std::invalid_argument(
                "a TCP segment's or IP fragment's payload can only be replaced by one of the same length");
        f.scrubbed = true;
        std::memcpy(bytes_.data() + f.offset + (f.tcp ? f.tcp + f.tcp_header : f.frag), data, len);
        placements_.push_back({static_cast<std::uint32_t>(frame), static_cast<std::uint32_t>(len), 0, Placement::InPlace});
        return;
    }
    if (len > 0xFFFFu - 8u - static_cast<std::size_t>(f.udp - f.ip)) throw std::invalid_argument("payload too long for one datagram");
    f.scrubbed = true;
    Placement pl{static_cast<std::uint32_t>(frame), static_cast<std::uint32_t>(len), 0, Placement::InPlace};
    if (len <= f.payload_len) {
        std::memcpy(bytes_.data() + f.offset + f.udp + 8, data, len);
    } else {
        pl.where = Placement::Aside;
        pl.offset = out_bytes_.size();
        out_bytes_.insert(out_bytes_.end(), data, data + len);
    }
    placements_.push_back(pl);
}

std::string Capture::tcp_direction(const Frame& f, bool reverse) const {
    // (family, addresses, ports) of one direction of a TCP connection (or of the other
    // direction: `reverse`), as a map key.
    const char* b = reinterpret_cast<const char*>(bytes_.data() + f.offset);
    const std::size_t from = reverse ? dst_at(f) : src_at(f), to = reverse ? src_at(f) : dst_at(f);
    const std::size_t sport = reverse ? f.tcp + 2u : f.tcp, dport = reverse ? f.tcp : f.tcp + 2u;
    std::string key(1, static_cast<char>(f.family));
    key.append(b + from, address_bytes(f)).append(b + to, address_bytes(f));
    key.append(b + sport, 2).append(b + dport, 2);
    return key;
}

std::size_t Capture::mask_card_numbers() { return sweep(true, mask_card_numbers_in); }

std::size_t Capture::redact_h245_user_input() { return sweep(false, mask_h245_user_input_in); }

std::size_t Capture::redact_pbx_digits() { return sweep(false, mask_pbx_digits_in); }

std::size_t Capture::redact_srtp_keys() { return sweep(true, mask_srtp_keys_in); }

Capture::TextRedactions Capture::redact_text(bool dtmf, bool cards) {
    Masking all[] = {{mask_h245_user_input_in, false}, {mask_pbx_digits_in, false},
                     {mask_srtp_keys_in, true}, {mask_card_numbers_in, true}};
    Masking* first = dtmf ? all : all + 2;
    sweep(first, cards ? all + 4 : all + 3);
    return {all[0].found, all[1].found, all[2].found, all[3].found};
}

std::size_t Capture::sweep(bool udp, Masker mask) {
    Masking m{mask, udp};
    sweep(&m, &m + 1);
    return m.found;
}

void Capture::sweep(Masking* first, Masking* last) {
    std::vector<std::uint8_t> placed(frames_.size(), 0);  // 1: written in place, 2: aside
    for (const Placement& pl : placements_)
        placed[pl.frame] = pl.where == Placement::Aside ? 2 : pl.where == Placement::InPlace ? 1 : 3;
    std::vector<bool> rtp(frames_.size(), false);
    for (const CaptureFlow& flow : flows_)
        for (std::uint32_t i : flow.frames) rtp[i] = true;
    // Where a frame's payload can be masked: written from its own bytes (as captured, or
    // replaced in place already: written with its checksums made), or nullptr (left out, or
    // written from elsewhere).
    const auto maskable = [&](std::size_t i) -> std::uint8_t* {
        const Frame& f = frames_[i];
        if (f.scrubbed && placed[i] != 1) return nullptr;
        return bytes_.data() + f.offset + (f.tcp ? f.tcp + f.tcp_header : f.udp + 8u);
    };
    // Frame i's payload written as `masked` (as long), when it can be and differs.
    const std::function<void(std::size_t, const std::uint8_t*)> put = [&](std::size_t i, const std::uint8_t* masked) {
        std::uint8_t* payload = maskable(i);
        const std::size_t n = frames_[i].payload_len;
        if (payload == nullptr || std::memcmp(payload, masked, n) == 0) return;
        if (frames_[i].scrubbed) std::memcpy(payload, masked, n);
        else replace_payload(i, masked, n);
    };
    const bool udp = std::any_of(first, last, [](const Masking& m) { return m.udp; });
    std::vector<std::uint8_t> swept;
    for (std::size_t i = 0; udp && i < frames_.size(); ++i) {  // UDP: each datagram as it is
        const Frame& f = frames_[i];
        if (!f.udp || f.frag || rtp[i] || f.payload_len == 0 || maskable(i) == nullptr) continue;
        const std::uint8_t* payload = maskable(i);
        swept.assign(payload, payload + f.payload_len);
        std::size_t found = 0;
        for (Masking* m = first; m != last; ++m) {
            const std::size_t n = m->udp ? m->mask(swept.data(), swept.size()) : 0;
            m->found += n;
            found += n;
        }
        if (found > 0) put(i, swept.data());
    }
    sweep_tcp(put, first, last);
}

void Capture::sweep_tcp(const std::function<void(std::size_t, const std::uint8_t*)>& put, Masking* first,
                        Masking* last) {
    // TCP: each direction of a connection as the stream it carries, its segments joined where
    // one begins where the one before ends (a card number typed into a chat or a terminal
    // goes out a keystroke a segment: no segment holds it). Copies of a segment (resent) are
    // masked alike; a segment that overlaps the one before without being its copy, or one
    // cut short by the snap length, ends the joined run there.
    struct Piece {
        std::int64_t seq;  // of the payload's first byte, from the direction's first segment's
        std::uint32_t len, frame;
        bool whole;  // captured whole
    };
    struct Direction {
        std::uint32_t base = 0;  // its first segment's sequence number
        std::vector<Piece> pieces;
        std::vector<std::int64_t> starts;  // where a SYN began its stream (its data from there)
    };
    std::unordered_map<std::string, Direction> directions;
    for (std::uint32_t i = 0; i < frames_.size(); ++i) {
        const Frame& f = frames_[i];
        if (!f.tcp) continue;
        const std::uint8_t* b = bytes_.data() + f.offset;
        const bool syn = (b[f.tcp + 13] & 0x02) != 0;  // a SYN's data begins a number later
        const std::uint32_t seq = be32(b + f.tcp + 4) + (syn ? 1u : 0u);
        Direction& d = directions[tcp_direction(f)];
        if (d.pieces.empty()) d.base = seq;
        const std::size_t end = f.family == 4 ? f.ip + be16(b + f.ip + 2) : f.ip + 40u + be16(b + f.ip + 4);
        d.pieces.push_back({static_cast<std::int32_t>(seq - d.base), f.payload_len, i,
                            end <= f.caplen && f.tcp + f.tcp_header + f.payload_len == end});
        if (syn) d.starts.push_back(d.pieces.back().seq);
    }
    for (const auto& [key, seq] : tcp_starts_) {  // (SYNs without data)
        const auto it = directions.find(key);
        if (it != directions.end()) it->second.starts.push_back(static_cast<std::int32_t>(seq - it->second.base));
    }
    std::vector<std::uint8_t> stream;
    std::vector<std::pair<std::size_t, std::size_t>> run;  // each place in it: [first, last) copies
    std::vector<std::size_t> apart;  // pieces inside a run's span, no copy of its places
    WebSocketFrames frames_masked;
    std::vector<std::uint8_t> joined;  // a WebSocket client's payloads, one after another
    Masking* cards = nullptr;  // the card numbers' sweep, when it is one of these
    for (Masking* m = first; m != last; ++m)
        if (m->mask == mask_card_numbers_in) cards = m;
    // `from_start`: the run begins where its connection's stream does (its SYN captured).
    const auto sweep = [&](const std::vector<Piece>& pieces, bool from_start) {
        stream.clear();
        for (const auto& [first, last] : run) {
            const Frame& f = frames_[pieces[first].frame];
            const std::uint8_t* payload = bytes_.data() + f.offset + f.tcp + f.tcp_header;
            stream.insert(stream.end(), payload, payload + f.payload_len);
        }
        // A WebSocket client's frames are masked (RFC 6455 §5.3): read unmasked, masked again.
        const std::size_t masked = unmask_websocket_client(stream, frames_masked);
        std::size_t found = 0;
        const auto mask = [&](std::uint8_t* p, std::size_t n) {
            for (Masking* m = first; m != last; ++m) {
                const std::size_t k = m->mask(p, n);
                m->found += k;
                found += k;
            }
        };
        mask(stream.data(), stream.size());
        // The rest of a client's frame the run begins in, its header and key not captured:
        // replaced when it may hold a card number (read under each key that shows one).
        // (What pcifilter.pcap's reading of it replaced already is not read again.) A run
        // that begins where its stream does holds no such rest: a client's stream begins
        // with its handshake, so what comes before frames found there is no masked frame's
        // (frames found by chance in other data: the last bytes of a gzip'd body can read
        // as frames).
        const std::size_t rest = frames_masked.caught_at;
        if (cards != nullptr && rest > 0 && !from_start &&
            masked_rest_may_hold_card(stream.data(), rest, frames_masked)) {
            std::fill(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(rest), std::uint8_t{'X'});
            ++cards->found;
            ++found;
        }
        if (masked > 1) {
            // And its frames' payloads joined, as the messages they carry: a web terminal or
            // chat that sends a keystroke a frame puts a card number's digits in frames of
            // their own, a frame header between each two.
            const auto& payloads = frames_masked.payloads;  // (start, key), (end, -)
            joined.clear();
            for (std::size_t f = 0; f + 1 < payloads.size(); f += 2)
                joined.insert(joined.end(), stream.begin() + static_cast<std::ptrdiff_t>(payloads[f].first),
                              stream.begin() + static_cast<std::ptrdiff_t>(payloads[f + 1].first));
            const std::size_t before = found;
            mask(joined.data(), joined.size());
            for (std::size_t f = 0, at = 0; found > before && f + 1 < payloads.size(); f += 2) {
                const std::size_t a = payloads[f].first, b = payloads[f + 1].first;
                std::copy(joined.begin() + static_cast<std::ptrdiff_t>(at),
                          joined.begin() + static_cast<std::ptrdiff_t>(at + (b - a)),
                          stream.begin() + static_cast<std::ptrdiff_t>(a));
                at += b - a;
            }
        }
        unmask_websocket_client(stream, frames_masked, masked);
        if (found == 0) return;
        std::size_t at = 0;
        for (const auto& [first, last] : run) {
            const std::size_t n = pieces[first].len;
            for (std::size_t c = first; c < last; ++c) put(pieces[c].frame, stream.data() + at);
            at += n;
        }
    };
    for (auto& [key, direction] : directions) {
        std::vector<Piece>& pieces = direction.pieces;
        std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
            return a.seq != b.seq ? a.seq < b.seq : a.len > b.len;
        });
        std::sort(direction.starts.begin(), direction.starts.end());  // (a SYN flood's many: searched)
        apart.clear();
        std::size_t k = 0;
        while (k < pieces.size()) {
            run.clear();
            std::int64_t next = pieces[k].seq;
            const bool from_start = std::binary_search(direction.starts.begin(), direction.starts.end(), next);
            for (;;) {
                std::size_t e = k + 1;  // the copies of this place
                while (e < pieces.size() && pieces[e].seq == pieces[k].seq && pieces[e].len == pieces[k].len) ++e;
                run.emplace_back(k, e);
                next += pieces[k].len;
                const bool whole = pieces[k].whole;
                k = e;
                while (k < pieces.size() && pieces[k].seq + pieces[k].len <= next) apart.push_back(k++);
                if (!whole || k == pieces.size() || pieces[k].seq != next) break;
            }
            sweep(pieces, from_start);
        }
        for (std::size_t i : apart) {
            run.assign(1, {i, i + 1});
            sweep(pieces, false);
        }
    }
}

std::size_t Capture::leave_out(std::size_t flow_index) {
    if (flow_index >= flows_.size()) throw std::out_of_range("no such flow");
    if (flow_scrubbed_[flow_index]) throw std::invalid_argument("this flow was scrubbed already");
    flow_scrubbed_[flow_index] = true;
    for (std::uint32_t i : flows_[flow_index].frames) frames_[i].scrubbed = true;  // no placement: not written
    return flows_[flow_index].frames.size();
}

void Capture::remove_fragment(std::size_t frame) {
    if (frame >= frames_.size() || !frames_[frame].frag) throw std::out_of_range("no such UDP fragment");
    Frame& f = frames_[frame];
    if (f.scrubbed) throw std::invalid_argument("this frame was replaced already");
    f.scrubbed = true;  // scrubbed with no placement: not written
}

std::size_t Capture::remove_port(std::uint16_t port, bool tcp) {
    std::size_t n = 0;
    for (Frame& f : frames_) {
        const std::uint16_t header = tcp ? f.tcp : f.udp;  // its ports first
        if (header == 0 || f.scrubbed) continue;
        const std::uint8_t* h = bytes_.data() + f.offset + header;
        if (be16(h) != port && be16(h + 2) != port) continue;
        f.scrubbed = true;  // scrubbed with no placement: not written
        ++n;
    }
    return n;
}

std::uint16_t udp_checksum(const std::uint8_t* src, const std::uint8_t* dst, std::size_t address_bytes,
                           const std::uint8_t* datagram, std::size_t len) noexcept {
    const std::uint16_t c = transport_checksum(src, dst, address_bytes, 17, datagram, len, 6);
    return c ? c : std::uint16_t{0xFFFF};  // RFC 768: a computed 0 is sent as all ones
}

void Capture::fix_tunnels(const Frame& f, std::ptrdiff_t delta, std::vector<std::uint8_t>& buf) noexcept {
    std::uint8_t* b = buf.data();
    for (int k = f.tunnels - 1; k >= 0; --k) {
        const Tunnel& t = f.tunnel[static_cast<std::size_t>(k)];
        std::size_t end;  // of the tunnel's IP packet, once moved
        if (t.family == 4) {
            end = t.ip + static_cast<std::size_t>(be16(b + t.ip + 2) + delta);
            put_be16(b + t.ip + 2, static_cast<std::uint16_t>(end - t.ip));
            const std::size_t ihl = (b[t.ip] & 0x0F) * 4u;
            put_be16(b + t.ip + 10, 0);
            put_be16(b + t.ip + 10, fold(sum16(b + t.ip, ihl)));
        } else {
            end = t.ip + 40u + static_cast<std::size_t>(be16(b + t.ip + 4) + delta);
            put_be16(b + t.ip + 4, static_cast<std::uint16_t>(end - t.ip - 40));
        }
        if (end > buf.size()) continue;  // cut short by the snap length: cannot be summed
        const std::size_t bytes = t.family == 4 ? 4 : 16;
        const std::uint8_t* src = b + t.ip + (t.family == 4 ? 12 : 8);
        const std::uint8_t* dst = b + t.ip + (t.family == 4 ? 16 : 24);
        if (t.gtp != 0)  // GTP-U: what follows its 8-byte header
            put_be16(b + t.gtp + 2, static_cast<std::uint16_t>(end - t.gtp - 8));
        if (t.udp != 0) {
            const std::size_t ulen = end - t.udp;
            put_be16(b + t.udp + 4, static_cast<std::uint16_t>(ulen));
            if (t.udp_checksum) put_be16(b + t.udp + 6, udp_checksum(src, dst, bytes, b + t.udp, ulen));
        }
        if (t.gre != 0) {  // RFC 2784: over the GRE header and its payload
            put_be16(b + t.gre + 4, 0);
            put_be16(b + t.gre + 4, fold(sum16(b + t.gre, end - t.gre)));
        }
    }
}

// The bytes of frame f carrying placement p's packet: the frame's headers, the packet, and
// whatever the frame held after its IP datagram (Ethernet padding), lengths and checksums
// made valid (the tunnels' around it too).
std::size_t Capture::build(const Frame& f, const Placement& p, std::vector<std::uint8_t>& buf) const {
    const std::uint8_t* src = bytes_.data() + f.offset;
    if (f.frag) {  // same length, changed in place: the IP header stays valid (the UDP
        buf.assign(src, src + f.caplen);  // checksum, in the first fragment, is the caller's)
        fix_tunnels(f, 0, buf);
        return buf.size();
    }
    if (f.tcp) {  // same length, changed in place: only the TCP checksum to make valid
        buf.assign(src, src + f.caplen);
        std::uint8_t* b = buf.data();
        const std::size_t end = f.family == 4 ? f.ip + be16(b + f.ip + 2) : f.ip + 40u + be16(b + f.ip + 4);
        if (end > f.caplen) return buf.size();  // cut short by the snap length: cannot be summed
        const std::size_t tlen = end - f.tcp;
        put_be16(b + f.tcp + 16,
                 transport_checksum(b + src_at(f), b + dst_at(f), address_bytes(f), 6, b + f.tcp, tlen, 16));
        fix_tunnels(f, 0, buf);
        return buf.size();
    }
    const std::size_t head = f.udp + 8u, tail = f.caplen - f.ip_end;
    buf.resize(head + p.len + tail);
    std::uint8_t* b = buf.data();
    std::memcpy(b, src, head);
    std::memcpy(b + head, p.where == Placement::Aside ? out_bytes_.data() + p.offset : src + head, p.len);
    std::memcpy(b + head + p.len, src + f.ip_end, tail);
    const std::size_t ulen = 8u + p.len;
    put_be16(b + f.udp + 4, static_cast<std::uint16_t>(ulen));
    if (f.family == 4) {
        const std::size_t ihl = (b[f.ip] & 0x0F) * 4u;
        put_be16(b + f.ip + 2, static_cast<std::uint16_t>(f.udp - f.ip + ulen));
        put_be16(b + f.ip + 10, 0);
        put_be16(b + f.ip + 10, fold(sum16(b + f.ip, ihl)));
    } else {
        put_be16(b + f.ip + 4, static_cast<std::uint16_t>(f.udp - f.ip - 40 + ulen));
    }
    put_be16(b + f.udp + 6,
             f.udp_checksum ? udp_checksum(b + src_at(f), b + dst_at(f), address_bytes(f), b + f.udp, ulen) : 0);
    const std::ptrdiff_t delta = static_cast<std::ptrdiff_t>(head + p.len) - static_cast<std::ptrdiff_t>(f.ip_end);
    fix_tunnels(f, delta, buf);
    if (f.pppoe != 0)  // the PPPoE session's payload length, around the outermost IP packet
        put_be16(b + f.pppoe + 4, static_cast<std::uint16_t>(be16(b + f.pppoe + 4) + delta));
    return buf.size();
}

std::size_t Capture::write(const std::string& path) const {
    std::vector<Placement> placed(placements_);
    std::stable_sort(placed.begin(), placed.end(),
                     [](const Placement& a, const Placement& b) { return a.frame < b.frame; });
    // The output: classic pcap through libpcap (its resolution kept); pcapng written here,
    // as libpcap 1.10 writes only classic pcap: a section header, one interface (the
    // capture's link type, nanosecond timestamps) and an enhanced packet block per frame
    // (pcapng spec, draft-ietf-opsawg-pcapng §4.1, §4.2, §4.3).
    std::unique_ptr<pcap_t, PcapCloser> dead;
    std::unique_ptr<pcap_dumper_t, DumperCloser> dumper;
    std::unique_ptr<std::FILE, FileCloser> ng;
    if (pcapng_) {
        ng.reset(std::fopen(path.c_str(), "wb"));
        if (!ng) throw std::runtime_error(path + ": " + std::strerror(errno));
        std::setvbuf(ng.get(), nullptr, _IOFBF, 1 << 20);
    } else {
        dead.reset(pcap_open_dead_with_tstamp_precision(
            linktype_, snaplen_, nanosecond_ ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO));
        if (!dead) throw std::runtime_error("libpcap: cannot open a capture for writing");
        std::FILE* fp = std::fopen(path.c_str(), "wb");
        if (!fp) throw std::runtime_error(path + ": " + std::strerror(errno));
        std::setvbuf(fp, nullptr, _IOFBF, 1 << 20);
        dumper.reset(pcap_dump_fopen(dead.get(), fp));  // closes fp when closed
        if (!dumper) {
            std::fclose(fp);
            throw std::runtime_error(path + ": " + pcap_geterr(dead.get()));
        }
    }
    const auto put32 = [](std::vector<std::uint8_t>& v, std::uint32_t x) {
        const std::uint8_t b[4] = {static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(x >> 8),
                                   static_cast<std::uint8_t>(x >> 16), static_cast<std::uint8_t>(x >> 24)};
        v.insert(v.end(), b, b + 4);
    };
    std::vector<std::uint8_t> block;
    if (ng) {
        // Section header: byte-order magic, version 1.0, section length unknown (-1).
        for (std::uint32_t x : {0x0A0D0D0Au, 28u, 0x1A2B3C4Du, 0x00000001u, 0xFFFFFFFFu, 0xFFFFFFFFu, 28u})
            put32(block, x);
        // Interface description: link type (the file's LINKTYPE value, not libpcap's DLT:
        // raw IP is 101 in files), snap length, option if_tsresol = 9 (ns).
        const int file_linktype = linktype_ == kLinkRaw ? kLinkRawFile : linktype_;
        for (std::uint32_t x : {1u, 32u, static_cast<std::uint32_t>(file_linktype & 0xFFFF),
                                static_cast<std::uint32_t>(snaplen_), 0x00010009u, 9u, 0u, 32u})
            put32(block, x);
        if (std::fwrite(block.data(), 1, block.size(), ng.get()) != block.size())
            throw std::runtime_error(path + ": write failed");
    }
    std::vector<std::uint8_t> buf;
    std::size_t written = 0;
    auto next = placed.begin();
    const auto emit = [&](const Frame& f, const std::uint8_t* data, std::size_t caplen, std::size_t origlen) {
        ++written;
        if (!ng) {
            pcap_pkthdr h{};
            h.ts.tv_sec = static_cast<time_t>(f.ts_ns / 1000000000);
            const std::int64_t sub = f.ts_ns % 1000000000;
            h.ts.tv_usec = static_cast<suseconds_t>(nanosecond_ ? sub : sub / 1000);
            h.caplen = static_cast<bpf_u_int32>(caplen);
            h.len = static_cast<bpf_u_int32>(origlen);
            pcap_dump(reinterpret_cast<u_char*>(dumper.get()), &h, data);
            return;
        }
        const std::size_t padded = (caplen + 3) & ~std::size_t{3};
        block.clear();
        const auto total = static_cast<std::uint32_t>(32 + padded);
        const auto ts = static_cast<std::uint64_t>(f.ts_ns);
        for (std::uint32_t x : {6u, total, 0u, static_cast<std::uint32_t>(ts >> 32),
                                static_cast<std::uint32_t>(ts), static_cast<std::uint32_t>(caplen),
                                static_cast<std::uint32_t>(origlen)})
            put32(block, x);
        block.insert(block.end(), data, data + caplen);
        block.resize(28 + padded, 0);
        put32(block, total);
        if (std::fwrite(block.data(), 1, block.size(), ng.get()) != block.size())
            throw std::runtime_error(path + ": write failed");
    };
    for (std::uint32_t i = 0; i < frames_.size(); ++i) {
        const Frame& f = frames_[i];
        if (!f.scrubbed) {
            emit(f, bytes_.data() + f.offset, f.caplen, f.origlen);
            continue;
        }
        for (; next != placed.end() && next->frame == i; ++next) {
            if (next->where == Placement::Same) {
                emit(f, bytes_.data() + f.offset, f.caplen, f.origlen);
                continue;
            }
            const std::size_t n = build(f, *next, buf);
            emit(f, buf.data(), n, f.origlen - f.caplen + n);  // what was not captured stays so
        }
    }
    // libpcap does not report a failed write per packet: the stream's error flag does.
    std::FILE* out = ng ? ng.get() : pcap_dump_file(dumper.get());
    if (std::fflush(out) != 0 || std::ferror(out))
        throw std::runtime_error(path + ": write failed: " + std::strerror(errno));
    return written;
}

}  // namespace pcifilter
