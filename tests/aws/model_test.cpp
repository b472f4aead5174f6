// Every request the typed clients build, checked against botocore's API models (the
// authoritative shapes, docs/facts.md §4): the operation exists, required members are present,
// every member we send exists and has the right type (and enum value).
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "aws/checksums.hpp"
#include "aws/cloudwatch_client.hpp"
#include "aws/dms_client.hpp"
#include "aws/rds_client.hpp"
#include "aws/s3_client.hpp"
#include "aws/sts_client.hpp"
#include "support/fake_aws.hpp"

namespace m2r::aws {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using Errors = std::vector<std::string>;

const fs::path k_models = "/usr/lib/python3/dist-packages/awscli/botocore/data";

class Model {
 public:
  explicit Model(const std::string& service_and_version) {
    std::ifstream in(k_models / service_and_version / "service-2.json");
    if (in) m_model = json::parse(in, nullptr, false);
  }
  bool loaded() const { return m_model.is_object(); }
  bool has_operation(const std::string& op) const { return m_model["operations"].contains(op); }
  const json& operation(const std::string& op) const { return m_model["operations"][op]; }
  const json& shape(const std::string& name) const { return m_model["shapes"][name]; }
  std::string input_shape(const std::string& op) const { return operation(op)["input"]["shape"].get<std::string>(); }

  // ---- JSON protocol ----
  void check_json(const std::string& shape_name, const json& value, const std::string& path, Errors& errors) const {
    const json& s = shape(shape_name);
    const std::string type = s["type"];
    if (type == "structure") {
      if (!value.is_object()) return errors.push_back(path + ": expected an object");
      for (const auto& required : s.value("required", json::array()))
        if (!value.contains(required.get<std::string>())) errors.push_back(path + ": required " + required.get<std::string>() + " missing");
      for (const auto& [key, v] : value.items()) {
        if (!s["members"].contains(key)) {
          errors.push_back(path + ": " + key + " is not a member of " + shape_name);
          continue;
        }
        check_json(s["members"][key]["shape"], v, path + "." + key, errors);
      }
    } else if (type == "list") {
      if (!value.is_array()) return errors.push_back(path + ": expected an array");
      for (size_t i = 0; i < value.size(); ++i) check_json(s["member"]["shape"], value[i], fmt::format("{}[{}]", path, i), errors);
    } else if (type == "map") {
      if (!value.is_object()) return errors.push_back(path + ": expected a map");
    } else if (type == "string") {
      if (!value.is_string()) return errors.push_back(path + ": expected a string");
      check_enum(s, value.get<std::string>(), path, errors);
    } else if (type == "integer" || type == "long") {
      if (!value.is_number_integer()) errors.push_back(path + ": expected an integer");
    } else if (type == "boolean") {
      if (!value.is_boolean()) errors.push_back(path + ": expected a boolean");
    } else if (type == "double" || type == "float" || type == "timestamp") {
      if (!value.is_number()) errors.push_back(path + ": expected a number");
    }
  }

