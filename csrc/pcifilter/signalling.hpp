// SPDX-License-Identifier: Apache-2.0
// Which signalling a payload starts: SIP, Homer's HEP, rtpengine's ng (bare, over HTTP or
// over WebSocket), syslog, a PBX's event channel (AMI, FreeSWITCH's event socket, ARI), a
// media gateway's control protocol (MGCP, Megaco text), SIP in SCTP. The capture reader
// (capture.hpp) marks the datagrams and TCP segments they start for pcifilter.pcap, which
// reads them whole (pcifilter.relay, .pbx, .gateway hold the same tests in Python). Each
// reads at most the bytes it is given and allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pcifilter {

// A SIP request (one of the methods a call uses) or response starts here.
bool starts_sip(const std::uint8_t* p, std::size_t n) noexcept;

// Where a SIP message starts in a HEP version 1 or 2 packet (Homer's older encapsulation,
// Kamailio siptrace's default: version, header length, address family, protocol, ports,
// addresses; version 2 then a 12-byte time header), or 0 when it is not one holding SIP.
std::size_t hep2_sip_offset(const std::uint8_t* p, std::size_t n) noexcept;

// A HEP3 packet (Homer's encapsulation, which carries copies of SIP) starts here.
bool starts_hep3(const std::uint8_t* p, std::size_t n) noexcept;

// An ng message (rtpengine's control protocol) starts here: a cookie, a space, then a
// dictionary's start: bencode's "d" and a key's length, or JSON's "{" and a key, its end or
// blank (a line of text such as "Subject: details" is none; an ng message always holds a
// key: "command" or "result"). pcifilter.relay's _NG is the same test.
bool starts_ng_message(const std::uint8_t* p, std::size_t n) noexcept;

// rtpengine's ng over HTTP: a request to its /ng URI, or a request or reply whose headers
// give the ng content type (application/x-rtpengine-ng), its body an ng message.
bool starts_http_ng(const std::uint8_t* p, std::size_t n) noexcept;

// An HTTP/1.x request (one of the methods an application's API uses) or response starts
// here: pcifilter.http_bodies reads its bodies de-chunked and decompressed.
bool starts_http_message(const std::uint8_t* p, std::size_t n) noexcept;

// Syslog over TCP (RFC 6587: a message "<PRI>...", or its length, a space and the message):
// a relay's DTMF log may be forwarded so (pcifilter.relay reads the lines that name DTMF).
bool starts_syslog(const std::uint8_t* p, std::size_t n) noexcept;

// A PBX's event channel (Asterisk's AMI, FreeSWITCH's event socket): a segment that starts
// its banner, a message or a client's command; pcifilter.pbx reads it (PBX_STARTS there).
bool starts_pbx_events(const std::uint8_t* p, std::size_t n) noexcept;

// An MGCP command (RFC 3435: a four-letter verb, a transaction id of 1-9 digits, the
// endpoint, the protocol's name and version "N.N") or response (three digits, the
// transaction id), or a Megaco text message ("MEGACO/1 " or "!/1 ", RFC 3525): their
// events and signals carry keypresses (pcifilter/gateway.py, whose _START this mirrors).
bool starts_gateway_control(const std::uint8_t* p, std::size_t n) noexcept;

// An SCTP packet (RFC 9260: a 12-byte common header, then chunks of a type, flags and a
// length, each padded to 4 bytes) with a DATA or I-DATA chunk (RFC 8260) whose user data
// starts a SIP message.
bool sctp_carries_sip(const std::uint8_t* p, std::size_t n) noexcept;

// A media relay's control message or DTMF log, for the caller to read (keypresses and SRTP
// keys are in them): an ng message (Kamailio's and OpenSIPS's rtpengine modules send their
// SDP so), or JSON naming "DTMF" anywhere (rtpengine's DTMF log: dtmf-log-dest, or syslog);
// and a media gateway's control message (MGCP, Megaco text: starts_gateway_control).
bool may_be_relay_message(const std::uint8_t* p, std::size_t n) noexcept;

// SIP over TCP may send CRLF keep-alives (RFC 5626 §3.5.1) before a message.
bool starts_sip_after_crlfs(const std::uint8_t* p, std::size_t n) noexcept;

// An ARI event (Asterisk's REST interface, its events over WebSocket: JSON, "type" first)
// that reports a keypress: {"type":"ChannelDtmfReceived",... (compact or pretty-printed).
bool starts_ari_dtmf(const std::uint8_t* p, std::size_t n) noexcept;

// Signalling over WebSocket: SIP (RFC 7118) or rtpengine's ng (its "ng.rtpengine.com"
// subprotocol, which Kamailio's rtpengine module speaks over ws://): a TCP segment that
// starts the opening handshake (the client's GET or the server's 101) naming the "sip" or
// "ng.rtpengine.com" subprotocol, or may (its header block not whole in the segment, or the
// segment shorter than "GET ": the caller reads it reassembled, and leaves the connection
// alone when it is neither), or a WebSocket data frame (RFC 6455 §5.2) whose payload,
// unmasked, starts a SIP or ng message (a connection caught after its handshake). And
// Asterisk's ARI events: the client's request for them, or a frame that reports a keypress
// (the server's direction shows nothing else that tells it apart).
bool starts_websocket_signalling(const std::uint8_t* p, std::size_t n) noexcept;

// A compressed WebSocket message's first frame (permessage-deflate, RFC 7692: RSV1 set on a
// text or binary frame) at the segment's start, as a sender writes it (RSV2 and RSV3 clear,
// its length in the fewest bytes, some payload), that ends exactly at the segment's end,
// frames following it to there, or goes on past it (a message longer than 125 bytes): a
// WebSocket connection the capture caught after its handshake may send its messages so.
// Random data (TLS) starts such a segment about once in 8,000 (1,400-byte segments); the
// caller reads the connection for frames before it takes it for a WebSocket.
bool starts_compressed_websocket_message(const std::uint8_t* p, std::size_t n) noexcept;

// HTTP/2 in clear (h2c, RFC 9113 §3.4): a client's connection preface, or a SETTINGS frame
// on stream 0 (a server's first frame; an ACK too) whose length is a whole number of
// settings (as pcifilter/http2.py's starts_http2).
bool starts_http2(const std::uint8_t* p, std::size_t n) noexcept;

// HTTP/2 frames at the segment's start, each header as RFC 9113 §6 has a sender write it (a
// type it defines, only that type's flags, the reserved bit clear, the stream and length the
// type needs; the first frame no longer than the default 16,384 bytes), one after another to
// the segment's end or past it: a connection the capture caught after its start (a gRPC
// channel lives for hours). The caller reads the connection for frames before it takes it
// for HTTP/2 (as pcifilter/http2.py's starts_frames).
bool starts_http2_frames(const std::uint8_t* p, std::size_t n) noexcept;

}  // namespace pcifilter
