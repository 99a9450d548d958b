// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/redaction.hpp"

#include <algorithm>
#include <bitset>
#include <cstring>
#include <string_view>

#include "pcifilter/byte_order.hpp"
#include "pcifilter/text_bytes.hpp"
#include "pcifilter/websocket_frame.hpp"

namespace pcifilter {

using text_bytes::ascii_lower;
using text_bytes::first_of;
using text_bytes::word_at;
using text_bytes::x_out;

namespace {

// A card scheme's number: its prefix (Visa 4; Mastercard 51-55, 2221-2720; American Express
// 34, 37; Diners 30, 36, 38, 39; JCB 35; Discover, UnionPay, Maestro and others 5x, 6x) and
// the Luhn check (ISO/IEC 7812-1).
bool is_card_number(const std::uint8_t* digits, std::size_t n) noexcept {
    const int d0 = digits[0] - '0', d01 = d0 * 10 + (digits[1] - '0');
    const int d0123 = d01 * 100 + (digits[2] - '0') * 10 + (digits[3] - '0');
    const bool prefix = d0 == 4 || d0 == 5 || d0 == 6 || (d0123 >= 2221 && d0123 <= 2720) ||
                        d01 == 34 || d01 == 37 || d01 == 30 || d01 == 35 || d01 == 36 || d01 == 38 || d01 == 39;
    if (!prefix) return false;
    int sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        int d = digits[n - 1 - i] - '0';
        if (i % 2 == 1 && (d *= 2) > 9) d -= 9;
        sum += d;
    }
    return sum % 10 == 0;
}

}  // namespace

