#include "aws/sts_client.hpp"

#include <fmt/format.h>
#include <pugixml.hpp>

namespace m2r::aws {

Expected<CallerIdentity> StsClient::get_caller_identity() {
  auto response = M2R_TRY(m_client.call_query("GetCallerIdentity", {}, Idempotent::yes));
  auto doc = M2R_TRY(parse_xml(response.body, "GetCallerIdentity"));
  pugi::xml_node result = doc->child("GetCallerIdentityResponse").child("GetCallerIdentityResult");
  CallerIdentity id{result.child_value("Account"), result.child_value("Arn"), result.child_value("UserId")};
  if (id.arn.empty()) return fail(ErrorKind::fatal, "sts GetCallerIdentity: the response has no Arn");
  return id;
}

QueryParams StsClient::assume_role_params(const AssumeRoleRequest& request) {
  QueryParams params{{"RoleArn", request.role_arn}, {"RoleSessionName", request.role_session_name}};
  if (!request.external_id.empty()) params.emplace_back("ExternalId", request.external_id);
  if (request.duration_seconds > 0) params.emplace_back("DurationSeconds", std::to_string(request.duration_seconds));
  return params;
}

Expected<Credentials> StsClient::assume_role(const AssumeRoleRequest& request) {
  auto response = M2R_TRY(m_client.call_query("AssumeRole", assume_role_params(request), Idempotent::yes,
                                               "role " + request.role_arn));
  auto doc = M2R_TRY(parse_xml(response.body, "AssumeRole"));
  pugi::xml_node c = doc->child("AssumeRoleResponse").child("AssumeRoleResult").child("Credentials");
  Credentials creds;
  creds.access_key_id = c.child_value("AccessKeyId");
  creds.secret_access_key = c.child_value("SecretAccessKey");
  creds.session_token = c.child_value("SessionToken");
  creds.source = "role " + request.role_arn;
  if (auto t = parse_iso8601(c.child_value("Expiration"))) creds.expiration = *t;
  if (creds.access_key_id.empty() || creds.secret_access_key.empty())
    return fail(ErrorKind::fatal, fmt::format("sts AssumeRole of {}: the response has no credentials", request.role_arn));
  return creds;
}

}  // namespace m2r::aws