  // ---- query protocol: "A.member.1.B" keys ----
  void check_query(const std::string& op, const std::vector<std::pair<std::string, std::string>>& params, Errors& errors) const {
    std::map<std::string, std::pair<std::string, std::set<std::string>>> structures;  // prefix -> shape, members seen
    for (const auto& [key, value] : params) {
      if (key == "Action" || key == "Version") continue;
      std::vector<std::string> tokens;
      for (size_t start = 0;;) {
        size_t dot = key.find('.', start);
        tokens.push_back(key.substr(start, dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      walk_query(input_shape(op), tokens, 0, "", value, key, structures, errors);
    }
    structures[""].first = input_shape(op);
    for (const auto& [prefix, entry] : structures)
      for (const auto& required : shape(entry.first).value("required", json::array()))
        if (!entry.second.count(required.get<std::string>()))
          errors.push_back(fmt::format("{}: required {}{} missing", op, prefix, required.get<std::string>()));
  }

  void check_enum(const json& s, const std::string& value, const std::string& path, Errors& errors) const {
    if (!s.contains("enum")) return;
    for (const auto& allowed : s["enum"])
      if (allowed == value) return;
    errors.push_back(path + ": '" + value + "' is not one of the enum values");
  }

  void check_scalar(const std::string& shape_name, const std::string& value, const std::string& path, Errors& errors) const {
    const json& s = shape(shape_name);
    const std::string type = s["type"];
    if (type == "integer" || type == "long") {
      if (value.empty() || value.find_first_not_of("-0123456789") != std::string::npos) errors.push_back(path + ": not an integer: " + value);
    } else if (type == "boolean") {
      if (value != "true" && value != "false") errors.push_back(path + ": not a boolean: " + value);
    } else if (type == "double" || type == "float") {
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (value.empty() || *end) errors.push_back(path + ": not a number: " + value);
    } else if (type == "timestamp") {
      if (!parse_iso8601(value)) errors.push_back(path + ": not an ISO 8601 timestamp: " + value);
    } else if (type == "string") {
      check_enum(s, value, path, errors);
    } else {
      errors.push_back(path + ": a " + type + " cannot take a scalar");
    }
  }

 private:
  void walk_query(const std::string& shape_name, const std::vector<std::string>& tokens, size_t i, const std::string& prefix,
                  const std::string& value, const std::string& key,
                  std::map<std::string, std::pair<std::string, std::set<std::string>>>& structures, Errors& errors) const {
    const json& s = shape(shape_name);
    const std::string type = s["type"];
    if (type == "structure") {
      if (i >= tokens.size()) return errors.push_back(key + ": a structure needs a member");
      const json* member = nullptr;
      std::string member_name;
      for (const auto& [name, m] : s["members"].items())
        if (m.value("locationName", name) == tokens[i]) {
          member = &m;
          member_name = name;
        }
      if (!member) return errors.push_back(key + ": " + tokens[i] + " is not a member of " + shape_name);
      structures[prefix].first = shape_name;
      structures[prefix].second.insert(member_name);
      walk_query((*member)["shape"], tokens, i + 1, prefix + tokens[i] + ".", value, key, structures, errors);
    } else if (type == "list") {
      size_t index_at = i;
      if (!s.value("flattened", false)) {
        const std::string expected = s["member"].value("locationName", std::string("member"));
        if (i >= tokens.size() || tokens[i] != expected)
          return errors.push_back(key + ": list " + shape_name + " items are '" + expected + ".N'");
        index_at = i + 1;
      }
      if (index_at >= tokens.size() || tokens[index_at].find_first_not_of("0123456789") != std::string::npos ||
          tokens[index_at] == "0")
        return errors.push_back(key + ": list index must be 1, 2, ...");
      std::string next_prefix = prefix;
      for (size_t k = i; k <= index_at; ++k) next_prefix += tokens[k] + ".";
      walk_query(s["member"]["shape"], tokens, index_at + 1, next_prefix, value, key, structures, errors);
    } else {
      if (i != tokens.size()) return errors.push_back(key + ": " + shape_name + " is a scalar");
      check_scalar(shape_name, value, key, errors);
    }
  }

  json m_model;
};

std::vector<std::pair<std::string, std::string>> parse_form(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  auto decode = [](std::string s) {
    for (auto& c : s)
      if (c == '+') c = ' ';
    return uri_decode(s);
  };
  size_t start = 0;
  while (start <= body.size() && !body.empty()) {
    size_t amp = body.find('&', start);
    std::string pair = body.substr(start, amp - start);
    size_t eq = pair.find('=');
    out.emplace_back(decode(pair.substr(0, eq)), eq == std::string::npos ? "" : decode(pair.substr(eq + 1)));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

void expect_models_present(const Model& model, const std::string& name) {
  ASSERT_TRUE(model.loaded()) << "botocore model " << name << " not found under " << k_models
                              << " — install the Debian awscli package (scripts/install-deps.sh)";
}

// Every recorded query-protocol request against its model.
void check_query_requests(const Model& model, const std::vector<RecordedRequest>& requests, size_t expected) {
  ASSERT_EQ(requests.size(), expected);
  for (const auto& r : requests) {
    auto params = parse_form(r.body);
    ASSERT_FALSE(params.empty());
    ASSERT_EQ(params[0].first, "Action");
    const std::string op = params[0].second;
    ASSERT_TRUE(model.has_operation(op)) << op;
    Errors errors;
    model.check_query(op, params, errors);
    EXPECT_TRUE(errors.empty()) << op << ":\n" << fmt::format("{}", fmt::join(errors, "\n"));
  }
}

TEST(ModelTest, ValidatorCatchesWrongRequests) {
  // Given requests that break the model (unknown member, wrong list form, missing required, bad type, bad enum),
  // the checks should report each: otherwise the passes below mean nothing.
  Model rds("rds/2014-10-31");
  expect_models_present(rds, "rds");
  Errors errors;
  rds.check_query("ModifyOptionGroup", {{"OptionGroupName", "g"}, {"OptionsToInclude.member.1.OptionName", "X"}}, errors);
  EXPECT_EQ(errors.size(), 1u);  // the list's items are OptionConfiguration.N
  errors.clear();
  rds.check_query("DescribeDBInstances", {{"DBInstanceIdentifer", "x"}, {"MaxRecords", "many"}}, errors);
  EXPECT_EQ(errors.size(), 2u);
  Model dms("dms/2016-01-01");
  expect_models_present(dms, "dms");
  errors.clear();
  dms.check_json(dms.input_shape("StartReplicationTask"),
                 {{"ReplicationTaskArn", 5}, {"StartReplicationTaskType", "go"}, {"Extra", true}}, "$", errors);
  EXPECT_EQ(errors.size(), 3u);
  errors.clear();
  dms.check_json(dms.input_shape("CreateReplicationTask"), json::object(), "$", errors);
  EXPECT_EQ(errors.size(), 6u);
}

TEST(ModelTest, StsRequestsMatchTheModel) {
  // Given GetCallerIdentity and AssumeRole as StsClient sends them, each should match sts/2011-06-15.
  Model model("sts/2011-06-15");
  expect_models_present(model, "sts");
  test::FakeAws fake;
  fake.http->set_handler([](const RecordedRequest&) -> Expected<HttpResponse> { return HttpResponse{500, {}, ""}; });
  fake.context.retry = std::make_shared<RetryPolicy>(RetryOptions{1}, nullptr, fake.clock);
  (void)StsClient(fake.context).get_caller_identity();
  (void)StsClient(fake.context).assume_role({"arn:aws:iam::123456789012:role/r", "m2r-session", "ext", 3600});
  check_query_requests(model, fake.http->requests(), 2);
}

TEST(ModelTest, RdsRequestsMatchTheModel) {
  // Given the describe calls (with identifier and paging marker), each should match rds/2014-10-31.
  Model model("rds/2014-10-31");
  expect_models_present(model, "rds");
  test::FakeAws fake;
  fake.http->set_handler([](const RecordedRequest&) -> Expected<HttpResponse> { return HttpResponse{500, {}, ""}; });
  fake.context.retry = std::make_shared<RetryPolicy>(RetryOptions{1}, nullptr, fake.clock);
  (void)RdsClient(fake.context).describe_db_instances("target-db");
  (void)RdsClient(fake.context).describe_option_groups("backup-og");
  (void)RdsClient(fake.context).describe_option_groups();
  check_query_requests(model, fake.http->requests(), 3);
  Errors errors;
  model.check_query("DescribeDBInstances", RdsClient::describe_db_instances_params(std::string("x"), "marker-2"), errors);
  EXPECT_TRUE(errors.empty());
}

TEST(ModelTest, CloudWatchRequestsMatchTheModel) {
  // Given GetMetricStatistics with dimensions and PutMetricData with two datums, each should match cloudwatch/2010-08-01.
  Model model("cloudwatch/2010-08-01");
  expect_models_present(model, "cloudwatch");
  test::FakeAws fake;
  fake.http->set_handler([](const RecordedRequest&) -> Expected<HttpResponse> { return HttpResponse{500, {}, ""}; });
  fake.context.retry = std::make_shared<RetryPolicy>(RetryOptions{1}, nullptr, fake.clock);
  const auto now = fake.clock->now();
  const std::vector<MetricDimension> dims{{"ReplicationInstanceIdentifier", "ri"}, {"ReplicationTaskIdentifier", "ABC"}};
  (void)CloudWatchClient(fake.context)
      .get_metric_statistics({"AWS/DMS", "CDCLatencyTarget", dims, now - std::chrono::hours(1), now, 60, {"Average", "Maximum"}});
  (void)CloudWatchClient(fake.context)
      .put_metric_data("mssql2rds", {{"BytesUploaded", 1.5e9, "Bytes", dims, now}, {"PartsDone", 3, "Count", {}, {}}});
  check_query_requests(model, fake.http->requests(), 2);
  EXPECT_EQ(fake.http->requests()[0].header("Authorization")->find("/monitoring/aws4_request") != std::string::npos, true);
}

TEST(ModelTest, DmsRequestsMatchTheModel) {
  // Given every DmsClient call, each JSON body should match dms/2016-01-01 for the operation in X-Amz-Target.
  Model model("dms/2016-01-01");
  expect_models_present(model, "dms");
  test::FakeAws fake;
  fake.http->set_handler([](const RecordedRequest&) -> Expected<HttpResponse> { return HttpResponse{200, {}, "{}"}; });
  DmsClient dms(fake.context);
  const std::vector<DmsFilter> filters{{"replication-task-arn", {"arn:aws:dms:us-east-1:123456789012:task:A"}}};
  CreateReplicationTaskRequest task{"m2r-sales", "arn:src", "arn:tgt", "arn:ri", "cdc",
                                    R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})",
                                    R"({"TargetMetadata":{"TargetTablePrepMode":"DO_NOTHING"}})", "00000025:00000b8f:0004", {},
                                    "server_time:2026-11-25T12:00:00"};
  ASSERT_TRUE(dms.create_replication_task(task));
  task.cdc_start_position.reset();
  task.cdc_start_time = fake.clock->now();
  ASSERT_TRUE(dms.create_replication_task(task));
  ASSERT_TRUE(dms.start_replication_task("arn:task", "start-replication", std::string("00000025:00000b8f:0004")));
  ASSERT_TRUE(dms.start_replication_task("arn:task", "resume-processing"));
  ASSERT_TRUE(dms.stop_replication_task("arn:task"));
  ASSERT_TRUE(dms.delete_replication_task("arn:task"));
  ASSERT_TRUE(dms.describe_replication_tasks(filters));
  ASSERT_TRUE(dms.describe_table_statistics("arn:task"));
  CreateEndpointRequest endpoint{"m2r-source", "source", "sqlserver", "db.example", 1433, "sales", "dms_user", "pw", "", "none",
                                 json{{"SafeguardPolicy", "rely-on-sql-server-replication-agent"}, {"ReadBackupOnly", false}}};
  ASSERT_TRUE(dms.create_endpoint(endpoint));
  ASSERT_TRUE(dms.describe_endpoints({{"endpoint-arn", {"arn:e"}}}));
  ASSERT_TRUE(dms.create_replication_instance({"m2r-ri", "dms.t3.medium", 50, "3.5.3", false, false}));
  ASSERT_TRUE(dms.describe_replication_instances({{"replication-instance-id", {"m2r-ri"}}}));
  ASSERT_TRUE(dms.test_connection("arn:ri", "arn:e"));
  ASSERT_TRUE(dms.describe_connections({{"endpoint-arn", {"arn:e"}}}));

  auto requests = fake.http->requests();
  ASSERT_EQ(requests.size(), 14u);
  std::set<std::string> operations;
  for (const auto& r : requests) {
    const std::string target = r.header("X-Amz-Target").value_or("");
    ASSERT_TRUE(target.starts_with("AmazonDMSv20160101.")) << target;
    const std::string op = target.substr(target.find('.') + 1);
    ASSERT_TRUE(model.has_operation(op)) << op;
    operations.insert(op);
    Errors errors;
    model.check_json(model.input_shape(op), json::parse(r.body), op, errors);
    EXPECT_TRUE(errors.empty()) << fmt::format("{}", fmt::join(errors, "\n"));
  }
  EXPECT_EQ(operations.size(), 12u);
}

// REST-XML: method, path, the literal query of the requestUri, querystring and header
// members by their locationName, the XML payload's element names.
void check_s3_request(const Model& model, const std::string& op, const RecordedRequest& r, const std::string& path) {
  SCOPED_TRACE(op);
  ASSERT_TRUE(model.has_operation(op));
  const json& http = model.operation(op)["http"];
  EXPECT_EQ(r.method, http["method"].get<std::string>());
  const std::string target = r.target();
  const std::string wire_path = target.substr(0, target.find('?'));
  EXPECT_EQ(wire_path, path);
  std::string query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
  std::set<std::string> query_names;
  std::map<std::string, std::string> query_values;
  for (const auto& [k, v] : parse_form(query)) {
    query_names.insert(k);
    query_values[k] = v;
  }
  const std::string uri = http["requestUri"];
  if (auto q = uri.find('?'); q != std::string::npos) {
    const std::string literal = uri.substr(q + 1);
    EXPECT_TRUE(query_names.count(literal)) << "missing ?" << literal;
    query_names.erase(literal);
  }
  const json& input = model.shape(model.input_shape(op));
  std::set<std::string> required;
  for (const auto& name : input.value("required", json::array())) required.insert(name);
  for (const auto& [name, member] : input["members"].items()) {
    const std::string location = member.value("location", "");
    const std::string wire = member.value("locationName", name);
    if (location == "querystring" && query_names.count(wire)) {
      Errors errors;
      model.check_scalar(member["shape"], query_values[wire], wire, errors);
      EXPECT_TRUE(errors.empty()) << fmt::format("{}", fmt::join(errors, "\n"));
      query_names.erase(wire);
      required.erase(name);
    }
    if (location == "uri") required.erase(name);  // checked through the path
    if (location == "header" && r.header(wire)) required.erase(name);
    if (member.value("location", "").empty() && input.value("payload", "") == name && !r.body.empty()) required.erase(name);
  }
  EXPECT_TRUE(query_names.empty()) << "query parameters not in the model: " << fmt::format("{}", fmt::join(query_names, ","));
  EXPECT_TRUE(required.empty()) << "required members missing: " << fmt::format("{}", fmt::join(required, ","));
  static const std::set<std::string> k_transport = {"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token",
                                                    "authorization", "content-length"};
  for (const auto& [name, value] : r.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (k_transport.count(lower)) continue;
    bool known = false;
    for (const auto& [member_name, member] : input["members"].items()) {
      std::string wire = member.value("locationName", member_name);
      std::transform(wire.begin(), wire.end(), wire.begin(), [](unsigned char c) { return std::tolower(c); });
      if (member.value("location", "") == "header" && wire == lower) {
        known = true;
        Errors errors;
        model.check_scalar(member["shape"], value, name, errors);
        EXPECT_TRUE(errors.empty()) << fmt::format("{}", fmt::join(errors, "\n"));
      }
    }
    // Content-Type of an XML payload is the protocol's, not a member.
    if (lower == "content-type" && input.contains("payload")) known = true;
    EXPECT_TRUE(known) << "header " << name << " is not a member of " << op << "'s input";
  }
}

TEST(ModelTest, S3RequestsMatchTheModel) {
  // Given each S3Client call (path style), method, path, query and headers should match s3/2006-03-01.
  Model model("s3/2006-03-01");
  expect_models_present(model, "s3");
  test::FakeAws fake;
  S3Client s3(fake.context);
  const std::string bucket = "m2r-backups", key = "sales/full 1.bak";
  const std::string object_path = "/m2r-backups/sales/full%201.bak";
  auto& http = *fake.http;
  http.push(200, "");
  ASSERT_TRUE(s3.head_bucket(bucket));
  http.push(200, "<LocationConstraint>eu-west-1</LocationConstraint>");
  EXPECT_EQ(s3.get_bucket_location(bucket), "eu-west-1");
  http.push(200, "", {{"Content-Length", "42"}});
  ASSERT_TRUE(s3.head_object(bucket, key));
  http.push(200, "", {{"ETag", "\"e\""}});
  ASSERT_TRUE(s3.put_object(bucket, key, "hello", {"text/plain", md5_base64("hello"), "AAAAAA=="}));
  http.push(206, "ell");
  ASSERT_TRUE(s3.get_object(bucket, key, ByteRange{1, 3}));
  http.push(200, "<InitiateMultipartUploadResult><UploadId>u/1+</UploadId></InitiateMultipartUploadResult>");
  auto upload = s3.create_multipart_upload(bucket, key, "CRC32C");
  ASSERT_TRUE(upload);
  http.push(200, "", {{"ETag", "\"p1\""}});
  ASSERT_TRUE(s3.upload_part({bucket, key, *upload, 1, "part", md5_base64("part"), "AAAAAA=="}));
  http.push(200, "<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>1</NextPartNumberMarker>"
                 "<Part><PartNumber>1</PartNumber><ETag>\"p1\"</ETag><Size>4</Size></Part></ListPartsResult>");
  http.push(200, "<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>");
  auto parts = s3.list_parts(bucket, key, *upload);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->size(), 1u);
  http.push(200, "<CompleteMultipartUploadResult><ETag>\"x-1\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(s3.complete_multipart_upload(bucket, key, *upload, {{1, "\"p1\"", "AAAAAA==", 4}}));
  http.push(204, "");
  ASSERT_TRUE(s3.abort_multipart_upload(bucket, key, *upload));
  http.push(200, "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>");
  ASSERT_TRUE(s3.list_multipart_uploads(bucket, "sales/"));