namespace {

// Groups [s, e) of a run (`wraps`: a bit for each a line's end alone follows) as a number
// written in groups: no line's end alone between them, or some other separator too and
// the groups as a card prints its number: 4-4-4-4 (-3 for 19 digits), 4-6-5 (American
// Express), 4-6-4 (Diners Club). Out of line: the sweep's loop stays as tight as without.
[[gnu::noinline, gnu::cold]] bool printed(const std::pair<std::size_t, std::size_t>* groups, std::size_t s,
                                          std::size_t e, std::uint32_t wraps) noexcept {
    wraps = wraps >> s & ((std::uint32_t{1} << (e - s - 1)) - 1);
    if (wraps == 0) return true;
    if (std::bitset<24>(wraps).count() == e - s - 1) return false;
    char layout[20] = {};  // the lengths, '0' + each (at most 19 digits in all)
    for (std::size_t m = s; m < e && m - s < 19; ++m)
        layout[m - s] = static_cast<char>('0' + (groups[m].second - groups[m].first));
    const std::string_view l(layout);
    return l == "4444" || l == "44443" || l == "465" || l == "464";
}

// Each run of digit groups (a single space, dash, "+", "%20" or no-break space between them,
// a quoted-printable soft line break before or after it, a line's end after a space, or a
// line's end alone: see below), from each group on: the shortest groups that make 13-19
// digits of a card number (a card written "4111 1111 1111 1111 1227" is found though an
// expiry follows). A run of 20 digits or more in one group is no card number.
std::size_t mask_plain_card_numbers(std::uint8_t* p, std::size_t n) noexcept {
    constexpr std::size_t kWrapsAt = 30;  // the shortest line text is wrapped hard at
    const auto digit = [&](std::size_t i) { return p[i] >= '0' && p[i] <= '9'; };
    // A line's end at i ("\n" or "\r\n"): its length, or 0.
    const auto line_end = [&](std::size_t i) -> std::size_t {
        if (i < n && p[i] == '\n') return 1;
        return i + 1 < n && p[i] == '\r' && p[i + 1] == '\n' ? 2 : 0;
    };
    // Quoted-printable (RFC 2045 §6.7: an e-mail's text, a CRM's receipt) wraps its lines
    // at 76 characters with a soft line break, "=" and the line's end, anywhere in a
    // number: about one number in five is cut so. Its length at i, or 0.
    const auto soft_break = [&](std::size_t i) -> std::size_t {
        const std::size_t end = i < n && p[i] == '=' ? line_end(i + 1) : 0;
        return end > 0 ? end + 1 : 0;
    };
    std::size_t count = 0;
    std::size_t i = 0;
    while (i < n) {
        if (!digit(i)) {
            ++i;
            continue;
        }
        // The run's groups: [start, end) each, and (a bit each) those a line's end alone follows.
        std::array<std::pair<std::size_t, std::size_t>, 24> groups{};
        std::uint32_t hard = 0;
        std::size_t g = 0, j = i;
        for (;;) {
            const std::size_t start = j;
            while (j < n && digit(j)) ++j;
            if (g < groups.size()) groups[g] = {start, j};
            ++g;
            // Between groups: a space or a dash, or a space as a URL or form encodes it
            // ("+", "%20": a card typed into a web form and sent over plain HTTP).
            // Or a no-break space in UTF-8 (a number pasted from a formatted page). A soft
            // line break before it or after it, or in its place.
            const std::size_t before = soft_break(j);
            const std::size_t at = j + before;
            const std::size_t blank = at < n && (p[at] == ' ' || p[at] == '-' || p[at] == '+') ? 1
                                      : at + 2 < n && p[at] == '%' && p[at + 1] == '2' && p[at + 2] == '0' ? 3
                                      : at + 1 < n && p[at] == 0xC2 && p[at + 1] == 0xA0                   ? 2
                                                                                                           : 0;
            // After a space, a line's end too: a soft line break of text sent format=flowed
            // (RFC 3676: an e-mail wrapped at a space, which stays at the line's end).
            const std::size_t flowed = at < n && p[at] == ' ' ? line_end(at + 1) : 0;
            std::size_t after = 0;  // (one soft break at most)
            if (before == 0 && blank > 0) after = flowed > 0 ? flowed : soft_break(at + blank);
            // Or a line's end alone between groups of 3-6 digits: text wrapped hard at a
            // space, the space dropped ("4111 1111\r\n1111 1111": a mail sent without
            // format=flowed, a note's fixed-width lines). Taken only where a wrap would be,
            // at the end of a line of kWrapsAt characters or more, and within a number
            // written in groups as cards print them (another separator among the groups it
            // joins, and their lengths a card's layout: `printed`, below), so that lists
            // and tables of numbers are not read as one.
            const auto long_line = [&] {
                for (std::size_t b = 1; b <= kWrapsAt; ++b)
                    if (j < b || p[j - b] == '\n') return j < b;  // (the text's start: unknown)
                return true;
            };
            std::size_t wrap = before + blank == 0 ? line_end(j) : 0;
            if (wrap > 0) {
                std::size_t next = 0;  // the digits after it
                while (next <= 6 && j + wrap + next < n && digit(j + wrap + next)) ++next;
                const auto three_to_six = [](std::size_t k) { return k >= 3 && k <= 6; };
                if (!three_to_six(j - start) || !three_to_six(next) || !long_line()) wrap = 0;
            }
            const std::size_t sep = wrap > 0 ? wrap : before + blank + after;
            if (sep > 0 && j + sep < n && digit(j + sep)) {
                if (wrap > 0 && g <= groups.size()) hard |= std::uint32_t{1} << (g - 1);
                j += sep;
                continue;
            }
            break;
        }
        g = std::min(g, groups.size());
        for (std::size_t s = 0; s < g;) {
            std::uint8_t digits[19];
            std::size_t k = 0, e = s;
            bool found = false;
            while (e < g && k + (groups[e].second - groups[e].first) <= 19) {
                for (std::size_t q = groups[e].first; q < groups[e].second; ++q) digits[k++] = p[q];
                ++e;
                if (k >= 13 && (hard == 0 || printed(groups.data(), s, e, hard)) && is_card_number(digits, k)) {
                    found = true;
                    break;
                }
            }
            if (found) {
                for (std::size_t m = s; m < e; ++m)
                    for (std::size_t q = groups[m].first; q < groups[m].second; ++q) p[q] = 'X';
                ++count;
                s = e;
            } else {
                ++s;
            }
        }
        i = j;
    }
    return count;
}

// The characters a card number is written with (its groups' separators among them).
constexpr std::string_view kCardCharacters = "0123456789 -+%";
// Bytes read out of a stream otherwise (decoded, narrowed) are swept a piece at a time, each
// overlapping the one before by more than a card number (25 characters at most), so that
// one a piece's end cuts is whole in the next.
constexpr std::size_t kPiece = 1536, kOverlap = 64;  // (kPiece: a multiple of 3)

// The plain sweep over `k` bytes read out of a stream (decoded, narrowed) into `text`, and
// `mark(i)` for each byte it changed, to change what they were read from. Returns how many
// it found.
template <class Mark>
std::size_t mask_read(std::uint8_t* text, std::size_t k, Mark mark) noexcept {
    std::array<std::uint8_t, kPiece> before;  // (written before it is read)
    std::copy(text, text + k, before.begin());
    const std::size_t found = mask_plain_card_numbers(text, k);
    for (std::size_t i = 0; found > 0 && i < k; ++i)
        if (text[i] != before[i]) mark(i);
    return found;
}

// Base64 (RFC 4648, the standard alphabet or the URL's) and hex digits: each character's
// value, or -1.
constexpr std::array<std::int8_t, 256> kBase64 = [] {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int c = 0; c < 26; ++c) t['A' + c] = static_cast<std::int8_t>(c), t['a' + c] = static_cast<std::int8_t>(26 + c);
    for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<std::int8_t>(52 + c);
    t['+'] = t['-'] = 62;
    t['/'] = t['_'] = 63;
    return t;
}();
constexpr std::array<std::int8_t, 256> kHex = [] {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<std::int8_t>(c);
    for (int c = 0; c < 6; ++c) t['A' + c] = t['a' + c] = static_cast<std::int8_t>(10 + c);
    return t;
}();

