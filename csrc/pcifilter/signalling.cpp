// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/signalling.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "pcifilter/byte_order.hpp"
#include "pcifilter/text_bytes.hpp"
#include "pcifilter/websocket_frame.hpp"

namespace pcifilter {

using text_bytes::ascii_lower;

bool starts_sip(const std::uint8_t* p, std::size_t n) noexcept {
    if (n < 4 || p[0] < 'A' || p[0] > 'U') return false;  // RTP starts 0x80-0xBF
    static constexpr const char* kStarts[] = {
        "SIP/2.0 ", "INVITE ", "ACK ", "BYE ", "CANCEL ", "OPTIONS ", "UPDATE ", "PRACK ",
        "REGISTER ", "INFO ", "NOTIFY ", "SUBSCRIBE ", "REFER ", "MESSAGE ", "PUBLISH "};
    for (const char* s : kStarts) {
        const std::size_t k = std::strlen(s);
        if (n >= k && std::memcmp(p, s, k) == 0) return true;
    }
    return false;
}

std::size_t hep2_sip_offset(const std::uint8_t* p, std::size_t n) noexcept {
    if (n < 16 || (p[0] != 1 && p[0] != 2) || !((p[1] == 16 && p[2] == 2) || (p[1] == 40 && p[2] == 10))) return 0;
    const std::size_t at = p[1] + (p[0] == 2 ? 12u : 0u);
    return at < n && starts_sip(p + at, n - at) ? at : 0;
}

bool starts_hep3(const std::uint8_t* p, std::size_t n) noexcept {
    return n >= 4 && std::memcmp(p, "HEP3", 4) == 0;
}

bool starts_ng_message(const std::uint8_t* p, std::size_t n) noexcept {
    std::size_t k = 0;
    while (k < n && k < 256 && p[k] > 0x20 && p[k] < 0x7F) ++k;
    if (k == 0 || k + 2 >= n || p[k] != ' ') return false;
    const std::uint8_t c = p[k + 2];
    if (p[k + 1] == 'd') return c >= '0' && c <= '9';
    return p[k + 1] == '{' && (c == '"' || c == '}' || c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

bool starts_http_ng(const std::uint8_t* p, std::size_t n) noexcept {
    const auto starts = [&](const char* s) {
        const std::size_t k = std::strlen(s);
        return n >= k && std::memcmp(p, s, k) == 0;
    };
    if (starts("POST /ng ")) return true;
    if (!starts("POST ") && !starts("HTTP/1.")) return false;
    static constexpr char kType[] = "x-rtpengine-ng";
    const std::size_t k = sizeof(kType) - 1, end = std::min<std::size_t>(n, 8192);
    for (std::size_t i = 0; i + k <= end; ++i) {
        std::size_t j = 0;
        while (j < k && (p[i + j] | 0x20) == kType[j]) ++j;  // (ASCII letters, '-': case-folded)
        if (j == k) return true;
        if (p[i] == '\r' && i + 3 < end && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') return false;
    }
    return false;
}

bool starts_http_message(const std::uint8_t* p, std::size_t n) noexcept {
    static constexpr const char* kStarts[] = {"GET ", "POST ", "PUT ", "PATCH ", "DELETE ",
                                              "HEAD ", "OPTIONS ", "HTTP/1.0 ", "HTTP/1.1 "};
    for (const char* s : kStarts) {
        const std::size_t k = std::strlen(s);
        if (n >= k && std::memcmp(p, s, k) == 0) return true;
    }
    return false;
}

bool starts_syslog(const std::uint8_t* p, std::size_t n) noexcept {
    std::size_t k = 0;
    while (k < n && k < 10 && p[k] >= '0' && p[k] <= '9') ++k;
    if (k > 0) {
        if (k + 1 >= n || p[k] != ' ') return false;
        p += k + 1, n -= k + 1;
    }
    if (n < 3 || p[0] != '<') return false;
    std::size_t d = 1;
    while (d < n && d <= 3 && p[d] >= '0' && p[d] <= '9') ++d;
    return d > 1 && d < n && p[d] == '>';
}

bool starts_pbx_events(const std::uint8_t* p, std::size_t n) noexcept {
    static constexpr const char* kStarts[] = {
        "Asterisk Call Manager/", "Event: ", "Action: ", "Response: ", "Content-Type: ", "Content-Length: ",
        "auth ", "event ", "api ", "bgapi ", "sendmsg", "connect\n", "myevents", "filter ", "POST /ari/"};
    for (const char* s : kStarts) {
        const std::size_t k = std::strlen(s);
        if (n >= k && std::memcmp(p, s, k) == 0) return true;
    }
    return false;
}

bool starts_gateway_control(const std::uint8_t* p, std::size_t n) noexcept {
    const auto alpha = [](std::uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    const auto digit = [](std::uint8_t c) { return c >= '0' && c <= '9'; };
    const auto digits = [&](std::size_t at, std::size_t* end) {  // 1-9 of them
        std::size_t k = at;
        while (k < n && k - at < 10 && digit(p[k])) ++k;
        *end = k;
        return k > at && k - at <= 9;
    };
    for (const char* megaco : {"MEGACO/", "!/"}) {
        const std::size_t k = std::strlen(megaco);
        if (n >= k + 2 && std::memcmp(p, megaco, k) == 0) return digit(p[k]) && p[k + 1] == ' ';
    }
    std::size_t at = 0;
    if (n >= 4 && digit(p[0]) && digit(p[1]) && digit(p[2]) && p[3] == ' ')  // a response
        return digits(4, &at) && at < n && (p[at] == ' ' || p[at] == '\r' || p[at] == '\n');
    if (n < 5 || !alpha(p[0]) || !alpha(p[1]) || !alpha(p[2]) || !alpha(p[3]) || p[4] != ' ') return false;
    if (!digits(5, &at) || at >= n || p[at] != ' ') return false;
    const std::size_t endpoint = ++at;  // 1-255 characters, no blank
    while (at < n && at - endpoint < 256 && p[at] != ' ' && p[at] != '\r' && p[at] != '\n') ++at;
    if (at == endpoint || at - endpoint > 255 || at >= n || p[at] != ' ') return false;
    const std::size_t name = ++at;  // 2-8 letters, a blank, "N.N"
    while (at < n && at - name < 9 && alpha(p[at])) ++at;
    if (at - name < 2 || at - name > 8) return false;
    return at + 4 <= n && p[at] == ' ' && digit(p[at + 1]) && p[at + 2] == '.' && digit(p[at + 3]);
}

bool sctp_carries_sip(const std::uint8_t* p, std::size_t n) noexcept {
    std::size_t at = 12;
    for (int k = 0; k < 64 && at + 4 <= n; ++k) {
        const std::uint8_t type = p[at];
        const std::size_t len = be16(p + at + 2);
        if (len < 4) return false;
        const std::size_t data = at + (type == 0 ? 16 : type == 64 ? 20 : len);
        const std::size_t end = std::min(n, at + len);
        if ((type == 0 || type == 64) && data < end && starts_sip(p + data, end - data)) return true;
        at += (len + 3) & ~std::size_t{3};
    }
    return false;
}

bool may_be_relay_message(const std::uint8_t* p, std::size_t n) noexcept {
    if (starts_ng_message(p, n) || starts_gateway_control(p, n)) return true;
    static constexpr char kDtmf[] = "\"DTMF\"";
    return std::search(p, p + n, kDtmf, kDtmf + sizeof kDtmf - 1) != p + n;
}

bool starts_sip_after_crlfs(const std::uint8_t* p, std::size_t n) noexcept {
    while (n >= 2 && p[0] == '\r' && p[1] == '\n') p += 2, n -= 2;
    return starts_sip(p, n);
}

bool starts_ari_dtmf(const std::uint8_t* p, std::size_t n) noexcept {
    static constexpr char kType[] = "\"ChannelDtmfReceived\"";
    return n > 0 && p[0] == '{' && std::search(p, p + n, kType, kType + sizeof kType - 1) != p + n;
}

bool starts_websocket_signalling(const std::uint8_t* p, std::size_t n) noexcept {
    const auto lower = [](std::uint8_t c) { return static_cast<char>(ascii_lower(c)); };
    const auto starts = [&](const char* s) {
        const std::size_t k = std::strlen(s);
        return n >= k && std::memcmp(p, s, k) == 0;
    };
    for (const char* s : {"GET ", "HTTP/1.1 101"})  // a segment shorter than that: maybe
        if (n > 0 && n < std::strlen(s) && std::memcmp(p, s, n) == 0) return true;
    if (starts("GET /ari/events")) return true;  // Asterisk's ARI events (its DTMF among them)
    if (starts("GET ") || starts("HTTP/1.1 101")) {
        static constexpr char kEnd[] = "\r\n\r\n";
        if (std::search(p, p + n, kEnd, kEnd + 4) == p + n) return true;  // cut: maybe
        static constexpr char kHeader[] = "\nsec-websocket-protocol:";
        const std::size_t k = sizeof(kHeader) - 1, end = std::min<std::size_t>(n, 8192);
        for (std::size_t i = 0; i + k <= end; ++i) {
            std::size_t j = 0;
            while (j < k && lower(p[i + j]) == kHeader[j]) ++j;
            if (j < k) continue;
            // The header's value: comma-separated tokens, one of them "sip" or the ng one.
            char token[24];
            std::size_t t = 0;  // the token's characters so far (lower-cased, no blanks)
            for (std::size_t at = i + k; at <= end; ++at) {
                const char c = at < end ? lower(p[at]) : '\r';
                if (c == ',' || c == '\r' || c == '\n') {
                    const std::string_view name(token, std::min(t, sizeof(token)));
                    if (t <= sizeof(token) && (name == "sip" || name == "ng.rtpengine.com")) return true;
                    t = 0;
                    if (c != ',') break;
                } else if (c != ' ' && c != '\t') {
                    if (t < sizeof(token)) token[t] = c;
                    ++t;
                }
            }
        }
        return false;
    }
    if (n < 2 || (p[0] & 0x70) != 0 || ((p[0] & 0x0F) != 1 && (p[0] & 0x0F) != 2)) return false;
    WebSocketHeader h;
    if (!read_websocket_header(p, n, 0, &h)) return false;
    std::uint8_t head[64];  // room for an ng message's cookie
    const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>({h.len, n - h.data, sizeof(head)}));
    for (std::size_t i = 0; i < k; ++i)
        head[i] = static_cast<std::uint8_t>(p[h.data + i] ^ (h.masked ? h.key[i % 4] : 0));
    return starts_sip(head, k) || starts_ng_message(head, k) || starts_ari_dtmf(head, k);
}

bool starts_compressed_websocket_message(const std::uint8_t* p, std::size_t n) noexcept {
    if (n < 2 || (p[0] & 0x70) != 0x40 || ((p[0] & 0x0F) != 1 && (p[0] & 0x0F) != 2)) return false;
    WebSocketHeader h;
    if (!read_websocket_header(p, n, 0, &h) || !strict_websocket_header(h) || h.len == 0) return false;
    if (h.len > n - h.data) return h.len7 >= 126;  // a longer message, on in the next segments
    for (std::size_t at = h.data + static_cast<std::size_t>(h.len); at < n;) {
        WebSocketHeader next;  // frames after it, masked as it is, to the segment's end
        if (!read_websocket_header(p, n, at, &next) || !strict_websocket_header(next) || next.masked != h.masked)
            return false;
        if (next.len > n - next.data) return next.len7 >= 126;
        at = next.data + static_cast<std::size_t>(next.len);
    }
    return true;
}

bool starts_http2(const std::uint8_t* p, std::size_t n) noexcept {
    static constexpr char kPreface[] = "PRI * HTTP/2.0";
    if (n >= sizeof kPreface - 1 && std::memcmp(p, kPreface, sizeof kPreface - 1) == 0) return true;
    if (n < 9) return false;
    return p[3] == 4 && p[4] <= 1 && be32(p + 5) == 0 && be24(p) % 6 == 0;
}

namespace {

// The length of the frame whose header starts at p[at] when the header is strict (see
// starts_http2_frames), else -1.
long strict_http2_frame(const std::uint8_t* p, std::size_t n, std::size_t at, std::uint32_t max_length) noexcept {
    struct Rule {
        std::uint8_t flags;   // the flags the type may carry
        long length;          // the length it must have, -1: any
        int on_stream_zero;   // 1: on stream 0, 0: on another, -1: either
    };
    static constexpr Rule kRules[10] = {
        {0x09, -1, 0},  // DATA
        {0x2D, -1, 0},  // HEADERS
        {0x00, 5, 0},   // PRIORITY
        {0x00, 4, 0},   // RST_STREAM
        {0x01, -1, 1},  // SETTINGS
        {0x0C, -1, 0},  // PUSH_PROMISE
        {0x01, 8, 1},   // PING
        {0x00, -1, 1},  // GOAWAY
        {0x00, 4, -1},  // WINDOW_UPDATE
        {0x04, -1, 0},  // CONTINUATION
    };
    if (n < 9 || at > n - 9) return -1;
    const std::uint8_t* h = p + at;
    const std::uint32_t length = be24(h);
    const std::uint8_t kind = h[3], flags = h[4];
    if (kind >= 10 || (flags & ~kRules[kind].flags) != 0 || (h[5] & 0x80) != 0 || length > max_length) return -1;
    const Rule& rule = kRules[kind];
    const bool zero = be32(h + 5) == 0;
    if ((rule.length >= 0 && length != static_cast<std::uint32_t>(rule.length)) ||
        (rule.on_stream_zero >= 0 && zero != (rule.on_stream_zero == 1)))
        return -1;
    if (kind == 4 && (length % 6 != 0 || (flags != 0 && length != 0))) return -1;
    if ((kind == 7 && length < 8) || (kind == 5 && length < 4)) return -1;
    const bool padded = (flags & 0x08) != 0 && (kind == 0 || kind == 1 || kind == 5);
    if (kind == 1 && (flags & 0x20) != 0 && length < 5u + (padded ? 1u : 0u)) return -1;
    if (padded && (length == 0 || (at + 9 < n && h[9] >= length))) return -1;
    return static_cast<long>(length);
}

}  // namespace

bool starts_http2_frames(const std::uint8_t* p, std::size_t n) noexcept {
    long length = strict_http2_frame(p, n, 0, 1u << 14);
    for (std::size_t at = 0; length >= 0;) {
        at += 9 + static_cast<std::size_t>(length);
        if (at + 9 > n) return true;  // its end, or past it (the last header maybe cut by it)
        length = strict_http2_frame(p, n, at, (1u << 24) - 1);
    }
    return false;
}

}  // namespace pcifilter
