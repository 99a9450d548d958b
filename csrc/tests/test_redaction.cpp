// SPDX-License-Identifier: Apache-2.0
// The maskers of redaction.hpp on bytes: each finds what it names where its place says it
// is (a card number's groups, an H.245 PDU's anchor, a PBX form's name at a line start, an
// SDP attribute), replaces it by X's in place and counts it once (masked already: not
// counted again), leaves everything else as it was, and takes linear time on hostile runs;
// a WebSocket client's frames unmasked after its handshake, and masked back.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include <utility>

#include "check.hpp"
#include "pcifilter/redaction.hpp"

using namespace pcifilter;

namespace {

// A masker's count over a copy of `s`, and the copy as it left it.
template <std::size_t (*Mask)(std::uint8_t*, std::size_t) noexcept>
std::pair<std::size_t, std::string> masked_by(std::string s) {
    const std::size_t n = Mask(reinterpret_cast<std::uint8_t*>(s.data()), s.size());
    return {n, s};
}

}  // namespace

int main() {
    {  // card numbers in clear: groups of a single space, dash, "+" or "%20", or none
        const auto masked = masked_by<mask_card_numbers_in>;
        CHECK(masked("card 4111 1111 1111 1111 exp 1227") ==
              std::make_pair(std::size_t{1}, std::string("card XXXX XXXX XXXX XXXX exp 1227")));
        CHECK(masked("n=5555+5555+5555+4444&c=4111%201111%201111%201111").second ==
              "n=XXXX+XXXX+XXXX+XXXX&c=XXXX%20XXXX%20XXXX%20XXXX");
        CHECK(masked("4111 1111 1111 1111 1227").second == "XXXX XXXX XXXX XXXX 1227");  // an expiry after it
        CHECK(masked("4111111111111112").first == 0);  // the Luhn check fails
        CHECK(masked("1111111111111117").first == 0);  // no scheme's prefix
        CHECK(masked("41111111111111111111").first == 0);  // 20 digits in one group: no card
        CHECK(masked("4111  1111 1111 1111").first == 0);  // two blanks: two runs, neither a card
        // Text wrapped hard at a space in the number, the space dropped: the line's end
        // joins groups of 3-6 digits within a number written in groups, not otherwise.
        CHECK(masked("card 4111 1111\r\n1111 1111 ok") ==
              std::make_pair(std::size_t{1}, std::string("card XXXX XXXX\r\nXXXX XXXX ok")));
        CHECK(masked("card 4111\n1111 1111 1111 ok").second == "card XXXX\nXXXX XXXX XXXX ok");
        CHECK(masked("amex 3782 822463\r\n10005.").second == "amex XXXX XXXXXX\r\nXXXXX.");
        CHECK(masked("4111\n1111\n1111\n1111").first == 0);  // numbers one a line: not one number
        CHECK(masked("41111111\r\n11111111").first == 0);  // a plain number cut by a wrap: not read
        CHECK(masked("4111 1111 1111 11\n11").first == 0);  // 2 digits after the line's end
        CHECK(masked("4111 1111\r\n\r\n1111 1111").first == 0);  // a blank line between: two runs
        const std::string line(40, 'a');  // a line ended by a wrap is long; a table's rows are not
        CHECK(masked("x\n" + line + " 4111 1111\n1111 1111 x").first == 1);
        CHECK(masked("x\nrow 4111 1111\n1111 1111 x").first == 0);
        CHECK(masked(line + " 4111 11111\n111 1111 x").first == 0);  // 4-5-3-4: no card's layout
        CHECK(masked(line + " 4111 11111 111 1111 x").first == 1);  // (unwrapped, any grouping)
        CHECK(masked(line + " 4111 1111 1111 1111\n123 x").first == 1);  // 4-4-4-4-3 ... or 4-4-4-4
        std::string hostile;  // digits and separators over and over: linear
        while (hostile.size() < (1u << 20)) hostile += "1 2-3+";
        CHECK(masked(hostile).first == 0);
    }
    {  // H.245 UserInputIndication: masked where its place says it is a whole PDU
        const auto masked = masked_by<mask_h245_user_input_in>;
        CHECK(masked(std::string("\x03\x00\x00\x08\x6d\x40\x01" "7", 8)) ==
              std::make_pair(std::size_t{1}, std::string("\x03\x00\x00\x08\x6d\x40\x01" "X", 8)));
        const std::string tpkt("\x03\x00\x00\x20\x08\x02", 6);  // a stream of TPKT packets (H.225.0)
        CHECK(masked(tpkt + std::string("\x05\x6d\x40\x02" "12", 6)).second == tpkt + std::string("\x05\x6d\x40\x02" "XX", 6));
        CHECK(masked(std::string("\x05\x6d\x40\x02" "12", 6)).first == 0);  // the same in other data: no
        CHECK(masked(tpkt + std::string("\x09\x6d\x40\x02" "12", 6)).first == 0);  // no length before it
        CHECK(masked(tpkt + std::string("\x06\x6d\x40\x03" "12", 6)).first == 0);  // longer than what is left
        CHECK(masked(tpkt + std::string("\x04\x6d\x81\x01\x46", 5)).first == 0);  // a signal too short
        CHECK(masked(tpkt + std::string("\x07\x6d\x83\x04\x00\x05" "11", 8)).first == 0);  // its string overruns
        CHECK(masked(tpkt + std::string("\x05\x6d\x40\x02" "XX", 6)).first == 0);  // masked already: not counted
    }
    {  // SRTP keys in SDP text wherever it is
        const auto masked = masked_by<mask_srtp_keys_in>;
        CHECK(masked("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY1|2^20|1:4;inline:KEY2\r\na=x") ==
              std::make_pair(std::size_t{2}, std::string("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:XXXX|2^20|1:4;inline:XXXX\r\na=x")));
        CHECK(masked("\"sdp\":\"v=0\\r\\na=crypto:1 AES inline:KEY\\r\\nm=audio\"").second ==
              "\"sdp\":\"v=0\\r\\na=crypto:1 AES inline:XXX\\r\\nm=audio\"");  // JSON, escaped
        CHECK(masked("A=KEY-MGMT:mikey AQAFgM0X \r\n").second == "A=KEY-MGMT:mikey XXXXXXXX \r\n");
        CHECK(masked("a=crypto:1 AES inline:XXX\r\n").first == 0);  // masked already
        CHECK(masked("inline:KEY without its attribute").first == 0);
        std::string hostile;  // attribute names over and over, no line end: linear (masked
        while (hostile.size() < (1u << 20)) hostile += "a=crypto:inline:";  // 4 KB at a time)
        CHECK(masked(hostile).first == (1u << 20) / 4096);
    }
    {  // a PBX's keypress values wherever they are in a stream
        const auto masked = masked_by<mask_pbx_digits_in>;
        CHECK(masked("ent: DTMFEnd\r\nDigit: 5\r\nDirection: Received\r\n") ==
              std::make_pair(std::size_t{1}, std::string("ent: DTMFEnd\r\nDigit: X\r\nDirection: Received\r\n")));
        CHECK(masked("x\nDTMF-Digit: %23\n").second == "x\nDTMF-Digit: XXX\n");
        CHECK(masked("{\"DTMF-Digit\": \"7\", \"x\": 1}").second == "{\"DTMF-Digit\": \"X\", \"x\": 1}");
        CHECK(masked("<DTMF-Digit>4</DTMF-Digit>").second == "<DTMF-Digit>X</DTMF-Digit>");
        CHECK(masked("bgapi uuid_send_dtmf 1a2b 4111@100\r\n").second == "bgapi uuid_send_dtmf 1a2b XXXXXXXX\r\n");
        CHECK(masked("{\"type\":\"ChannelDtmfReceived\",\"digit\":\"9\"}").second ==
              "{\"type\":\"ChannelDtmfReceived\",\"digit\":\"X\"}");
        CHECK(masked("POST /ari/channels/c1/dtmf?between=9&dtmf=5678 HTTP/1.1").second ==
              "POST /ari/channels/c1/dtmf?between=9&dtmf=XXXX HTTP/1.1");
        CHECK(masked("a Digit: 5 in a line\r\nDigits: 12\r\n").first == 0);  // not at a line's start; another name
        CHECK(masked("x\nDigit: X\r\n").first == 0);  // masked already: not counted
        std::string hostile(1 << 20, 'a');  // "/dtmf?" over and over in one target: linear
        for (std::size_t i = 0; i + 6 < hostile.size(); i += 6) hostile.replace(i, 6, "/dtmf?");
        CHECK(masked(hostile).first == 0);
    }
    {  // a WebSocket client's masked frames, unmasked after its handshake and masked back
        const std::string handshake = "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
        const std::uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
        std::string frames;
        for (const std::string text : {"card 4111", " 1111 1111 1111"}) {
            frames += std::string{'\x81', static_cast<char>(0x80 | text.size())};
            frames.append(reinterpret_cast<const char*>(key), 4);
            for (std::size_t i = 0; i < text.size(); ++i) frames += static_cast<char>(text[i] ^ key[i % 4]);
        }
        std::vector<std::uint8_t> s(handshake.begin(), handshake.end());
        s.insert(s.end(), frames.begin(), frames.end());
        const std::vector<std::uint8_t> before = s;
        WebSocketFrames where;
        const std::size_t n = unmask_websocket_client(s, where);
        CHECK(n == 2);
        const std::string plain(s.begin(), s.end());
        CHECK(plain.find("card 4111") != std::string::npos && plain.find(" 1111 1111 1111") != std::string::npos);
        CHECK(unmask_websocket_client(s, where, n) == 2 && s == before);  // masked back as it was
    }
    {  // a client caught after its handshake: its frames found where they run to the end
        std::mt19937 rng(7);
        const auto frame = [&](const std::string& text, std::uint8_t first = 0x81) {
            std::string f{static_cast<char>(first)};
            if (text.size() < 126) {
                f += static_cast<char>(0x80 | text.size());
            } else {
                f += '\xFE';
                f += static_cast<char>(text.size() >> 8), f += static_cast<char>(text.size() & 0xFF);
            }
            std::uint8_t key[4];
            for (auto& k : key) k = static_cast<std::uint8_t>(rng());
            f.append(reinterpret_cast<const char*>(key), 4);
            for (std::size_t i = 0; i < text.size(); ++i) f += static_cast<char>(text[i] ^ key[i % 4]);
            return f;
        };
        const auto unmasked = [](const std::string& stream, std::size_t* frames_read = nullptr) {
            std::vector<std::uint8_t> s(stream.begin(), stream.end());
            WebSocketFrames where;
            const std::size_t n = unmask_websocket_client(s, where);
            if (frames_read != nullptr) *frames_read = n;
            std::string plain(s.begin(), s.end());
            unmask_websocket_client(s, where, n);
            CHECK(std::string(s.begin(), s.end()) == stream);  // masked back as it was
            return plain;
        };
        std::string typed;  // a card typed into a chat, a keystroke a frame
        for (const char c : std::string("4111 1111 1111 1111")) typed += frame(std::string(1, c));
        const std::string tail = frame(std::string(300, 'x')).substr(150);  // a frame's rest, no header
        std::size_t read = 0;
        CHECK(unmasked(tail + typed, &read).find("4111 1111 1111 1111") == std::string::npos);  // a byte a frame
        CHECK(read == 19);
        const std::string plain = unmasked(tail + typed);
        std::string digits;
        for (std::size_t i = tail.size(); i < plain.size(); i += 7) digits += plain[i + 6];
        CHECK(digits == "4111 1111 1111 1111");
        // one message, cut by the run's end (a segment after it not captured)
        const std::string pasted = frame("{\"text\":\"card 4111 1111 1111 1111 exp 12/27\"}");
        CHECK(unmasked(tail + pasted + frame(std::string(200, 'y')).substr(0, 40)).find("card 4111") != std::string::npos);
        CHECK(unmasked(pasted.substr(0, pasted.size() - 5)).find("card 4111") != std::string::npos);  // starts the run
        CHECK(unmasked(tail + pasted).find("card 4111") != std::string::npos);  // ends it exactly
        // a ping and a binary frame among them
        CHECK(unmasked(tail + frame("ping", 0x89) + frame("\x01\x02", 0x82) + pasted).find("card 4111") != std::string::npos);
        // a server's frames (not masked), text and other binary data: nothing read
        CHECK(unmasked(std::string("\x81\x05hello\x81\x05world")) == "\x81\x05hello\x81\x05world");
        std::size_t none = 1;
        unmasked("POST /chat HTTP/1.1\r\nContent-Length: 19\r\n\r\n4111 1111 1111 1111", &none);
        CHECK(none == 0);
        std::string tiny;  // 1 MiB of empty frames: each header read once, all of them found
        while (tiny.size() < (1u << 20)) tiny += std::string("\x81\x80\x01\x02\x03\x04", 6);
        unmasked("xx" + tiny, &read);
        CHECK(read == tiny.size() / 6);
        std::string random(1 << 16, '\0');
        for (auto& c : random) c = static_cast<char>(rng());
        unmasked(random);  // whatever it finds there, masked back as it was
    }
    {  // card numbers written in base64 (either alphabet, padded or not) and in hex
        static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const auto base64 = [](const std::string& in, bool url) {
            std::string out;
            for (std::size_t i = 0; i < in.size(); i += 3) {
                std::uint32_t v = 0;
                const std::size_t k = std::min<std::size_t>(3, in.size() - i);
                for (std::size_t q = 0; q < 3; ++q) v = (v << 8) | (q < k ? static_cast<std::uint8_t>(in[i + q]) : 0u);
                for (std::size_t q = 0; q < k + 1; ++q) {
                    char c = kB64[(v >> (18 - 6 * q)) & 63];
                    if (url && (c == '+' || c == '/')) c = c == '+' ? '-' : '_';
                    out += c;
                }
            }
            return out;
        };
        const auto hex = [](const std::string& in) {
            std::string out;
            for (const char c : in) {
                static constexpr char kDigits[] = "0123456789abcdef";
                out += kDigits[static_cast<std::uint8_t>(c) >> 4], out += kDigits[c & 15];
            }
            return out;
        };
        const auto decoded_digits = [&](const std::string& masked_text) {  // X's decode to no digit
            return masked_text.find("4111") == std::string::npos;
        };
        int found = 0, cases = 0;
        for (std::size_t lead = 0; lead < 3; ++lead)  // each alignment of the card in its groups
            for (const std::size_t before : {std::size_t{0}, std::size_t{2030}, std::size_t{3000}})  // across pieces
                for (const int form : {0, 1, 2, 3}) {
                    const std::string text = std::string(before + lead, 'a') + "{\"pan\":\"4111 1111 1111 1111\",\"cvv\":\"123\"}";
                    const std::string enc = form == 3 ? hex(text) : base64(text, form == 1) + (form == 2 ? "" : "==");
                    auto [n, out] = masked_by<mask_card_numbers_in>("token=" + enc + "&next=1");
                    ++cases;
                    found += n == 1 && out.size() == enc.size() + 13 && out.find('X') != std::string::npos;
                    // what is left decodes to no card number: the changed characters are whole groups
                    const std::string rest = out.substr(6, enc.size());
                    std::string back;
                    if (form == 3) {
                        for (std::size_t i = 0; i + 1 < rest.size(); i += 2) {
                            const auto v = [](char c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? 0 : c - '0'; };
                            back += static_cast<char>(v(rest[i]) * 16 + v(rest[i + 1]));
                        }
                    } else {
                        for (std::size_t i = 0; i + 3 < rest.size(); i += 4) {
                            std::uint32_t v = 0;
                            for (std::size_t q = 0; q < 4; ++q) {
                                const char c = rest[i + q] == '-' ? '+' : rest[i + q] == '_' ? '/' : rest[i + q];
                                const char* at = std::strchr(kB64, c);
                                v = (v << 6) | static_cast<std::uint32_t>(at != nullptr && c != 0 ? at - kB64 : 0);
                            }
                            back += static_cast<char>(v >> 16), back += static_cast<char>(v >> 8), back += static_cast<char>(v);
                        }
                    }
                    CHECK(decoded_digits(back));
                }
        CHECK(found == cases);
        // in lines (MIME's 76 characters, PEM's 64), a card number cut by a line break
        int wrapped = 0, wraps = 0;
        for (const std::size_t width : {std::size_t{76}, std::size_t{64}})
            for (std::size_t lead = 0; lead < 60; ++lead) {
                const std::string enc = base64(std::string(lead, 'x') + "card 4111 1111 1111 1111 exp 12/27 ok", false);
                std::string lines;
                for (std::size_t i = 0; i < enc.size(); i += width) lines += enc.substr(i, width) + "\r\n";
                ++wraps;
                wrapped += masked_by<mask_card_numbers_in>(lines).first == 1;
            }
        CHECK(wrapped == wraps);
        // runs of base64 that hold no card: nothing changes
        std::mt19937 rng(4);
        std::size_t changed = 0;
        for (int t = 0; t < 200; ++t) {
            std::string s;
            for (int i = 0; i < 5000; ++i) s += kB64[rng() % 64];
            changed += masked_by<mask_card_numbers_in>(s).first;
            std::string text;
            for (int i = 0; i < 2000; ++i) text += static_cast<char>('a' + rng() % 26);
            changed += masked_by<mask_card_numbers_in>(base64(text, false)).first;
        }
        CHECK(changed == 0);  // (text in hex is dense in decimal digits: their runs pass for a
                              // card number one time in ten, hex decoding or not)
    }
    {  // a no-break space (UTF-8) between the groups, as a number pasted from a page has it
        auto [n, out] = masked_by<mask_card_numbers_in>("card 4111\xC2\xA0" "1111\xC2\xA0" "1111\xC2\xA0" "1111 ok");
        CHECK(n == 1 && out == "card XXXX\xC2\xA0XXXX\xC2\xA0XXXX\xC2\xA0XXXX ok");
    }
    {  // card numbers in UTF-16 text, either byte order, at either byte parity
        const auto wide = [](const std::string& text, bool big_endian) {
            std::string out;
            for (const char c : text) out += big_endian ? std::string{'\0', c} : std::string{c, '\0'};
            return out;
        };
        int found = 0, cases = 0;
        for (const bool big_endian : {false, true})
            for (const std::string& lead : {std::string(), std::string("\x01"), std::string(3001, 'q')})
                for (const char* card : {"4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005"}) {
                    const std::string sql = "INSERT INTO pay VALUES (N'" + std::string(card) + "', N'12/27')";
                    auto [n, out] = masked_by<mask_card_numbers_in>(lead + wide(sql, big_endian));
                    ++cases;
                    std::string narrow;
                    for (const char c : out)
                        if (c != '\0') narrow += c;
                    found += n == 1 && narrow.find(card) == std::string::npos &&
                             narrow.find("INSERT INTO pay VALUES (N'") != std::string::npos;
                }
        CHECK(found == cases);
        // wide text with digits but no card number, and a card's digits a 0 apart only in part
        CHECK(masked_by<mask_card_numbers_in>(wide("order 123456789012, call 0207 946 0958", false)).first == 0);
        CHECK(masked_by<mask_card_numbers_in>(wide("4111 1111", false) + "1111 1111").first == 0);
        // wrapped hard (a line's end in place of a space), as in narrow text
        const std::string note = "note: the caller's card is 4111 1111\r\n1111 1111, expiry 12/27";
        for (const bool big_endian : {false, true})
            CHECK(masked_by<mask_card_numbers_in>(wide(note, big_endian)).first == 1);
    }
    {  // any bytes, of the kinds each reading looks for (digits, separators, 0 bytes, base64
       // and hex characters): the same length back, and nothing changed but to 'X'
        std::mt19937 rng(12);
        static constexpr char kKinds[] = "0123456789 -+%/AZaf\0\xA0\xC2q";
        int wrong = 0;
        for (int t = 0; t < 20000; ++t) {
            std::string s(rng() % 3000, '\0');
            for (auto& c : s) c = kKinds[rng() % (sizeof kKinds - 1)];
            const auto [n, out] = masked_by<mask_card_numbers_in>(s);
            bool ok = out.size() == s.size();
            for (std::size_t i = 0; ok && i < s.size(); ++i) ok = out[i] == s[i] || out[i] == 'X';
            wrong += !ok || (n == 0 && out != s);
        }
        CHECK(wrong == 0);
    }
    {  // the rest of a client's frame whose header and key were not captured
        std::mt19937 rng(9);
        const auto masked = [&](const std::string& text, std::size_t at) {  // `at`: where the key starts
            std::uint8_t key[4];
            for (auto& k : key) k = static_cast<std::uint8_t>(rng());
            std::vector<std::uint8_t> s(text.begin(), text.end());
            for (std::size_t i = 0; i < s.size(); ++i) s[i] ^= key[(i + at) % 4];
            return s;
        };
        WebSocketFrames scratch;
        const auto holds = [&](const std::vector<std::uint8_t>& s) {
            return masked_rest_may_hold_card(s.data(), s.size(), scratch);
        };
        int with_card = 0;
        for (const char* card : {"4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005",
                                 "4111+1111+1111+1111", "4111%201111%201111%201111", "6011111111111117"})
            for (std::size_t at = 0; at < 4; ++at)
                for (const std::string& around : {std::string("\":\"my card is "), std::string("x")})
                    with_card += holds(masked(around + card + "\", \"exp\": \"12/27\"}", at));
        CHECK(with_card == 48);
        // Other text: no 13 card characters in a row. (A number that is no card, 13 digits
        // or more, is taken too: under one key or another its digits read as a card number,
        // as a reader trying keys would read them.)
        int other = 0;
        for (std::size_t at = 0; at < 4; ++at)
            for (const char* text : {"{\"text\":\"hello, I would like to pay for order 123456 please\"}",
                                     "{\"type\":\"typing\",\"at\":\"2026-12-01T22:05:00Z\"}"})
                other += holds(masked(text, at));
        CHECK(other == 0);
        CHECK(holds(masked("call me on +44 20 7946 0958 0000", 1)));
        CHECK(!holds(masked("4111 1111 1111", 0)));  // no more than 13 characters, no card
        int random_held = 0;
        for (int t = 0; t < 2000; ++t) {
            std::vector<std::uint8_t> s(1400);
            for (auto& c : s) c = static_cast<std::uint8_t>(rng());
            random_held += holds(s);
        }
        CHECK(random_held == 0);
        // a run of one byte repeated shows every key for every 13 bytes: taken to hold one
        // after a bounded number of keys, not read under each of them
        CHECK(holds(std::vector<std::uint8_t>(1 << 20, 0x31)));
        // Runs of 'X' are masking done before (a body replaced): not read as the frame's
        // bytes, so a reply's headers after them are not taken for a card number (in 1 run
        // in 100 the compressed body after them showed frames: the headers were replaced);
        // a card number masked beside them is still found, whatever the run's length.
        const std::string reply = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 29\r\n\r\n";
        const auto after_xs = [](std::size_t xs, const std::vector<std::uint8_t>& tail) {
            std::vector<std::uint8_t> s(xs, 'X');
            s.insert(s.end(), tail.begin(), tail.end());
            return s;
        };
        const std::vector<std::uint8_t> plain(reply.begin(), reply.end());
        CHECK(!holds(after_xs(5052, plain)));
        CHECK(!holds(after_xs(13, plain)));
        const std::vector<std::uint8_t> headers(plain.begin() + 17, plain.end());  // no status line
        CHECK(!holds(after_xs(5052, headers)));
        CHECK(!holds(after_xs(1 << 20, {})));
        int beside = 0;
        for (const std::size_t xs : {4, 5, 13, 100, 5052})
            for (std::size_t at = 0; at < 4; ++at) {
                beside += holds(after_xs(xs, masked("4111111111111111 ok", at)));
                std::vector<std::uint8_t> s = masked("card 5555555555554444", at);
                s.insert(s.end(), xs, 'X');
                beside += holds(s);
            }
        CHECK(beside == 40);
        // Text in clear before frames found by chance (the last bytes of a gzip'd body):
        // no masked frame's rest when it shows an HTTP or SIP version, whatever numbers it
        // holds (a 13-digit time in ms reads as a card number under some key, and was taken
        // for one)
        for (const std::string text : {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"at\": 1733100000000}",
                                       "SIP/2.0 200 OK\r\nCall-ID: 1733100000000-42@10.0.0.1\r\n\r\n"}) {
            CHECK(!holds(std::vector<std::uint8_t>(text.begin(), text.end())));
            const std::string bare = text.substr(text.find("\r\n"));
            CHECK(holds(std::vector<std::uint8_t>(bare.begin(), bare.end())));
        }
    }
    return CHECK_DONE();
}