// The card numbers in one run of encoded characters p[0, n) (`bits`: 6 for base64, 4 for
// hex), decoded from its first character a piece at a time (a last group of 2 or 3 base64
// characters, its padding left off, gives 1 or 2 bytes): the characters that encode a card
// number's digits become 'X'. A piece overlaps the one before by more than a card number's
// length, so that one cut by a piece's end is whole in the next (and one found is X'd in p
// already, not found again).
std::size_t mask_encoded_run(std::uint8_t* p, std::size_t n, unsigned bits) noexcept {
    const auto& value = bits == 6 ? kBase64 : kHex;
    const std::size_t group = bits == 6 ? 4 : 2, per_group = bits == 6 ? 3 : 1;  // characters, bytes
    std::array<std::uint8_t, kPiece> decoded;  // (written before it is read)
    std::size_t count = 0;
    for (std::size_t at = 0;;) {  // `at`: a group's first character
        const std::size_t chars = std::min(n - at, kPiece / per_group * group);
        std::size_t k = 0;  // bytes decoded
        for (std::size_t g = 0; g < chars; g += group) {
            const std::size_t c = std::min(group, chars - g);  // less at the run's end
            if (c < 2) break;  // a base64 character alone, or an odd hex digit: no byte
            std::uint32_t v = 0;
            for (std::size_t q = 0; q < group; ++q)
                v = (v << bits) | (q < c ? static_cast<std::uint32_t>(value[p[at + g + q]]) : 0u);
            const std::size_t out = c == group ? per_group : c - 1;  // base64: 2 -> 1, 3 -> 2 bytes
            for (std::size_t q = 0; q < out; ++q)
                decoded[k++] = static_cast<std::uint8_t>(v >> (8 * (per_group - 1 - q)));
        }
        count += mask_read(decoded.data(), k, [&](std::size_t i) {  // the characters of its group
            for (std::size_t q = 0; q < group && at + (i / per_group) * group + q < n; ++q)
                p[at + (i / per_group) * group + q] = 'X';
        });
        if (at + chars == n) break;  // the run's last piece
        at += chars - kOverlap / per_group * group;
    }
    return count;
}

// Card numbers written in base64 or hex (a token, a JSON value or a form field sent
// encoded, a log line that dumps a buffer in hex): each run of 20 base64 characters or
// more with one among them that is no hex digit, and of 26 hex digits or more, read
// decoded from its start (hex read as base64 gives digits enough to pass for a card now
// and then). (Decimal digits are hex digits too: a run of "3x" pairs that decodes to a card
// number is one written in hex.)
std::size_t mask_encoded_card_numbers(std::uint8_t* p, std::size_t n) noexcept {
    std::size_t count = 0;
    // How many base64 characters end at i, counted without a branch a byte (in random
    // bytes one in four is one: a branch on each cost twice the time of the whole scan).
    std::size_t run = 0;
    for (std::size_t i = 0; i < n; ++i) {
        run = (run + 1) * static_cast<std::size_t>(kBase64[p[i]] >= 0);
        if (run < 20) continue;
        const std::size_t start = i + 1 - run;  // the run of base64 characters [start, end)
        std::size_t end = i + 1;
        while (end < n && kBase64[p[end]] >= 0) ++end;
        bool not_hex = false;  // base64 that is all hex digits is hex (1 in 10^9 is not)
        for (std::size_t q = start; q < end && !not_hex; ++q) not_hex = kHex[p[q]] < 0;
        if (not_hex) count += mask_encoded_run(p + start, end - start, 6);
        // A line break in base64 (MIME's lines of 76 characters, PEM's of 64: whole groups):
        // a card number it cuts is read across it, from this line's last 36 characters and
        // the next one's first 36 (a card number takes 34 at most).
        std::size_t next = end + (end < n && p[end] == '\r');
        next += next < n && p[next] == '\n';
        if (not_hex && (end - start) % 4 == 0 && next > end && next < n && p[next - 1] == '\n') {
            constexpr std::size_t kSide = 36;
            std::array<std::uint8_t, 2 * kSide> across;
            std::array<std::size_t, 2 * kSide> where;
            std::size_t k = 0;
            for (std::size_t q = end - std::min(kSide, end - start); q < end; ++q) where[k] = q, across[k++] = p[q];
            for (std::size_t q = next; q < n && q < next + kSide && kBase64[p[q]] >= 0; ++q) where[k] = q, across[k++] = p[q];
            if (const std::size_t found = mask_encoded_run(across.data(), k, 6); found > 0) {
                count += found;
                for (std::size_t q = 0; q < k; ++q)
                    if (across[q] == 'X') p[where[q]] = 'X';
            }
        }
        for (std::size_t h = start; end - start >= 26 && h < end;) {  // the runs of hex digits in it
            std::size_t e = h;
            while (e < end && kHex[p[e]] >= 0) ++e;
            if (e - h >= 26) count += mask_encoded_run(p + h, e - h, 4);
            h = e + 1;
        }
        i = end;  // (not a base64 character, or the end)
        run = 0;
    }
    return count;
}

