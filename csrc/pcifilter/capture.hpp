// SPDX-License-Identifier: Apache-2.0
// Capture files (classic pcap and pcapng) scrubbed in C++, with no per-packet Python.
//
// Reading is libpcap's (both formats, any timestamp resolution). Each frame's UDP datagram
// is located (Ethernet with VLAN tags, Linux SLL and SLL2, BSD loopback, raw IPv4/IPv6;
// IPv6 extension headers; inside up to two tunnels: IP in IP, GRE, ERSPAN I-III, VXLAN,
// Geneve; UDP fragments are listed for the caller to reassemble), SIP
// messages are marked, and every
// datagram that parses as RTP is put in a flow: (addresses, ports, SSRC). TCP segments are
// located too: those that start a SIP message are marked, and the segments of every TCP
// connection that carries SIP are listed, for the caller to reassemble (SIP over TCP). Which flows are
// scrubbed, as what, is the caller's choice (pcifilter.pcap reads the capture's SDP):
// scrub() runs a flow's packets through a StreamFilter and puts each packet that comes out
// back in the frame it came from (same capture time and link/IP/UDP headers); frames whose
// packet the filter took out are removed. write() then writes the capture in its own format
// and link type, with UDP/IP lengths and the IPv4 header and UDP checksums made valid (IPv6
// with a Routing header: with the final destination it holds, RFC 8200 §8.1).
//
// The whole capture is held in memory: its bytes plus about 72 bytes per frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pcifilter/stream_filter.hpp"

namespace pcifilter {

// One RTP flow: one direction of one stream (a new SSRC is a new flow).
struct CaptureFlow {
    int family = 4;  // 4 or 6
    std::array<std::uint8_t, 16> src{}, dst{};  // IPv4 addresses in the first 4 bytes
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t ssrc = 0;
    std::array<std::uint32_t, 128> payload_types{};  // frames of each payload type
    std::vector<std::uint32_t> frames;  // frame indices, in capture order
    // Frames whose payload reads as an RFC 4733 DTMF event packet continuing the one before
    // (4 bytes, event 0-15, reserved bit clear, the same timestamp: every packet of a
    // keypress carries its start): telephone-events, whatever their payload type says.
    std::uint32_t event_like = 0;
    std::uint32_t last_timestamp = 0;  // of the frame before (for event_like)
};

// A payload-carrying segment of a TCP connection (one direction) that carries SIP.
struct TcpSegment {
    std::uint32_t frame = 0;
    std::uint32_t connection = 0;  // the same number for the same addresses and ports
    std::uint32_t seq = 0;         // sequence number of the payload's first byte
    const std::uint8_t* payload = nullptr;
    std::size_t len = 0;
    // It starts a WebSocket opening handshake naming the "sip" subprotocol, or a WebSocket
    // data frame whose payload starts a SIP message (SIP over WebSocket, RFC 7118), or it is
    // the server's 101 after a client's GET /ari/events.
    bool websocket = false;
};

// A fragment of a UDP datagram (IPv4, or IPv6 with a Fragment header), for the caller to
// reassemble (a SIP INVITE with a large SDP often spans two); or of a tunnel's packet (IP in
// IP, GRE: `protocol` 4, 41 or 47), which may hold a call and cannot be scrubbed in pieces.
struct UdpFragment {
    std::uint32_t frame = 0;
    int family = 4;
    std::uint8_t protocol = 17;
    std::array<std::uint8_t, 16> src{}, dst{};  // IPv4 in the first 4 bytes; dst: the final one
    std::uint32_t id = 0;       // identification: with the addresses, the datagram
    std::uint32_t offset = 0;   // of this fragment's data in the datagram (UDP header on)
    bool more = false;          // more fragments follow
    const std::uint8_t* data = nullptr;
    std::size_t len = 0;        // as captured
};

struct FlowScrubResult {
    std::uint64_t packets_in = 0, packets_out = 0;
};

// RFC 768 checksum of a whole UDP datagram of `len` bytes (its own checksum field, bytes 6-7,
// counted as zero) with the pseudo-header of its source and destination addresses (4 bytes
// each for IPv4, 16 for IPv6, RFC 8200 §8.1: the final destination); a computed 0 is
// returned as 0xFFFF, as it is sent. For the capture writer and for pcifilter.pcap, which
// puts reassembled SIP datagrams back into their fragments.
std::uint16_t udp_checksum(const std::uint8_t* src, const std::uint8_t* dst, std::size_t address_bytes,
                           const std::uint8_t* datagram, std::size_t len) noexcept;

class Capture {
public:
    // Reads the whole file. Throws std::invalid_argument for a file libpcap cannot read
    // (its message), a truncated one, or an unsupported link type: nothing is half-read.
    explicit Capture(const std::string& path);

