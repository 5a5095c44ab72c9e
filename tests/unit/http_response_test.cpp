// The response side of a forwarded request: the upstream's head as the
// client is told it, for a connection the proxy closes after one response.
#include "proxy/http_response.hpp"

#include <gtest/gtest.h>

#include "http_head.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace sbpolicy::proxy {
namespace {

using namespace std::string_view_literals;

using http_testing::head;

// The rewritten head, or "502 " and the reason.
std::string rewrite(std::string_view bytes) {
  auto result = rewrite_response_head(bytes);
  if (const auto* e = std::get_if<std::string>(&result)) return "502 " + *e;
  return std::get<ResponseHead>(result).head;
}

TEST(HttpResponse, TheClientIsToldTheConnectionCloses) {
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Length: 2"})),
            head({"HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Length: 2", "Connection: close"}));
  // A keep-alive the upstream offers is not the proxy's to give.
  EXPECT_EQ(rewrite(head({"HTTP/1.1 304 Not Modified", "Connection: keep-alive", "Keep-Alive: timeout=5",
                          "ETag: \"x\""})),
            head({"HTTP/1.1 304 Not Modified", "ETag: \"x\"", "Connection: close"}));
  // HTTP/1.0 without a length: delimited by the close, as it is to the client.
  EXPECT_EQ(rewrite(head({"HTTP/1.0 200 OK", "Server: old"})), head({"HTTP/1.1 200 OK", "Server: old", "Connection: close"}));
}

TEST(HttpResponse, HopByHopFieldsGoButTheFramingStays) {
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "Connection: x-trace, Transfer-Encoding", "X-Trace: 1",
                          "Proxy-Connection: keep-alive", "Upgrade: h2c", "Transfer-Encoding: chunked"})),
            head({"HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Connection: close"}));
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "Close: x", "Content-Length: 0"})),
            head({"HTTP/1.1 200 OK", "Content-Length: 0", "Connection: close"}));
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "connection: content-length", "Content-Length: 10"})),
            head({"HTTP/1.1 200 OK", "Content-Length: 10", "Connection: close"}));
}

TEST(HttpResponse, InterimResponsesPassAndTheFinalOneFollows) {
  auto r = rewrite_response_head(head({"HTTP/1.1 100 Continue"}));
  ASSERT_TRUE(std::holds_alternative<ResponseHead>(r));
  EXPECT_TRUE(std::get<ResponseHead>(r).interim);
  EXPECT_EQ(std::get<ResponseHead>(r).head, head({"HTTP/1.1 100 Continue"}));
  r = rewrite_response_head(head({"HTTP/1.1 103 Early Hints", "Link: </a.css>; rel=preload"}));
  ASSERT_TRUE(std::holds_alternative<ResponseHead>(r));
  EXPECT_TRUE(std::get<ResponseHead>(r).interim);
  EXPECT_EQ(std::get<ResponseHead>(r).status, 103u);
  r = rewrite_response_head(head({"HTTP/1.1 204 No Content"}));
  ASSERT_TRUE(std::holds_alternative<ResponseHead>(r));
  EXPECT_FALSE(std::get<ResponseHead>(r).interim);
}

TEST(HttpResponse, BadHeadsAreRefused) {
  EXPECT_EQ(rewrite(head({"HTTP/1.1 101 Switching Protocols", "Upgrade: websocket"})),
            "502 the upstream switched protocols, which the request did not ask for");
  EXPECT_EQ(rewrite("HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n"), "502 bad response: line feed without carriage return");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "X-A: a", " folded"})), "502 bad response: folded header line (obs-fold)");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "X-A: a\x1b[2Kb"})), "502 bad response: control byte in the response head");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "X-A: a\0b"sv})), "502 bad response: control byte in the response head");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "Bad Name: x"})).substr(0, 17), "502 bad response:");
  EXPECT_EQ(rewrite(head({"SSH-2.0-OpenSSH"})).substr(0, 17), "502 bad response:");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 2000 OK"})).substr(0, 17), "502 bad response:");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 010 Continue"})), "502 bad response: status 10");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 600 Beyond"})), "502 bad response: status 600");
  EXPECT_EQ(rewrite(head({"HTTP/1.1 200 OK", "X-Big: " + std::string(kMaxResponseHead, 'a')})),
            "502 response head over 64 KiB");
}

}  // namespace
}  // namespace sbpolicy::proxy