// Card numbers in UTF-16 text, either byte order (Windows' wide strings: SQL Server's TDS,
// SMB, an application's own protocol): a 0 byte between each two characters. Each run of 13
// card characters (digits, blanks, no-break spaces, dashes, '+', '%', lines' ends) or more so written is read narrowed, a
// piece at a time as encoded runs are, and the bytes of a card number's digits become 'X'
// (beside their 0s).
std::size_t mask_wide_card_numbers(std::uint8_t* p, std::size_t n) noexcept {
    constexpr std::array<bool, 256> kCard = [] {
        std::array<bool, 256> t{};
        for (const char c : kCardCharacters) t[static_cast<std::uint8_t>(c)] = true;
        t[0xA0] = true;  // a no-break space, U+00A0, read narrowed as a space
        t['\r'] = t['\n'] = true;  // a line's end: text wrapped hard (mask_plain_card_numbers)
        return t;
    }();
    constexpr std::size_t kRow = 13;
    std::array<std::uint8_t, kPiece> narrow;  // (written before it is read)
    std::size_t count = 0;
    // From each 0 byte (memchr: text with none, as most is, costs a pass of it; a branch a
    // byte over all of it cost 1.8 ns a byte), the card characters a 0 apart on its either
    // side, [lo, hi] every other byte: those before `floor` were looked at already.
    std::size_t floor = 0;
    for (std::size_t z = 0; z < n;) {
        const void* zero = std::memchr(p + z, 0, n - z);
        if (zero == nullptr) break;
        z = static_cast<std::size_t>(static_cast<const std::uint8_t*>(zero) - p);
        std::size_t lo = z + 1, hi = z;  // none yet (hi < lo)
        if (z >= 1 && z - 1 >= floor && kCard[p[z - 1]]) {
            lo = hi = z - 1;
            while (lo >= floor + 2 && p[lo - 1] == 0 && kCard[p[lo - 2]]) lo -= 2;
        }
        if (z + 1 < n && kCard[p[z + 1]]) {
            hi = z + 1;
            while (hi + 2 < n && p[hi + 1] == 0 && kCard[p[hi + 2]]) hi += 2;
        }
        if (hi >= lo && (hi - lo) / 2 + 1 >= kRow) {
            const std::size_t start = lo, chars = (hi - lo) / 2 + 1;
            for (std::size_t at = 0;;) {  // `at`: the piece's first character
                const std::size_t k = std::min(chars - at, kPiece);
                for (std::size_t i = 0; i < k; ++i) {
                    const std::uint8_t c = p[start + 2 * (at + i)];
                    narrow[i] = c == 0xA0 ? ' ' : c;
                }
                // (one in the overlap is X'd in p: not found again)
                count += mask_read(narrow.data(), k, [&](std::size_t i) { p[start + 2 * (at + i)] = 'X'; });
                if (at + k == chars) break;
                at += k - kOverlap;
            }
        }
        floor = hi >= lo ? hi + 1 : z + 1;
        z = std::max(floor, z + 1);
    }
    return count;
}

}  // namespace

std::size_t mask_card_numbers_in(std::uint8_t* p, std::size_t n) noexcept {
    const std::size_t plain = mask_plain_card_numbers(p, n);
    const std::size_t encoded = mask_encoded_card_numbers(p, n);
    return plain + encoded + mask_wide_card_numbers(p, n);
}

// H.245's UserInputIndication (ITU-T H.245: H.323's call control, in TPKT over TCP on a
// connection of its own, or tunnelled in H.225.0's Q.931 messages on 1720 as an octet
// string of h245Control): how a gateway relaying DTMF as "h245-alphanumeric" or
// "h245-signal" (Cisco's) sends each keypress, in clear. Aligned PER: IndicationMessage's
// userInput (0x6D), then the choice (0x40 alphanumeric, a GeneralString: its length, its
// characters; 0x81 signal and 0x83 extendedAlphanumeric, extensions: an open type's
// length, then the value), taken only where its place says it is a whole PDU (a TPKT
// header of its length before it, or, in a stream of TPKT packets, an octet string's
// length byte). Each keypress's
// characters become 'X' (in signal, the 8 bits of signalType after its 3-bit preamble);
// returns how many messages changed. Hand-written: no C or C++ library in Debian 12
// decodes H.245 (the encoding checked against tshark's dissector, tests/test_pcap_relay.py).
std::size_t mask_h245_user_input_in(std::uint8_t* p, std::size_t n) noexcept {
    // The octet string's one length byte is a weak anchor in other binary data (TLS: about
    // one place in 10^7 bytes): taken only in a stream of TPKT packets (H.225.0's), whose
    // start is captured.
    const bool tpkt_stream = n >= 4 && p[0] == 3 && p[1] == 0 && be16(p + 2) >= 7;
    std::size_t count = 0;
    for (std::size_t i = 0; i + 3 < n; ++i) {
        const std::uint8_t choice = p[i + 1];
        if (p[i] != 0x6D || (choice != 0x40 && choice != 0x81 && choice != 0x83)) continue;
        const std::size_t len = p[i + 2], pdu = 3 + len;
        if (len == 0 || len >= 128 || i + pdu > n) continue;
        const bool tpkt = i >= 4 && p[i - 4] == 3 && p[i - 3] == 0 && be16(p + i - 2) == pdu + 4;
        if (!tpkt && !(tpkt_stream && i >= 1 && p[i - 1] == pdu)) continue;
        std::uint8_t* v = p + i + 3;
        bool changed = false;
        const auto put = [&](std::uint8_t& b, std::uint8_t x) { changed |= b != x, b = x; };
        if (choice == 0x40) {  // alphanumeric: every character
            for (std::size_t k = 0; k < len; ++k) put(v[k], 'X');
        } else if (choice == 0x81) {  // signal: extension bit, 2 optional bits, signalType
            if (len < 2) continue;
            put(v[0], static_cast<std::uint8_t>((v[0] & 0xE0) | ('X' >> 3)));
            put(v[1], static_cast<std::uint8_t>((v[1] & 0x1F) | (('X' & 7) << 5)));
        } else {  // extendedAlphanumeric: its preamble's octet, the string's length, characters
            if (len < 2 || v[1] >= 128 || 2u + v[1] > len) continue;
            for (std::size_t k = 0; k < v[1]; ++k) put(v[2 + k], 'X');
        }
        count += changed;
        i += pdu - 1;
    }
    return count;
}