    int linktype() const noexcept { return linktype_; }
    bool pcapng() const noexcept { return pcapng_; }
    std::size_t size() const noexcept { return frames_.size(); }
    std::size_t udp_frames() const noexcept { return udp_frames_; }
    // Frames whose packet lies inside more tunnels than are read (kMaxTunnels: GRE in VXLAN
    // in GRE): what they hold cannot be scrubbed, so they are not written.
    std::size_t too_deep() const noexcept { return too_deep_; }
    // Frames of SIP over SCTP (RFC 4168): their keypresses and keys are not read, so they
    // are not written.
    std::size_t sip_over_sctp() const noexcept { return sip_over_sctp_; }
    // Frames that hold a SIP message (a request line or status line starts the UDP datagram
    // or the TCP segment's payload), or may hold one (a UDP datagram that starts a HEP3
    // packet, or a HEP version 1 or 2 packet holding SIP: Homer's encapsulation of captured
    // SIP, for the caller to unwrap).
    const std::vector<std::uint32_t>& sip_frames() const noexcept { return sip_frames_; }
    // UDP datagrams (not RTP) that may hold a media relay's control message or DTMF log:
    // rtpengine's ng protocol ("cookie d...e" or "cookie {...}") or JSON naming "DTMF", in
    // capture order, for the caller to read.
    const std::vector<std::uint32_t>& relay_frames() const noexcept { return relay_frames_; }
    // A frame's UDP or TCP payload as captured (else empty).
    std::pair<const std::uint8_t*, std::size_t> udp_payload(std::size_t frame) const;
    // The payload-carrying segments of each TCP connection (one direction) in which some
    // segment starts a SIP message (or SIP over WebSocket, or an ng message: rtpengine's
    // control protocol over TCP, or a PBX event channel's: AMI, FreeSWITCH's event socket,
    // or a syslog message, or a HEP3 packet: Homer's
    // encapsulation over TCP, or an HTTP/1.x message), in capture order. And the server's direction of a client's
    // GET /ari/events (Asterisk's ARI events over WebSocket), its 101 marked `websocket`.
    std::vector<TcpSegment> sip_tcp_segments() const;
    // Every fragment of a fragmented UDP datagram, in capture order.
    std::vector<UdpFragment> udp_fragments() const;
    const std::vector<CaptureFlow>& flows() const noexcept { return flows_; }

    // Runs every frame of `flow` through `filter` (then flushes it) and places what comes
    // out. A flow is scrubbed at most once.
    FlowScrubResult scrub(std::size_t flow, StreamFilter& filter);
    // The same for several flows of one path through one filter, their frames in capture
    // order: telephone-events under an SSRC of their own beside the audio's (the filter
    // takes them for the audio's keypresses, and masks the audio where they are).
    FlowScrubResult scrub(const std::vector<std::size_t>& flows, StreamFilter& filter);

    // Replaces the UDP payload of one frame that no scrubbed flow holds (a SIP message whose
    // body was redacted): written with its lengths and checksums made valid. A TCP segment's
    // payload can be replaced only by one of the same length (the stream's sequence numbers
    // stay right); its checksum is made valid when the segment was captured whole. A UDP
    // fragment's data too, same length, written as given (the datagram's UDP checksum, in
    // its first fragment, is the caller's to make valid).
    void replace_payload(std::size_t frame, const std::uint8_t* data, std::size_t len);

    // Leaves a flow's frames out of the output (an RTP-like flow not taken for audio: it may
    // hold a call in a codec no one named, so it is not written as it was); the flow counts
    // as scrubbed. Returns how many frames.
    std::size_t leave_out(std::size_t flow);

