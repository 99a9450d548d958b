// SPDX-License-Identifier: Apache-2.0
// Card data and keys masked wherever they are in bytes: payment card numbers in clear, a
// PBX's and H.323's keypress forms, SRTP keys of SDP text; and a WebSocket client's frames
// unmasked so that those can be found in them. Each works in place on the bytes it is given
// (a datagram, a TCP direction's stream, a decoded message), replaces what it finds by 'X'
// (the length never changes) and allocates nothing. The capture's sweeps (capture.hpp:
// Capture::redact_text) run them over every datagram and TCP stream; pcifilter.pcap over
// what it reads decoded. Python holds the same readers for the messages it recognises
// (pcifilter.pbx, pcifilter.sdp), tests keep the two alike.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pcifilter {

// Replaces by 'X' each payment card number in p[0, n) (13-19 digits in groups with a single
// space, dash, "+", "%20" or no-break space between them or none, a card scheme's prefix,
// the Luhn check; and such a number written in base64 or hex, in a run of 20 base64
// characters or 26 hex digits or more read decoded from its start, and across a line break
// of base64 in lines of whole groups (MIME, PEM): the characters that encode it; or in
// UTF-16 text, either byte order: its digits' bytes) and returns
// how many: Capture::mask_card_numbers over a capture's frames, and for pcifilter.pcap over
// what it reads decoded (a WebSocket message unmasked, a body inflated).
std::size_t mask_card_numbers_in(std::uint8_t* p, std::size_t n) noexcept;
// Replaces by 'X' the keypress in each H.245 UserInputIndication in p[0, n) (alphanumeric,
// signal, extendedAlphanumeric: H.323's out-of-band DTMF) and returns how many changed.
std::size_t mask_h245_user_input_in(std::uint8_t* p, std::size_t n) noexcept;
// Replaces by 'X' each keypress value of a PBX event channel's forms in p[0, n) (AMI, ESL,
// ARI: as pcifilter/pbx.py reads them) and returns how many changed.
std::size_t mask_pbx_digits_in(std::uint8_t* p, std::size_t n) noexcept;
// Replaces by 'X' each SRTP key of SDP text in p[0, n) (a=crypto inline keys, a=key-mgmt
// data: as pcifilter/sdp.py's srtp_key_spans reads them) and returns how many changed.
std::size_t mask_srtp_keys_in(std::uint8_t* p, std::size_t n) noexcept;

// What unmask_websocket_client keeps from one call to the next (and reuses from stream to
// stream): where each data frame's payload is, and the scratch of its search for frames.
struct WebSocketFrames {
    std::vector<std::pair<std::size_t, std::array<std::uint8_t, 4>>> payloads;  // (start, key), (end, -)
    std::vector<std::uint8_t> chains;
    std::vector<std::pair<std::size_t, std::size_t>> walk;
    // Where the frames found by the search begin (no handshake before them): the bytes
    // before are the rest of a frame whose header and key the run lacks. 0: none such.
    std::size_t caught_at = 0;
    // masked_rest_may_hold_card's: the keys read so far, each to where; a read's bytes.
    std::unordered_map<std::uint32_t, std::size_t> keys_read;
    std::vector<std::uint8_t> read;
};

// Whether the rest of a WebSocket client's frame whose header (and key) a run lacks,
// p[0, n), may hold a card number. A 4-byte repeated XOR hides nothing from a reader who
// tries each byte of the key against what a card number looks like, a class of places
// (modulo 4) at a time; so it is read here: over each 13 bytes in a row, the key bytes that
// make them a card number's characters (digits, blanks, dashes, '+', '%') in every class,
// and under each such key the bytes around them swept for a card number (the Luhn check, a
// scheme's prefix). More keys or reads than a stream's data can need (a run of one byte
// repeated shows tens of thousands) are taken to hold one. Random bytes show such keys
// about once in 50 million places. Runs of 4 'X' or more are taken for masking done
// before (pcifilter.pcap's), not the frame's bytes: not read, and they end a card number;
// a rest that shows "HTTP/1." or "SIP/2.0" in clear is no masked frame's (false).
bool masked_rest_may_hold_card(const std::uint8_t* p, std::size_t n, WebSocketFrames& scratch);

// A TCP stream `s` (a direction's run) of a WebSocket client: each data frame's payload
// unmasked in place (a compressed one left as it is), from the end of its opening
// handshake when `s` starts with it, else from where a client's frames are found to run,
// one after another, to the end of `s` (a connection caught after its handshake, or a run
// after a segment not captured: the rest of the frame before them, whose header and key
// were not captured, stays masked; where it ends is `frames.caught_at`); `frames` gets
// where they are. Called again with
// `again` (what the first call returned) it masks them back. Returns how many frames it
// read; 0 when `s` shows none.
std::size_t unmask_websocket_client(std::vector<std::uint8_t>& s, WebSocketFrames& frames,
                                    std::size_t again = SIZE_MAX) noexcept;

}  // namespace pcifilter