// A PBX event channel's keypress values (pcifilter/pbx.py reads the channels it recognises
// by a segment's start; this finds the same forms in any TCP stream, so that a connection
// caught mid-stream, or whose segments never start a message, keeps none either): AMI's and
// ESL's "Digit:" and "DTMF-Digit:" lines, ESL's JSON "DTMF-Digit" and XML <DTMF-Digit>,
// "api uuid_send_dtmf <uuid> <digits>" (and uuid_recv_dtmf, bgapi), ARI's "digit" and "dtmf"
// JSON values and "/dtmf?...dtmf=" query. Each value (without the blanks around it, at most
// 256 bytes) becomes X's; returns how many changed.
std::size_t mask_pbx_digits_in(std::uint8_t* p, std::size_t n) noexcept {
    const auto at_word = [&](std::size_t at, const char* w) { return word_at(p, n, at, w); };
    const auto until = [&](std::size_t at, const char* stops) { return first_of(p, n, at, stops); };
    const auto blanks = [&](std::size_t at, bool lines) {
        while (at < n && (p[at] == ' ' || p[at] == '\t' || (lines && (p[at] == '\r' || p[at] == '\n')))) ++at;
        return at;
    };
    std::size_t count = 0;
    // [a, b): the value, its blanks trimmed, masked (counted when something changed)
    const auto mask = [&](std::size_t a, std::size_t b) {
        b = std::min({b, n, a + 256});
        while (a < b && (p[a] == ' ' || p[a] == '\t')) ++a;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t')) --b;
        count += x_out(p, a, b);
    };
    for (std::size_t i = 0; i < n; ++i) {
        const bool line = i == 0 || p[i - 1] == '\n';
        if (line && (at_word(i, "digit") || at_word(i, "dtmf-digit"))) {  // AMI, ESL plain
            std::size_t at = blanks(i + (at_word(i, "dtmf-digit") ? 10 : 5), false);
            if (at < n && p[at] == ':') mask(at + 1, until(at + 1, "\r\n"));
        } else if (line && (at_word(i, "api") || at_word(i, "bgapi"))) {  // uuid_send_dtmf
            std::size_t at = blanks(i + (at_word(i, "bgapi") ? 5 : 3), false);
            if (at_word(at, "uuid_send_dtmf") || at_word(at, "uuid_recv_dtmf")) {
                at = until(blanks(at + 14, false), " \t\r\n");  // past the channel's uuid
                mask(at, until(at, "\r\n"));
            }
        } else if (p[i] == '"' && (at_word(i + 1, "dtmf-digit\"") || at_word(i + 1, "digit\"") ||
                                   at_word(i + 1, "dtmf\""))) {  // JSON
            const std::size_t name = at_word(i + 1, "dtmf-digit\"") ? 11 : at_word(i + 1, "digit\"") ? 6 : 5;
            std::size_t at = blanks(i + 1 + name, true);
            if (at < n && p[at] == ':' && (at = blanks(at + 1, true)) < n && p[at] == '"') {
                std::size_t end = at + 1;
                while (end < n && end - at <= 257 && p[end] != '"') end += p[end] == '\\' ? 2 : 1;
                mask(at + 1, end);
            }
        } else if (p[i] == '<' && at_word(i + 1, "dtmf-digit>")) {  // ESL XML
            mask(i + 12, until(i + 12, "<"));
        } else if (p[i] == '/' && at_word(i + 1, "dtmf?")) {  // ARI's POST .../dtmf?dtmf=
            const std::size_t end = until(i, " \r\n");  // the request's target
            for (std::size_t at = i + 6; at + 5 <= end; ++at)
                if (at_word(at, "dtmf=") && (p[at - 1] == '?' || p[at - 1] == '&'))
                    mask(at + 5, until(at + 5, "& \r\n"));
            i = end;  // (each byte of a target read once, however many "/dtmf?" it holds)
        }
    }
    return count;
}