  auto rq = http.requests();
  ASSERT_EQ(rq.size(), 12u);
  const std::string bucket_path = "/m2r-backups";
  check_s3_request(model, "HeadBucket", rq[0], bucket_path);
  check_s3_request(model, "GetBucketLocation", rq[1], bucket_path);
  check_s3_request(model, "HeadObject", rq[2], object_path);
  check_s3_request(model, "PutObject", rq[3], object_path);
  check_s3_request(model, "GetObject", rq[4], object_path);
  check_s3_request(model, "CreateMultipartUpload", rq[5], object_path);
  check_s3_request(model, "UploadPart", rq[6], object_path);
  check_s3_request(model, "ListParts", rq[7], object_path);
  check_s3_request(model, "ListParts", rq[8], object_path);
  check_s3_request(model, "CompleteMultipartUpload", rq[9], object_path);
  check_s3_request(model, "AbortMultipartUpload", rq[10], object_path);
  check_s3_request(model, "ListMultipartUploads", rq[11], bucket_path);
  EXPECT_NE(rq[8].target().find("part-number-marker=1"), std::string::npos);

  // The CompleteMultipartUpload payload: root and element names from the model.
  const json& payload_member = model.shape("CompleteMultipartUploadRequest")["members"]["MultipartUpload"];
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(rq[9].body.c_str()));
  EXPECT_EQ(std::string(doc.document_element().name()), payload_member["locationName"].get<std::string>());
  const json& completed = model.shape(payload_member["shape"]);
  const std::string part_element = completed["members"]["Parts"]["locationName"];
  const json& part_shape = model.shape(model.shape(completed["members"]["Parts"]["shape"])["member"]["shape"]);
  int parts_seen = 0;
  for (pugi::xml_node child : doc.document_element().children()) {
    EXPECT_EQ(std::string(child.name()), part_element);
    ++parts_seen;
    for (pugi::xml_node field : child.children())
      EXPECT_TRUE(part_shape["members"].contains(field.name())) << field.name();
  }
  EXPECT_EQ(parts_seen, 1);
}

}  // namespace
}  // namespace m2r::aws
