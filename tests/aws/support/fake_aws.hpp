#pragma once
// An AwsContext wired to a FakeHttpTransport and a FakeClock, for unit tests of clients.
#include <filesystem>
#include <memory>
#include <string>

#include "aws/aws_context.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_transport.hpp"

namespace m2r::test {

inline std::filesystem::path fixture(const std::string& relative) {
  return std::filesystem::path(MSSQL2RDS_SOURCE_DIR) / "tests" / "aws" / "fixtures" / relative;
}

struct FakeAws {
  std::shared_ptr<aws::FakeHttpTransport> http = std::make_shared<aws::FakeHttpTransport>();
  std::shared_ptr<aws::FakeClock> clock =
      std::make_shared<aws::FakeClock>(*aws::parse_amz_date("20261125T100000Z"));
  aws::Credentials credentials{"AKIDFAKE", "fake/secret+key", "", std::nullopt, "profile 'unit' (/home/u/.aws/credentials)"};
  aws::AwsContext context;

  explicit FakeAws(std::string endpoint = "http://127.0.0.1:9", std::string region = "us-east-1") {
    context = aws::AwsContext::for_endpoint(credentials, std::move(region), std::move(endpoint), http, clock);
  }
};

}  // namespace m2r::test