// SRTP keys in SDP text wherever it is (pcifilter/sdp.py's srtp_key_spans reads the SDP of
// the messages the capture recognises; this finds the same in any datagram or stream: an ng
// connection caught mid-stream, an SDP in a log line or an application's message): after
// each "a=crypto:", on its line, every "inline:" key (up to '|', ';' or a blank); after
// each "a=key-mgmt:" and its protocol's name, the data to the line's end. A line ends at a
// line break, or at a quote or a backslash (SDP quoted in JSON: its line breaks escaped).
// Case-insensitive; each becomes X's (at most 4 KB after the attribute's name); returns how
// many keys changed.
std::size_t mask_srtp_keys_in(std::uint8_t* p, std::size_t n) noexcept {
    const auto at_word = [&](std::size_t at, const char* w) { return word_at(p, n, at, w); };
    const auto stop = [&](std::size_t at, const char* stops) { return first_of(p, n, at, stops); };
    std::size_t count = 0;
    const auto mask = [&](std::size_t a, std::size_t b) { count += x_out(p, a, b); };
    for (std::size_t i = 0; i + 9 <= n; ++i) {
        if (ascii_lower(p[i]) != 'a' || p[i + 1] != '=') continue;
        const std::size_t limit = std::min(n, i + 4096);
        if (at_word(i, "a=crypto:")) {
            const std::size_t end = std::min(limit, stop(i, "\r\n\"\\"));  // (JSON: "\r\n" escaped)
            for (std::size_t at = i + 9; at + 7 <= end; ++at) {
                if (!at_word(at, "inline:")) continue;
                const std::size_t key = at + 7, k = first_of(p, end, key, "|; \t\"\\");  // (or a NUL)
                mask(key, k);
                at = k;
            }
            i = end - 1;
        } else if (at_word(i, "a=key-mgmt:")) {
            std::size_t at = i + 11;
            while (at < limit && (p[at] == ' ' || p[at] == '\t')) ++at;
            at = std::min(limit, stop(at, " \t\r\n"));  // the protocol's name
            while (at < limit && (p[at] == ' ' || p[at] == '\t')) ++at;
            const std::size_t end = std::min(limit, stop(at, "\r\n\"\\"));
            std::size_t b = end;
            while (b > at && (p[b - 1] == ' ' || p[b - 1] == '\t')) --b;
            mask(at, b);
            i = end - 1;
        }
    }
    return count;
}

