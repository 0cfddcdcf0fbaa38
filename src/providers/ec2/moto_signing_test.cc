// SigV4 end to end: a moto_server that verifies every signature.
#include "providers/ec2/http.h"
#include "providers/ec2/moto_fixture.h"
#include "providers/ec2/query.h"

namespace lifeline::ec2 {
namespace {

// moto verifies SigV4 signatures once INITIAL_NO_AUTH_ACTION_COUNT requests
// have been served: six unchecked IAM/STS calls make a user with an access
// key and an ec2:* policy, and a role assumed for temporary credentials;
// every later request must be signed with those keys (and carry the
// session token), exactly as AWS checks it.
TEST_F(Ec2MotoTest, SignaturesVerifyAndABadSecretIsRejected) {
  auto verifying =
      MotoServer::Start(seconds(60), {"INITIAL_NO_AUTH_ACTION_COUNT=6"});
  ASSERT_TRUE(verifying.ok()) << verifying.status().ToString();
  const std::string endpoint = (*verifying)->endpoint();
  CurlHttp http;
  auto iam = [&](const std::string& params, const std::string& service = "iam",
                 const std::string& version =
                     "2010-05-08") -> Result<Ec2Response> {
    HttpRequest req;
    req.url = endpoint + "/";
    req.body = "Version=" + version + "&" + params;
    req.aws_sigv4 = "aws:amz:us-east-1:" + service;
    req.user_pwd = "test:test";
    req.headers = {"Content-Type: application/x-www-form-urlencoded"};
    auto r = http.Perform(req);
    if (!r.ok()) return r.status();
    if (r->status != 200) return Internal(r->body);
    return ParseDocument(r->body);
  };
  ASSERT_TRUE(iam("Action=CreateUser&UserName=lifeline").ok());
  auto key = iam("Action=CreateAccessKey&UserName=lifeline");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string id =
      Text(key->root(), "CreateAccessKeyResult/AccessKey/AccessKeyId");
  const std::string secret =
      Text(key->root(), "CreateAccessKeyResult/AccessKey/SecretAccessKey");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(iam("Action=PutUserPolicy&UserName=lifeline&PolicyName=ec2&"
                  "PolicyDocument=" +
                  FormEncode(R"({"Version":"2012-10-17","Statement":[{)"
                             R"("Effect":"Allow","Action":"ec2:*",)"
                             R"("Resource":"*"}]})"))
                  .ok());
  const std::string kPolicy =
      FormEncode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                 R"("Action":"ec2:*","Resource":"*"}]})");
  const std::string kTrust =
      FormEncode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                 R"("Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]})");
  auto role =
      iam("Action=CreateRole&RoleName=ops&AssumeRolePolicyDocument=" + kTrust);
  ASSERT_TRUE(role.ok()) << role.status().ToString();
  ASSERT_TRUE(
      iam("Action=PutRolePolicy&RoleName=ops&PolicyName=ec2&PolicyDocument=" +
          kPolicy)
          .ok());
  auto assumed =
      iam("Action=AssumeRole&RoleSessionName=lifeline&RoleArn=" +
              FormEncode(Text(role->root(), "CreateRoleResult/Role/Arn")),
          "sts", "2011-06-15");
  ASSERT_TRUE(assumed.ok()) << assumed.status().ToString();
  AwsCredentials temporary;
  temporary.access_key_id =
      Text(assumed->root(), "AssumeRoleResult/Credentials/AccessKeyId");
  temporary.secret_access_key =
      Text(assumed->root(), "AssumeRoleResult/Credentials/SecretAccessKey");
  temporary.session_token =
      Text(assumed->root(), "AssumeRoleResult/Credentials/SessionToken");
  ASSERT_FALSE(temporary.session_token.empty());

  Ec2Config good = Config();
  good.endpoint = endpoint;
  good.credentials = {id, secret, "", std::nullopt};
  Ec2Config bad = good;
  bad.credentials.secret_access_key = "not-the-secret";
  Ec2Config with_token = good;
  with_token.credentials = temporary;
  Ec2Config bad_token = with_token;
  bad_token.credentials.session_token = "forged";
  std::unique_ptr<Ec2Provider> signed_ok, signed_bad, session_ok, session_bad;
  OnLoop([&] {
    signed_ok = std::make_unique<Ec2Provider>(*loop_, good);
    signed_bad = std::make_unique<Ec2Provider>(*loop_, bad);
    session_ok = std::make_unique<Ec2Provider>(*loop_, with_token);
    session_bad = std::make_unique<Ec2Provider>(*loop_, bad_token);
  });

  // A body with every kind of character the encoder must get right.
  LaunchRequest req = Request("signed group", "tok/with:odd+chars=&");
  req.spec.tags["Note"] = "spaces, commas; quotes \"and\" ünïcödé";
  req.spec.user_data = "#!/bin/sh\necho 'a+b=c&d'\n";
  auto launched = Call<InstanceInfo>(
      [&](auto done) { signed_ok->Launch(req, std::move(done)); });
  ASSERT_TRUE(launched.ok()) << launched.status().ToString();
  EXPECT_EQ(launched->group, "signed group");
  EXPECT_EQ(launched->launch_token, "tok/with:odd+chars=&");
  EXPECT_EQ(launched->tags.at("Note"), req.spec.tags["Note"]);

  Status s = CallStatus(
      [&](auto done) { signed_bad->Reboot(launched->id, std::move(done)); });
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("AuthFailure"), std::string::npos) << s.message();
  OnLoop([&] {
    signed_ok.reset();
    signed_bad.reset();
  });
}

}  // namespace
}  // namespace lifeline::ec2