    // Leaves one UDP fragment out of the output (RTP in IP fragments, or a fragment of a
    // datagram the capture does not hold whole: what cannot be scrubbed is not written). A
    // fragment whose data was replaced already cannot be removed.
    void remove_fragment(std::size_t frame);
    // Leaves out every TCP segment with a payload from or to `port` (RTP over TCP, RFC 4571,
    // declared in SDP: its packets cannot be taken out of a byte stream, so it is not
    // scrubbed), except those replaced already; returns how many.
    std::size_t remove_tcp_port(std::uint16_t port) { return remove_port(port, true); }
    // Leaves out every whole UDP datagram from or to `port` (a protocol that carries calls
    // the capture cannot scrub: IAX2), except those replaced already; returns how many. Its
    // flows are the caller's to leave alone.
    std::size_t remove_udp_port(std::uint16_t port) { return remove_port(port, false); }
    // Card numbers in clear anywhere but the audio: a payment card number (13-19 digits, in
    // groups with a single space, dash, "+" or "%20" between them or none; a scheme's prefix; the
    // Luhn check) in a UDP datagram that is not RTP or in a TCP segment, as written (after
    // the caller's redactions), replaced by 'X' in place: what an application, a log or a
    // chat sent. A TCP connection is swept as the stream it carries (segments joined where
    // one begins where the one before ends: a number typed a keystroke a segment is found).
    // Not in IP fragments (their UDP checksum is the caller's). Returns how many.
    std::size_t mask_card_numbers();
    // H.323's keypresses (H.245 UserInputIndication, on its own connection or tunnelled in
    // H.225.0) in every TCP connection, each direction as its stream (as above), replaced
    // by 'X' in place; returns how many messages.
    std::size_t redact_h245_user_input();
    // A PBX event channel's keypress values (mask_pbx_digits_in) in every TCP connection's
    // streams, replaced in place: for connections caught mid-stream, or whose segments
    // never start a message, which pcifilter/pbx.py does not recognise. Returns how many.
    std::size_t redact_pbx_digits();
    // SRTP keys of SDP text (mask_srtp_keys_in) in every non-RTP UDP datagram and every TCP
    // connection's streams, replaced in place: SDP in messages not recognised (an ng
    // connection caught mid-stream, a log line). Returns how many.
    std::size_t redact_srtp_keys();
    // The sweeps above in one pass over the datagrams and streams, each applied in this
    // order (as pcifilter.pcap runs them): H.245 and the PBX forms when `dtmf`, the SRTP keys
    // always, the card numbers when `cards`, last. What each found.
    struct TextRedactions {
        std::size_t h245 = 0, pbx_digits = 0, srtp_keys = 0, card_numbers = 0;
    };
    TextRedactions redact_text(bool dtmf, bool cards);

    // Writes every frame, scrubbed ones replaced; returns how many frames were written.
    // Throws std::runtime_error when the file cannot be written.
    std::size_t write(const std::string& path) const;

private:
    // An IP packet that holds the frame's (IP in IP, GRE, ERSPAN, VXLAN, Geneve, GTP-U):
    // where its IP header lies, and its UDP header (VXLAN, Geneve, GTP-U) or its GRE header
    // when that holds a checksum (else 0).
    struct Tunnel {
        std::uint16_t ip = 0, udp = 0, gre = 0;
        std::uint16_t gtp = 0;  // a GTP-U header's offset (its length field), or 0
        std::uint8_t family = 0;
        bool udp_checksum = false;
    };
    static constexpr int kMaxTunnels = 2;
    struct Frame {
        std::int64_t ts_ns = 0;
        std::uint64_t offset = 0;  // into bytes_
        std::uint32_t caplen = 0, origlen = 0;
        std::uint32_t ip_end = 0;  // end of the IP datagram within the captured bytes
        std::uint32_t payload_len = 0;  // UDP payload bytes captured
        std::uint16_t ip = 0, udp = 0;  // offsets of the IP and UDP headers (udp 0: not UDP)
        std::uint16_t dst6 = 0;         // IPv6: offset of the final destination in a Routing
                                        // header (0: the IPv6 header's destination)
        std::uint16_t tcp = 0;          // offset of a TCP segment's header (or 0)
        std::uint8_t tcp_header = 0;    // its length in bytes
        std::uint16_t frag = 0;         // offset of a UDP fragment's data (or 0)
        std::uint16_t frag_offset = 0;  // ... its place in the datagram, in bytes
        bool frag_more = false;         // ... more fragments follow
        std::uint32_t frag_id = 0;      // ... the datagram's identification
        std::uint8_t frag_protocol = 0; // ... its protocol (17, or a tunnel's)
        std::uint8_t family = 0;
        std::uint16_t pppoe = 0;  // offset of a PPPoE session header around the IP packet (or 0)
        bool scrubbed = false;  // in a scrubbed flow: written as its placements
        bool udp_checksum = false;  // the UDP checksum was set (IPv4 may leave it 0)
        // The tunnels around the IP packet above, outermost first: their lengths and
        // checksums are made valid again when what they hold changes.
        std::uint8_t tunnels = 0;
        std::array<Tunnel, kMaxTunnels> tunnel{};
    };
    // A packet out of a filter, to be written in a frame's place: the frame's own payload
    // unchanged (Same), written over it (InPlace), or kept in out_bytes_ (Aside).
    struct Placement {
        enum Where : std::uint8_t { Same, InPlace, Aside };
        std::uint32_t frame = 0;
        std::uint32_t len = 0;
        std::uint64_t offset = 0;  // into out_bytes_ when Aside
        Where where = Aside;
    };

