#pragma once
// AWS STS (query protocol, API version 2011-06-15).
#include <string>

#include "aws/aws_client.hpp"

namespace m2r::aws {

struct CallerIdentity {
  std::string account;
  std::string arn;
  std::string user_id;
};

struct AssumeRoleRequest {
  std::string role_arn;
  std::string role_session_name;
  std::string external_id;  // optional
  int duration_seconds = 0;  // 0 = the role's default (1 hour)
};

class StsClient {
 public:
  explicit StsClient(const AwsContext& context) : m_client(context, Service::sts) {}

  Expected<CallerIdentity> get_caller_identity();
  // Temporary credentials; `source` says which role they belong to.
  Expected<Credentials> assume_role(const AssumeRoleRequest& request);

  // The request parameters, exposed so tests can check them against the API model.
  static QueryParams assume_role_params(const AssumeRoleRequest& request);

 private:
  AwsClient m_client;
};

}  // namespace m2r::aws