namespace {

// A client's (masked) WebSocket frame's header at s[at]; false when none fits there.
// `strict`: only a header a conforming client sends (strict_websocket_header).
bool client_frame_at(const std::vector<std::uint8_t>& s, std::size_t at, bool strict, WebSocketHeader* f) noexcept {
    if (!read_websocket_header(s.data(), s.size(), at, f) || !f->masked) return false;
    return !strict || strict_websocket_header(*f);
}

// Where a frame's payload ends: in s, or s's end when the frame goes on past it.
std::size_t payload_end(const WebSocketHeader& f, std::size_t n) noexcept {
    return f.len >= n - f.data ? n : f.data + static_cast<std::size_t>(f.len);
}

// Whether a text frame's payload, unmasked, reads as text (no control character but blanks).
bool reads_as_text(const std::vector<std::uint8_t>& s, const WebSocketHeader& f) noexcept {
    const std::size_t end = payload_end(f, s.size());
    for (std::size_t i = f.data; i < end; ++i) {
        const std::uint8_t c = s[i] ^ f.key[(i - f.data) % 4];
        if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
}

// Whether b can start a strict frame (RSV2 and RSV3 clear, a defined opcode, a control
// frame whole): a table, so that the search below takes one branch a byte of other data.
constexpr std::array<bool, 256> kFirstBytes = [] {
    std::array<bool, 256> t{};
    for (int b = 0; b < 256; ++b) {
        const int opcode = b & 0x0F;
        t[b] = (b & 0x30) == 0 && (opcode <= 2 || (opcode >= 8 && opcode <= 10 && (b & 0x80) != 0));
    }
    return t;
}();

// Where a client's frames begin in a stream caught after its handshake (its first bytes
// the rest of a frame whose header was not captured): of the places in its first 1 MiB
// from which strict frames, one after another, run to the stream's end (exactly, or the
// last cut short by it), the one with the most frames (ties: the one that ends exactly,
// then the earliest). One frame alone counts only when it is text that reads as text and
// starts the stream or ends exactly at its end. Each frame's header is read once
// (`chains[p]`: 0 not read yet, 1 no frames run from p to the end, else how many do, up
// to 127, times two, plus one when exactly; `walk` the frames followed and not yet known).
// In text (HTTP, SIP) no place qualifies; in other binary data (TLS) a short chain now and
// then does, harmlessly: its bytes are read unmasked with a wrong key, then masked back.
std::size_t client_frames_start(const std::vector<std::uint8_t>& s, std::vector<std::uint8_t>& chains,
                                std::vector<std::pair<std::size_t, std::size_t>>& walk) noexcept {
    constexpr std::size_t kWindow = std::size_t{1} << 20;
    const std::size_t n = s.size(), window = std::min(n, kWindow);
    chains.assign(n + 1, 0);
    std::size_t best = SIZE_MAX;
    unsigned best_score = 0;
    WebSocketHeader f;
    for (std::size_t p = 0; p + 1 < window; ++p) {
        if (!(kFirstBytes[s[p]] && (s[p + 1] & 0x80) != 0)) continue;
        walk.clear();  // follow the frames from p until one is known, fails or reaches the end
        for (std::size_t q = p; chains[q] == 0;) {
            if (!client_frame_at(s, q, true, &f)) {
                chains[q] = 1;
                break;
            }
            const std::size_t end = payload_end(f, n);
            if (end == n) {
                chains[q] = static_cast<std::uint8_t>(f.len > n - f.data ? 2u : 3u);  // cut, or exactly
                break;
            }
            walk.emplace_back(q, end);
            q = end;
        }
        for (std::size_t i = walk.size(); i-- > 0;) {
            const unsigned next = chains[walk[i].second];
            chains[walk[i].first] = static_cast<std::uint8_t>(next < 2 ? 1u : std::min(next + 2u, 254u + (next & 1u)));
        }
        const unsigned chain = chains[p];
        if (chain <= best_score || chain < 2) continue;
        if (chain < 4 && !((s[p] & 0x0F) == 1 && (p == 0 || (chain & 1u)) && client_frame_at(s, p, true, &f) &&
                           reads_as_text(s, f)))
            continue;
        best = p, best_score = chain;
    }
    return best;
}

}  // namespace

// A run of a TCP stream of a WebSocket client: its data frames' payloads, masked with each
// frame's key, XORed with it in place, frame after frame (a frame cut short by the run's
// end, as far as it goes; a compressed one, RSV1, left as it is: it cannot be read). From
// the end of its opening handshake (a GET with "Upgrade: websocket") when the run starts
// with it, else (a connection caught after it, or a run after a segment not captured)
// from where client_frames_start finds them. `frames` gets each payload's start and key,
// for the same call with `again` (what the first returned) to mask them again. Returns how
// many frames it read.
std::size_t unmask_websocket_client(std::vector<std::uint8_t>& s, WebSocketFrames& frames,
                                    std::size_t again) noexcept {
    auto& payloads = frames.payloads;
    const auto xor_payloads = [&] {
        for (std::size_t f = 0; f + 1 < payloads.size(); f += 2) {  // (start, key), (end, -)
            const auto& [start, key] = payloads[f];
            for (std::size_t i = start; i < payloads[f + 1].first; ++i) s[i] ^= key[(i - start) % 4];
        }
        return payloads.size() / 2;
    };
    if (again != SIZE_MAX) return again > 0 ? xor_payloads() : 0;
    payloads.clear();
    const std::size_t n = s.size();
    static constexpr char kGet[] = "GET ", kEnd[] = "\r\n\r\n", kUpgrade[] = "upgrade: websocket";
    std::size_t at = SIZE_MAX;
    if (n >= 4 && std::memcmp(s.data(), kGet, 4) == 0) {
        const std::size_t window = std::min<std::size_t>(n, 8192);  // the handshake's header block
        const std::size_t head = static_cast<std::size_t>(
            std::search(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(window), kEnd, kEnd + 4) - s.begin());
        bool upgrade = false;
        for (std::size_t i = 0; head < window && i < head && !upgrade; ++i)
            upgrade = word_at(s.data(), head, i, kUpgrade);
        if (upgrade) at = head + 4;
    }
    frames.caught_at = 0;
    if (at == SIZE_MAX) {
        at = client_frames_start(s, frames.chains, frames.walk);
        if (at < n) frames.caught_at = at;
    }
    WebSocketHeader f;
    while (at < n && client_frame_at(s, at, false, &f)) {
        const std::size_t end = payload_end(f, n);
        if ((f.first & 0x40) == 0) {  // not compressed
            payloads.push_back({f.data, f.key});
            payloads.push_back({end, f.key});
        }
        at = end;
    }
    return xor_payloads();
}

namespace {

// For each byte value, the key bytes that turn it into a card number's character: a 256-bit
// set, four words.
using KeySet = std::array<std::uint64_t, 4>;
const std::array<KeySet, 256>& card_character_keys() {
    static const std::array<KeySet, 256> table = [] {
        std::array<KeySet, 256> t{};
        for (int b = 0; b < 256; ++b)
            for (const char c : kCardCharacters) {
                const int k = b ^ static_cast<std::uint8_t>(c);
                t[b][k >> 6] |= std::uint64_t{1} << (k & 63);
            }
        return t;
    }();
    return table;
}

// Whether a XOR of two bytes is that of two card number characters.
const std::array<bool, 256>& card_character_differences() {
    static const std::array<bool, 256> table = [] {
        std::array<bool, 256> t{};
        for (const char a : kCardCharacters)
            for (const char b : kCardCharacters) t[static_cast<std::uint8_t>(a ^ b)] = true;
        return t;
    }();
    return table;
}

}  // namespace

bool masked_rest_may_hold_card(const std::uint8_t* p, std::size_t n, WebSocketFrames& scratch) {
    constexpr std::size_t kRow = 13;  // the fewest characters of a card number
    // A card number holding 13 characters in a row lies within kAround of them ("%20"
    // between its groups: 4111%201111%201111%201111, 25 characters); each read takes
    // kAhead more, so that the windows after it are read already.
    constexpr std::size_t kAround = 16, kAhead = 64;
    constexpr std::size_t kMaxKeys = std::size_t{1} << 20, kMaxReads = std::size_t{1} << 16;
    if (n < kRow) return false;
    // A rest that shows an HTTP or SIP message's version in clear is no masked frame's: a
    // client's masked bytes show one once in 2^56 places, and a client's stream holds HTTP
    // in clear only before its handshake, never after it; the text before frames found by
    // chance (the last bytes of a gzip'd body can read as frames) shows one. What it holds
    // in clear the plain sweeps read. (Looked for once, when a first window is to be read.)
    const auto in_clear = [&] {
        const std::string_view rest(reinterpret_cast<const char*>(p), n);
        return rest.find("HTTP/1.") != std::string_view::npos || rest.find("SIP/2.0") != std::string_view::npos;
    };
    bool looked_in_clear = false;
    const auto& table = card_character_keys();
    auto& read_to = scratch.keys_read;
    read_to.clear();
    std::size_t keys = 0, reads = 0;
    std::array<std::array<std::uint8_t, 256>, 4> bytes;  // each class's key bytes
    std::array<std::size_t, 4> counts;
    // Two places 4 apart share a key byte: one key byte makes both a card number's
    // characters only when their XOR is one of two such characters'. The 9 pairs of 13
    // bytes are looked at that way first (in random bytes a pair passes 1 time in 8, 9 in a
    // row about once in 130 million): 5 times faster than the key sets (1.8 against 10 ms a
    // MiB of random bytes).
    const auto& differences = card_character_differences();
    // Runs of 4 'X' or more are this library's own masking (pcifilter.pcap's, before the
    // capture's last sweep): not masked bytes of the frame. Read under a key they would
    // show a card number's characters over and over (and a run of one byte repeated shows
    // every key: a body replaced, then a reply's headers after it, was replaced whole with
    // them); so no window is read that holds one, and each read leaves them 'X' (which
    // ends a card number there). Masked bytes show 4 'X' in a row by chance once in 4
    // billion places. Looked for only where a window's pairs pass (rarely, but in a run of
    // X's everywhere: the windows up to the last such byte found are passed over at once).
    constexpr std::size_t kOurs = 4;
    const auto ours = [&](std::size_t i) {  // p[i] is in such a run
        if (p[i] != 'X') return false;
        std::size_t a = i, b = i + 1;
        while (a > 0 && i - a < kOurs - 1 && p[a - 1] == 'X') --a;
        while (b < n && b - i < kOurs && p[b] == 'X') ++b;
        return b - a >= kOurs;
    };
    // One after the last byte of such a run in the window at s, or 0.
    const auto last_ours = [&](std::size_t s) -> std::size_t {
        for (std::size_t i = s + kRow; i-- > s;)
            if (ours(i)) return i + 1;
        return 0;
    };
    std::size_t ours_until = 0;  // windows starting before it hold a byte of such a run
    std::size_t pairs = 0;  // pairs that pass, in a row, ending at the window's last
    for (std::size_t i = 0; i + 5 < kRow; ++i) pairs = differences[p[i] ^ p[i + 4]] ? pairs + 1 : 0;
    // The next window from s on whose 9 pairs pass (n when none): a loop of its own, as
    // tight as the search for them alone (most bytes are passed over in it).
    const auto next_window = [&](std::size_t s) {
        for (; s + kRow <= n; ++s) {
            pairs = differences[p[s + kRow - 5] ^ p[s + kRow - 1]] ? pairs + 1 : 0;
            if (pairs >= kRow - 4) return s;
        }
        return n;
    };
    for (std::size_t s = next_window(0); s < n; s = next_window(s + 1)) {
        if (s >= ours_until) ours_until = last_ours(s);
        if (s < ours_until) continue;
        std::array<KeySet, 4> sets;
        sets.fill({~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0}});
        bool open = true;  // every class has a key byte left
        for (std::size_t i = s; i < s + kRow && open; ++i) {
            KeySet& set = sets[i % 4];
            std::uint64_t any = 0;
            for (int w = 0; w < 4; ++w) any |= set[w] &= table[p[i]][w];
            open = any != 0;
        }
        if (!open) continue;
        if (!looked_in_clear) {
            if (in_clear()) return false;
            looked_in_clear = true;
        }
        for (int c = 0; c < 4; ++c) {
            counts[c] = 0;
            for (int k = 0; k < 256; ++k)
                if ((sets[c][k >> 6] >> (k & 63)) & 1u) bytes[c][counts[c]++] = static_cast<std::uint8_t>(k);
        }
        keys += counts[0] * counts[1] * counts[2] * counts[3];
        if (keys > kMaxKeys) return true;
        const std::size_t from = s > kAround ? s - kAround : 0, to = std::min(n, s + kRow + kAround + kAhead);
        for (std::size_t a = 0; a < counts[0]; ++a)
            for (std::size_t b = 0; b < counts[1]; ++b)
                for (std::size_t c = 0; c < counts[2]; ++c)
                    for (std::size_t d = 0; d < counts[3]; ++d) {
                        const std::array<std::uint8_t, 4> key{bytes[0][a], bytes[1][b], bytes[2][c], bytes[3][d]};
                        std::uint32_t id = 0;
                        std::memcpy(&id, key.data(), 4);
                        auto [it, added] = read_to.try_emplace(id, 0);
                        if (!added && it->second >= s + kRow + kAround) continue;  // read already
                        if (++reads > kMaxReads) return true;
                        it->second = to;
                        scratch.read.assign(p + from, p + to);
                        for (std::size_t i = from; i < to; ++i)
                            if (!ours(i)) scratch.read[i - from] ^= key[i % 4];
                        if (mask_card_numbers_in(scratch.read.data(), scratch.read.size()) > 0) return true;
                    }
    }
    return false;
}

}  // namespace pcifilter