    void index(std::uint32_t n, const std::uint8_t* data, std::uint32_t caplen);
    static std::size_t routing_final_destination(const std::uint8_t* p, std::size_t rh, std::size_t caplen) noexcept;
    // Where a frame's source and (final) destination addresses lie, and their length.
    static std::size_t address_bytes(const Frame& f) noexcept { return f.family == 4 ? 4 : 16; }
    static std::size_t src_at(const Frame& f) noexcept { return f.ip + (f.family == 4 ? 12u : 8u); }
    static std::size_t dst_at(const Frame& f) noexcept {
        return f.family == 4 ? f.ip + 16u : f.dst6 != 0 ? f.dst6 : f.ip + 24u;
    }
    static void note_fragment(Frame& f, std::size_t ip, std::size_t data, std::size_t end, std::size_t caplen,
                              std::uint8_t family, std::uint8_t protocol, std::uint32_t offset, bool more,
                              std::uint32_t id) noexcept;
    std::size_t build(const Frame& f, const Placement& p, std::vector<std::uint8_t>& buf) const;
    std::string tcp_direction(const Frame& f, bool reverse = false) const;
    std::size_t remove_port(std::uint16_t port, bool tcp);
    using Masker = std::size_t (*)(std::uint8_t*, std::size_t) noexcept;
    struct Masking {
        Masker mask;
        bool udp;               // over every non-RTP UDP datagram too, not only TCP streams
        std::size_t found = 0;  // what it counted
    };
    // Maskers over every TCP connection's streams (and non-RTP UDP datagrams, those that
    // ask), one after another on each, what they change written in place.
    void sweep(Masking* first, Masking* last);
    std::size_t sweep(bool udp, Masker mask);
    void sweep_tcp(const std::function<void(std::size_t, const std::uint8_t*)>& put, Masking* first, Masking* last);
    // The tunnels' lengths moved by `delta` bytes (what they hold grew or shrank) and their
    // checksums made valid, innermost first.
    static void fix_tunnels(const Frame& f, std::ptrdiff_t delta, std::vector<std::uint8_t>& buf) noexcept;

    int linktype_ = 0;
    int snaplen_ = 0;
    bool pcapng_ = false, nanosecond_ = false;
    std::vector<std::uint8_t> bytes_;
    std::vector<Frame> frames_;
    // TCP segments with no data but SYN (not in frames_ as TCP): each one's direction
    // (tcp_direction) and the sequence number its stream's data begins at.
    std::vector<std::pair<std::string, std::uint32_t>> tcp_starts_;
    std::size_t udp_frames_ = 0;
    std::size_t too_deep_ = 0;
    std::size_t sip_over_sctp_ = 0;
    std::vector<std::uint32_t> sip_frames_;
    std::vector<std::uint32_t> relay_frames_;
    std::vector<CaptureFlow> flows_;
    std::vector<bool> flow_scrubbed_;
    std::vector<std::uint8_t> out_bytes_;
    std::vector<Placement> placements_;
};

}  // namespace pcifilter
